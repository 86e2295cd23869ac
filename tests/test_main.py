"""main.py: notebook discovery, selection, and a README table that matches results/*.json."""

import importlib.util
from pathlib import Path

import pytest

from a2.evaluation import results_table

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("a2_main", ROOT / "main.py")
main = importlib.util.module_from_spec(spec)
spec.loader.exec_module(main)


def test_readme_table_is_generated_from_results():
    text = (ROOT / "README.md").read_text()
    block = text.split(main.README_START)[1].split(main.README_END)[0].strip()
    assert block == results_table(), "README table is stale: run `python main.py --update-readme`"


def test_select_accepts_keys_and_stems_and_rejects_unknown():
    notebooks = {"part2": ROOT / "part_2_autoencoder.ipynb"}
    assert main.select(notebooks, ["part_2_autoencoder"]) == notebooks
    assert main.select(notebooks, None) == notebooks
    with pytest.raises(SystemExit, match="unknown notebook"):
        main.select(notebooks, ["part9"])


def test_table_flag_prints(capsys):
    assert main.main(["--table"]) == 0
    assert "| part | measure |" in capsys.readouterr().out


def test_export_html_writes_one_page_per_notebook(tmp_path):
    notebook = ROOT / "bonus" / "efficientnet.ipynb"
    main.export_html({"efficientnet": notebook}, tmp_path)
    page = tmp_path / "bonus__efficientnet.html"
    assert page.is_file() and "<html" in page.read_text(encoding="utf-8")[:2000].lower()
