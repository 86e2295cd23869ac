"""Every notebook runs top to bottom in FAST mode (outputs go to a temp folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import has_dataset

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted([*ROOT.glob("*.ipynb"), *ROOT.glob("bonus/*.ipynb")])
# The datasets each notebook reads; without them the notebook stops at its first cell that loads data
DATASETS = {"part_2_autoencoder": ("nab",), "nab_benchmark": ("nab",), "part_4_transformer": ("imdb", "nltk_data"),
            "part_4_pretrain": ("imdb", "nltk_data"),
            "vit": ("cnn_dataset",), "efficientnet": ("cnn_dataset",)}


def test_every_notebook_names_its_datasets():
    assert {p.stem for p in NOTEBOOKS} == set(DATASETS)


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.relative_to(ROOT).as_posix() for p in NOTEBOOKS])
def test_notebook_runs_fast(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import papermill as pm

    missing = [name for name in DATASETS[path.stem] if not has_dataset(name)]
    if missing:
        pytest.skip(f"dataset(s) {missing} not available; set A2_DATA_DIR")

    monkeypatch.setenv("A2_OUTPUT_DIR", str(tmp_path / "outputs"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    out = tmp_path / path.name
    pm.execute_notebook(str(path), str(out), parameters={"FAST": True}, cwd=str(path.parent),
                        kernel_name="python3", progress_bar=False)
    assert out.exists()
    assert any((tmp_path / "outputs" / "results").glob("*.json")), "the notebook wrote no results JSON"
