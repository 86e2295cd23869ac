"""The package's copies of notebook definitions are generated from the notebooks' ``#@save`` cells."""

import json

import pytest

from a2 import notebooks
from a2.errors import A2Error
from a2.runtime import REPO_ROOT


def _notebook(path, *sources):
    cells = [{"cell_type": "code", "source": s, "metadata": {}, "outputs": [], "execution_count": None}
             for s in sources]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


def test_committed_modules_match_their_notebook_cells():
    stale = notebooks.export(REPO_ROOT, check=True)
    assert not stale, f"{[str(p) for p in stale]} differ from their #@save cells; run `make export`"


def test_export_writes_marked_cells_in_order_under_a_header(tmp_path):
    _notebook(tmp_path / "part.ipynb", '#@save a2.demo.models\n"""Doc."""\nimport torch\n',
              "x = 1  # not exported", "#@save a2.demo.models\nclass A:\n    pass\n")
    assert notebooks.export(tmp_path, check=True) == [tmp_path / "src/a2/demo/models.py"]
    notebooks.export(tmp_path)
    text = (tmp_path / "src/a2/demo/models.py").read_text()
    assert text.startswith("# Generated from part.ipynb")
    assert text.endswith('"""Doc."""\nimport torch\n\n\nclass A:\n    pass\n')
    assert "x = 1" not in text
    assert notebooks.export(tmp_path, check=True) == []


def test_an_edited_cell_makes_the_check_fail(tmp_path):
    _notebook(tmp_path / "part.ipynb", "#@save a2.demo.m\nA = 1\n")
    notebooks.export(tmp_path)
    _notebook(tmp_path / "part.ipynb", "#@save a2.demo.m\nA = 2\n")
    assert notebooks.main(["export", "--check", "--root", str(tmp_path)]) == 1
    assert notebooks.main(["export", "--root", str(tmp_path)]) == 0
    assert "A = 2" in (tmp_path / "src/a2/demo/m.py").read_text()


@pytest.mark.parametrize("sources, match", [
    (["#@save torch.nn\nA = 1\n"], "does not name a module"),
    (["#@save a2.demo.m\n%time A = 1\n"], "magic"),
])
def test_bad_marks_are_one_line_errors(tmp_path, sources, match):
    _notebook(tmp_path / "part.ipynb", *sources)
    with pytest.raises(A2Error, match=match):
        notebooks.export(tmp_path)


def test_a_module_exported_from_two_notebooks_is_refused(tmp_path):
    _notebook(tmp_path / "a.ipynb", "#@save a2.demo.m\nA = 1\n")
    _notebook(tmp_path / "b.ipynb", "#@save a2.demo.m\nB = 1\n")
    with pytest.raises(A2Error, match="both"):
        notebooks.export(tmp_path)
