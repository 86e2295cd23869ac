"""Shared test set-up: headless plotting, offline data, and outputs kept out of the repo."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]
if "A2_DATA_DIR" not in os.environ and (REPO.parent / "shared" / "data").is_dir():
    os.environ["A2_DATA_DIR"] = str((REPO.parent / "shared" / "data").resolve())
os.environ.setdefault("A2_NO_DOWNLOAD", "1")  # tests never reach for the internet


@pytest.fixture(autouse=True, scope="session")
def _outputs_in_tmp(tmp_path_factory: pytest.TempPathFactory):
    """Results and weights written by tests go to a temporary folder, never to results/."""
    os.environ["A2_OUTPUT_DIR"] = str(tmp_path_factory.mktemp("outputs"))
    yield


def has_dataset(name: str) -> bool:
    from a2.datasets import REGISTRY, _is_complete, candidate_dirs

    return any(_is_complete(d, REGISTRY[name]) for d in candidate_dirs(name))


def needs_dataset(name: str):
    """Skip marker for tests that read a real dataset (set A2_DATA_DIR to run them)."""
    return pytest.mark.skipif(not has_dataset(name), reason=f"dataset {name!r} not available; set A2_DATA_DIR")
