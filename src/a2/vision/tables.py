"""The bonus notebooks' tables: one row per model, named as trained ("VGG-13 (width 0.25, 0.69M params)").

The notebooks show these instead of assembling DataFrames in their cells, so both notebooks print
the same tables from the same code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import pandas as pd

from a2.params import count_on_meta
from a2.vision.experiment import Outcome
from a2.vision.images import ImageData, IndexSplit
from a2.vision.models import DISPLAY_NAMES, PUBLISHED_PARAMS, stored_label, variant_label
from a2.vision.spec import ModelSpec

Runs = Mapping[str, Outcome] | Mapping[str, Mapping[str, Any]]


def _entry(item: Outcome | Mapping[str, Any]) -> Mapping[str, Any]:
    return item.entry if isinstance(item, Outcome) else item


def run_label(name: str, item: Outcome | Mapping[str, Any]) -> str:
    """The honest name of a run, e.g. "VGG-13 (width 0.25, 0.69M params)"."""
    return stored_label(name, _entry(item))


def outcome_line(outcome: Outcome) -> str:
    """One plain line per run, saying whether this notebook trained it or loaded a stored run."""
    how = (f"loaded from {outcome.entry['weights']} (trained earlier with identical settings)" if outcome.reused
           else "trained in this run")
    return f"{run_label(outcome.name, outcome)}: {how}, test accuracy {outcome.entry['test_accuracy']:.2%}"


def comparison_table(outcomes: Runs) -> pd.DataFrame:
    """One row per model: accuracy/loss per split, macro F1, parameters, time and throughput."""
    rows = {}
    for name, item in outcomes.items():
        e = _entry(item)
        m = e["metrics"]
        rows[run_label(name, item)] = {
            "params": e["params"], "train acc": m["train"]["accuracy"], "val acc": m["val"]["accuracy"],
            "test acc": m["test"]["accuracy"], "test loss": m["test"]["loss"], "test macro F1": e["test_f1"],
            "epochs": e["epochs_run"], "train s": e["train_s"], "train img/s": e["train_images_per_s"],
            "eval img/s": e["eval_images_per_s"],
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def per_class_table(outcomes: Runs) -> pd.DataFrame:
    """Test precision, recall, F1 and support per class, one block of rows per model."""
    return pd.concat({run_label(n, o): pd.DataFrame(_entry(o)["metrics"]["test"]["per_class"]).T
                      for n, o in outcomes.items()}, names=["model", "class"])


def size_table(specs: Mapping[str, ModelSpec]) -> pd.DataFrame:
    """Canonical (counted on ``meta``), published and trained parameter counts for each model in ``specs``.

    Both counts come from the spec's own class (a notebook's cell, where it defines one), at the
    config's ``canonical()`` setting and at the trained one.
    """
    rows = {}
    for name, spec in specs.items():
        canonical = count_on_meta(lambda spec=spec: spec.model_cls(type(spec.config).canonical()))
        trained = count_on_meta(lambda spec=spec: spec.model_cls(spec.config))
        config = asdict(spec.config)
        rows[DISPLAY_NAMES.get(name, name)] = {
            "canonical (1000 classes, 224 px)": canonical, "published": PUBLISHED_PARAMS.get(name),
            f"trained here ({config.get('num_classes')} classes, 64 px)": trained,
            "trained variant": variant_label(name, config, trained)}
    return pd.DataFrame.from_dict(rows, orient="index")


def split_counts(data: ImageData, split: IndexSplit) -> pd.DataFrame:
    """Images per class (rows) in each split (columns): the stratification at a glance."""
    return pd.DataFrame({part: pd.Series(data.labels[getattr(split, part)].numpy()).map(dict(enumerate(data.classes)))
                         .value_counts() for part in ("train", "val", "test")})


def budget_summary(train_times: Mapping[str, float], budget_s: float = 3600, expected: int = 4) -> str:
    """One markdown sentence: total training time of the stored runs against the time budget."""
    total = sum(train_times.values())
    if len(train_times) < expected:
        verdict = f"only {len(train_times)} of {expected} models have a stored run so far"
    else:
        verdict = f"{'within' if total <= budget_s else 'over'} the {budget_s / 60:.0f}-minute budget"
    parts = ", ".join(f"{DISPLAY_NAMES.get(n, n)} {s / 60:.1f} min" for n, s in train_times.items())
    return f"Training time of {len(train_times)} models: **{total / 60:.1f} min**, {verdict} ({parts})."
