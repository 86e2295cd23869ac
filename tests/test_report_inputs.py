"""The report's inputs: each is hashed, a change is named, and the committed PDF is built from the current ones."""

from __future__ import annotations

import json
import shutil

import pytest

from a2 import report_inputs


def _tree(tmp_path, monkeypatch):
    """A copy of the report inputs under tmp_path, with a2.report_inputs pointed at it."""
    (tmp_path / "report" / "figures").mkdir(parents=True)
    for name in report_inputs.SOURCES:
        shutil.copy(report_inputs.REPORT_DIR / name, tmp_path / "report" / name)
    shutil.copy(report_inputs.MACROS, tmp_path / "report" / "results.tex")
    shutil.copytree(report_inputs.RESULTS_DIR, tmp_path / "results")
    rep = tmp_path / "report"
    paths = {"REPO_ROOT": tmp_path, "REPORT_DIR": rep, "RESULTS_DIR": tmp_path / "results", "PDF": tmp_path / "a.pdf",
             "MACROS": rep / "results.tex", "TEX": rep / "report.tex", "LOCK": rep / "report.lock.json"}  # fmt: skip
    for attr, value in paths.items():
        monkeypatch.setattr(report_inputs, attr, value)
    return tmp_path


def test_hash_covers_sources_results_and_figures(tmp_path, monkeypatch):
    root = _tree(tmp_path, monkeypatch)
    h0 = report_inputs.combined_hash(report_inputs.input_hashes())
    assert h0 == report_inputs.combined_hash(report_inputs.input_hashes())  # deterministic
    (root / "results" / "part_4.json").write_text((root / "results" / "part_4.json").read_text() + " ")
    h1 = report_inputs.combined_hash(report_inputs.input_hashes())
    (root / "report" / "figures" / "part4_roc.pdf").write_bytes(b"%PDF-1.4 figure")
    h2 = report_inputs.combined_hash(report_inputs.input_hashes())
    (root / "report" / "theory_part3.tex").write_text("changed")
    h3 = report_inputs.combined_hash(report_inputs.input_hashes())
    (root / "report" / "figures" / "nab_example.pdf").write_bytes(b"%PDF-1.4 optional figure")
    h4 = report_inputs.combined_hash(report_inputs.input_hashes())
    assert len({h0, h1, h2, h3, h4}) == 5


def test_stale_inputs_names_what_changed(tmp_path, monkeypatch):
    root = _tree(tmp_path, monkeypatch)
    hashes = report_inputs.input_hashes()
    lock = {"sha256": report_inputs.combined_hash(hashes), "inputs": hashes}
    (root / "report" / "report.lock.json").write_text(json.dumps(lock))
    (root / "a.pdf").write_bytes(b"%PDF")
    monkeypatch.setattr(report_inputs, "pdf_hash", lambda pdf=None: lock["sha256"])
    assert report_inputs.stale_inputs() == []
    (root / "results" / "nab.json").write_text("{}")
    assert report_inputs.stale_inputs() == ["results/nab.json changed since the build"]
    monkeypatch.setattr(report_inputs, "pdf_hash", lambda pdf=None: "0" * 64)
    assert "a.pdf was not built together with report.lock.json" in report_inputs.stale_inputs()


@pytest.fixture(scope="module")
def lock():
    pytest.importorskip("pypdf")
    assert report_inputs.PDF.is_file(), "assignment2_report.pdf is missing; build it with `make report` and commit it"
    assert report_inputs.LOCK.is_file(), "report/report.lock.json is missing; build the PDF with `make report`"
    return json.loads(report_inputs.LOCK.read_text())


def test_pdf_built_from_current_inputs(lock):
    """Fails when a source, a results file or a figure changed after the PDF was built."""
    problems = report_inputs.stale_inputs()
    assert not problems, "assignment2_report.pdf is stale; run `make report` and commit:\n" + "\n".join(problems)


def test_pdf_has_no_placeholders(lock):
    """A draft (`make report DRAFT=1`) shows placeholders for missing figures and keys; it must not ship."""
    assert not lock["placeholders"] and not lock["draft"], (
        "assignment2_report.pdf is a draft with placeholders; rerun the notebooks, then `make report`:\n  "
        + "\n  ".join(lock["placeholders"]))


def test_pdf_length(lock):
    assert 8 <= lock["pages"] <= 18
