"""a2.reproducibility: which values two runs share, leaving out the ones that time the run."""

from __future__ import annotations

import json

import pytest

from a2 import reproducibility
from a2.errors import DataError, ResultsError


def test_flatten_names_every_leaf():
    assert reproducibility.flatten({"a": {"b": [1, {"c": 2}]}, "d": 3}) == {"a.b[0]": 1, "a.b[1].c": 2, "d": 3}


@pytest.mark.parametrize("path", ["runtime_s", "history[0].epoch_s", "models.dense.train_s", "created",
                                  "step_seconds.dense.bf16", "study.runtime_s", "git_commit"])
def test_timings_and_stamps_are_not_compared(path):
    assert reproducibility.volatile(path)


@pytest.mark.parametrize("path", ["test.accuracy", "models.dense.val_f1", "history[0].val_ce", "seconds_per_x.a"])
def test_model_figures_are_compared(path):
    assert not reproducibility.volatile(path)


def test_compare_counts_identical_and_lists_differences():
    earlier = {"test": {"accuracy": 0.9, "f1": float("nan")}, "runtime_s": 10.0, "arithmetic": "bf16", "gone": 1}
    later = {"test": {"accuracy": 0.91, "f1": float("nan")}, "runtime_s": 12.0, "arithmetic": "bf16", "new": 2}
    result = reproducibility.compare(earlier, later)
    assert (result["compared"], result["identical"]) == (3, 2)  # accuracy, f1 (NaN == NaN), arithmetic
    assert result["differing"] == {"test.accuracy": {"earlier": 0.9, "later": 0.91}}
    assert (result["only_earlier"], result["only_later"]) == (["gone"], ["new"])


def test_record_keeps_other_entries(tmp_path):
    a, b, out = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "repro.json"
    a.write_text(json.dumps({"x": 1, "created": "t0"}))
    b.write_text(json.dumps({"x": 1, "created": "t1"}))
    out.write_text(json.dumps({"other": {"kept": True}}))
    entry = reproducibility.record("part", a, b, out, note="same machine")
    assert entry["identical"] == entry["compared"] == 1 and entry["note"] == "same machine"
    assert set(json.loads(out.read_text())) == {"other", "part"}


def test_bad_files_are_one_line_errors(tmp_path, capsys):
    bad, good = tmp_path / "bad.json", tmp_path / "good.json"
    bad.write_text("[1, 2]")
    good.write_text("{}")
    with pytest.raises(ResultsError):
        reproducibility.record("p", bad, good, tmp_path / "out.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(DataError):
        reproducibility.record("p", tmp_path / "broken.json", good, tmp_path / "out.json")
    assert reproducibility.main(["p", str(tmp_path / "missing.json"), str(good), "--out", str(tmp_path / "o.json")]) != 0
    assert "Traceback" not in capsys.readouterr().err
