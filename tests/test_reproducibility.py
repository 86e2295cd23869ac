"""a2.reproducibility: which values two runs share, leaving out the ones that time the run."""

from __future__ import annotations

import json

import pytest

from a2 import reproducibility
from a2.errors import DataError, ResultsError
from a2.results import flatten


def test_flatten_into_lists_names_every_leaf():
    assert flatten({"a": {"b": [1, {"c": 2}]}, "d": 3}, into_lists=True) == {"a.b[0]": 1, "a.b[1].c": 2, "d": 3}
    assert flatten({"a": {"b": [1, {"c": 2}]}}) == {"a.b": [1, {"c": 2}]}  # the default keeps lists whole


@pytest.mark.parametrize("path", ["runtime_s", "history[0].epoch_s", "models.dense.train_s", "created",
                                  "step_seconds.dense.bf16", "study.runtime_s", "git_commit",
                                  "optional_runtime_s.seeds_full"])
def test_timings_and_stamps_are_not_compared(path):
    assert reproducibility.volatile(path)


@pytest.mark.parametrize("path", ["test.accuracy", "models.dense.val_f1", "history[0].val_ce", "seconds_per_x.a"])
def test_model_figures_are_compared(path):
    assert not reproducibility.volatile(path)


def test_compare_counts_identical_and_lists_differences():
    earlier = {"test": {"accuracy": 0.9, "f1": float("nan")}, "runtime_s": 10.0, "arithmetic": "bf16", "gone": 1}
    later = {"test": {"accuracy": 0.91, "f1": float("nan")}, "runtime_s": 12.0, "arithmetic": "bf16", "new": 2}
    result = reproducibility.compare_payloads(earlier, later)
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
    args = ["p", str(tmp_path / "missing.json"), str(good), "--out", str(tmp_path / "o.json")]
    assert reproducibility.main(args) != 0
    assert "Traceback" not in capsys.readouterr().err


def test_readme_block_is_generated_from_results():
    from a2.results import load_all_results
    from a2.runtime import REPO_ROOT

    text = (REPO_ROOT / "README.md").read_text()
    block = text.split(reproducibility.START)[1].split(reproducibility.END)[0].strip()
    assert block == reproducibility.readme_block(load_all_results(REPO_ROOT / "results")), \
        "README reproducibility block is stale: run `python main.py --update-readme`"


def test_readme_block_names_differences_and_the_arithmetic_check():
    entry = {"note": "two runs", "compared": 3, "identical": 2, "differing": {"models.dense.arithmetic": {
        "earlier": "bf16", "later": "fp32"}}}
    check = {"fp32": {"test_accuracy": 0.9, "tokens_per_s": 100.0},
             "bf16": {"test_accuracy": 0.89, "tokens_per_s": 90.0},
             "comparison": {"a": "bf16", "b": "fp32", "accuracy_diff": -0.01, "ci95": [-0.02, 0.0], "p_value": 0.04}}
    text = reproducibility.readme_block({"reproducibility": {"part_2": entry}, "part_4": {"arithmetic_check": check}})
    assert "2 of 3 recorded values identical" in text and "`models.dense.arithmetic` bf16 → fp32" in text
    assert "90.00% in fp32" in text and "-1.00 points" in text
    assert "No two runs" in reproducibility.readme_block({})
