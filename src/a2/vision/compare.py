"""The names the committed bonus notebooks call, kept until their next run calls the modules below.

* :mod:`a2.vision.experiment`  train and evaluate one model under the shared recipe
* :mod:`a2.vision.store`       record runs in ``results/bonus.json``; reuse one only on request
* :mod:`a2.vision.tables`      comparison, per-class, parameter and budget tables
* :mod:`a2.vision.analysis`    misclassified images and ViT attention maps
"""

from __future__ import annotations

from functools import partial

from a2.vision.analysis import attention_maps, misclassified  # noqa: F401
from a2.vision.experiment import Recipe, make_preprocess  # noqa: F401
from a2.vision.store import (
    stored_train_times,  # noqa: F401
    train_or_reuse,
)
from a2.vision.tables import comparison_table  # noqa: F401

# used by bonus notebooks until their next run: they reuse stored runs without asking for it.
load_or_train = partial(train_or_reuse, reuse=True)
