"""Committed notebooks hold the run itself: no widget state (frozen progress bars, widget models)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from a2.notebooks import WIDGET_VIEW, strip_file, strip_widgets, widget_state

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted([*REPO.glob("*.ipynb"), *REPO.glob("bonus/*.ipynb")])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.relative_to(REPO).as_posix() for p in NOTEBOOKS])
def test_committed_notebook_has_no_widget_state(path: Path):
    found = widget_state(json.loads(path.read_text(encoding="utf-8")))
    assert not found, (f"{path.relative_to(REPO)} holds widget state ({'; '.join(found[:5])}); rerun it "
                       "non-interactively (python main.py) or run `python -m a2.notebooks strip-widgets` on it")


def _nb() -> dict:
    bar = {"output_type": "display_data", "metadata": {},
           "data": {WIDGET_VIEW: {"model_id": "abc", "version_major": 2}, "text/plain": "  0%|          | 0/40"}}
    text = {"output_type": "stream", "name": "stdout", "text": "epoch 1/40 loss 0.12\n"}
    table = {"output_type": "execute_result", "execution_count": 3, "metadata": {},
             "data": {"text/html": "<table/>", "text/plain": "   a\n0  1"}}
    state = {"application/vnd.jupyter.widget-state+json": {}}
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "python3"}, "widgets": state},
            "cells": [{"cell_type": "code", "metadata": {}, "source": "fit()", "execution_count": 3,
                       "outputs": [text, bar, table]},
                      {"cell_type": "markdown", "metadata": {}, "source": "# text"}]}  # fmt: skip


def test_widget_state_is_found():
    assert widget_state(_nb()) == ["metadata.widgets", "cell 0: 1 widget output(s)"]


def test_strip_keeps_every_other_output():
    nb = _nb()
    clean = strip_widgets(nb)
    assert widget_state(clean) == []
    assert [o["output_type"] for o in clean["cells"][0]["outputs"]] == ["stream", "execute_result"]
    assert clean["cells"][0]["outputs"][0]["text"] == "epoch 1/40 loss 0.12\n"
    assert clean["metadata"] == {"kernelspec": {"name": "python3"}} and clean["cells"][1] == nb["cells"][1]
    assert widget_state(nb)  # the input is not modified


def test_strip_file_in_place(tmp_path):
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(_nb()))
    assert strip_file(path) is True
    assert widget_state(json.loads(path.read_text())) == []
    assert strip_file(path) is False
