"""a2.vision.compare keeps every name the committed bonus notebooks call, until their next run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from a2.vision import compare
from a2.vision.store import train_or_reuse

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(ROOT.glob("bonus/*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_compare_name_a_bonus_notebook_calls_exists(path):
    code = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")
    called = set(re.findall(r"\bcompare\.(\w+)", code))
    assert called and not {name for name in called if not hasattr(compare, name)}


def test_load_or_train_keeps_the_notebooks_reuse_behaviour():
    assert compare.load_or_train.func is train_or_reuse and compare.load_or_train.keywords == {"reuse": True}
