"""results/*.json: stamped atomic writes, and reads that name a broken file."""

from __future__ import annotations

import json

import pytest

from a2.results import ResultsError, load_all_results, lookup, read_results_file, write_results


def test_write_results_stamps_device_commit_date_and_fast(tmp_path, monkeypatch):
    monkeypatch.setenv("A2_OUTPUT_DIR", str(tmp_path))
    path = write_results("part_2", {"test": {"accuracy": 0.9}}, device="cpu")
    assert path == tmp_path / "results" / "part_2.json"
    payload = json.loads(path.read_text())
    assert payload["device"] == "cpu" and {"git_commit", "created", "fast"} <= set(payload)
    assert load_all_results(tmp_path / "results") == {"part_2": payload}


def test_load_all_results_is_sorted_and_empty_for_an_empty_folder(tmp_path):
    assert load_all_results(tmp_path) == {}
    for stem in ("b", "a"):
        (tmp_path / f"{stem}.json").write_text("{}")
    assert list(load_all_results(tmp_path)) == ["a", "b"]


@pytest.mark.parametrize(("text", "message"), [('{"test": {"acc', "not valid JSON"),
                                               ("[1, 2]", "holds a list, not a JSON object")])
def test_broken_results_file_is_named(tmp_path, text, message):
    path = tmp_path / "part_4.json"
    path.write_text(text)
    with pytest.raises(ResultsError, match=message) as err:
        read_results_file(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_lookup_follows_dotted_keys_and_list_indices():
    payload = {"test": {"accuracy": 0.9, "confusion_matrix": [[5, 1], [2, 7]]}, "flat": 1}
    assert lookup(payload, "test.accuracy") == 0.9 and lookup(payload, "test.confusion_matrix.1.0") == 2
    assert lookup(payload, "test.missing", None) is None and lookup(payload, "flat.deeper", None) is None
    assert lookup(payload, "test.confusion_matrix.2.0", "absent") == "absent"
    with pytest.raises(KeyError, match="test.missing"):
        lookup(payload, "test.missing")
