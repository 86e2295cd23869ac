"""The README's run-time table: generated from results files and notebook metadata, never typed."""

import json
from pathlib import Path

import pytest

from a2 import runtimes
from a2.errors import DataError
from a2.runtime import REPO_ROOT


def _notebook(path: Path, duration: float | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {} if duration is None else {"papermill": {"duration": duration}}
    path.write_text(json.dumps({"cells": [], "metadata": meta}))


def test_table_reads_runtime_s_then_papermill_and_sums(tmp_path):
    _notebook(tmp_path / "part_2_autoencoder.ipynb", 999.0)  # runtime_s wins over papermill's figure
    _notebook(tmp_path / "bonus/vit.ipynb", 120.0)
    _notebook(tmp_path / "bonus/efficientnet.ipynb", None)
    results = {"part_2": {"runtime_s": 30.0, "device": "cpu"}, "bonus": {"device": "cuda", "fast": True}}
    table = runtimes.runtime_table(results, tmp_path)
    lines = table.splitlines()
    assert "| `part_2_autoencoder.ipynb` | 30 s | cpu | `results/part_2.json` runtime_s |" in lines
    assert any(line.startswith("| `bonus/vit.ipynb` (FAST) | 2 min (120 s) | cuda | papermill") for line in lines)
    assert any("efficientnet" in line and "not recorded" in line for line in lines)
    assert "2 min (150 s) (without the unrecorded)" in lines[-1]
    assert "nab_benchmark" not in table  # a notebook that does not exist has no row


def test_on_request_notebooks_are_listed_but_not_summed(tmp_path):
    _notebook(tmp_path / "part_2_autoencoder.ipynb", None)
    _notebook(tmp_path / "part_4_pretrain.ipynb", None)
    results = {"part_2": {"runtime_s": 60.0}, "part_4_pretrain": {"runtime_s": 1800.0}}
    lines = runtimes.runtime_table(results, tmp_path).splitlines()
    assert any(line.startswith("| `part_4_pretrain.ipynb` (on request, not in `make run`) | 30 min") for line in lines)
    assert "| **1 min (60 s)** |" in lines[-1] and "without the on-request ones" in lines[-1]


def test_readme_block_is_generated():
    text = (REPO_ROOT / "README.md").read_text()
    block = text.split(runtimes.START)[1].split(runtimes.END)[0].strip()
    expected = runtimes.runtime_table(runtimes.load_all_results(REPO_ROOT / "results"), REPO_ROOT)
    assert block == expected, "README run-time table is stale: run `python main.py --update-readme`"


def test_update_readme_needs_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"a\n{runtimes.START}\nold\n{runtimes.END}\nb\n")
    assert runtimes.update_readme("| new |", readme) and "| new |" in readme.read_text()
    assert not runtimes.update_readme("| new |", readme)
    readme.write_text("no markers")
    with pytest.raises(DataError, match="markers"):
        runtimes.update_readme("| new |", readme)
