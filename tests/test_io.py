import json
from pathlib import Path

import pytest
import torch

from a2.io import atomic_write, save_torch, write_json


def test_write_json_roundtrip_with_numpy_and_torch(tmp_path):
    import numpy as np

    path = write_json(tmp_path / "r.json", {"a": np.float32(1.5), "b": torch.tensor([1, 2]), "c": np.arange(2)})
    assert json.loads(path.read_text()) == {"a": 1.5, "b": [1, 2], "c": [0, 1]}


def test_failed_write_leaves_nothing_and_keeps_old_file(tmp_path):
    target = tmp_path / "w.pt"
    target.write_text("old")

    def boom(tmp):
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        atomic_write(target, boom)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["w.pt"]


def test_save_torch_loads_weights_only(tmp_path):
    path = save_torch({"state_dict": {"w": torch.ones(2)}, "config": {"h": 3}}, tmp_path / "m.pt")
    loaded = torch.load(path, weights_only=True)
    assert loaded["config"] == {"h": 3} and torch.equal(loaded["state_dict"]["w"], torch.ones(2))


@pytest.mark.parametrize("payload, key", [
    ({"test": {"roc_auc": float("nan")}}, "test.roc_auc"),
    ({"curve": [0.1, float("inf")]}, r"curve\[1\]"),
    ({"a": __import__("numpy").float32("nan")}, "a"),
    ({"t": torch.tensor([1.0, float("-inf")])}, r"t\[1\]"),
])
def test_write_json_refuses_nan_and_inf_naming_the_key(tmp_path, payload, key):
    from a2.errors import ResultsError

    with pytest.raises(ResultsError, match=rf"r\.json: {key} is (nan|inf|-inf)"):
        write_json(tmp_path / "r.json", payload)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_atomic_write_fsyncs_before_replace(tmp_path, monkeypatch):
    import os

    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: events.append("fsync") or real_fsync(fd))
    monkeypatch.setattr(os, "replace", lambda a, b: events.append("replace") or real_replace(a, b))
    write_json(tmp_path / "r.json", {"a": 1})
    assert events[:2] == ["fsync", "replace"]


@pytest.mark.parametrize("content, message", [
    ('{"a": 1,', "not valid JSON .*line 1.*truncated"),
    ('{"a": NaN}', "NaN is not a number JSON allows"),
    (b"\xff\xfe", "cannot read"),
])
def test_read_json_names_the_file(tmp_path, content, message):
    from a2.errors import DataError
    from a2.io import read_json

    path = tmp_path / "r.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(DataError, match=rf"(r\.json.*{message}|{message}.*r\.json)"):
        read_json(path)


def test_read_json_may_allow_nan(tmp_path):
    import math

    from a2.io import read_json

    (tmp_path / "r.json").write_text('{"a": NaN}')
    assert math.isnan(read_json(tmp_path / "r.json", allow_nan=True)["a"])


def test_unwritable_targets_are_output_errors(tmp_path):
    from a2.errors import OutputError
    from a2.io import check_writable

    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputError, match="a file of that name exists"):
        check_writable(tmp_path / "afile")
    with pytest.raises(OutputError, match="a file of that name exists"):
        write_json(tmp_path / "afile" / "r.json", {})
    if Path("/sys").is_dir():  # read-only even for root
        with pytest.raises(OutputError, match=r"cannot write /sys/a2_test"):
            check_writable("/sys/a2_test")


def test_private_copy_is_reused_and_not_group_writable(tmp_path):
    import stat

    from a2.io import private_copy

    src = tmp_path / "nltk_data" / "corpora"
    src.mkdir(parents=True)
    (src / "english").write_text("a\nthe\n")
    (src / "english").chmod(0o666)
    first = private_copy(tmp_path / "nltk_data", tmp_path / "cache")
    assert (first / "corpora" / "english").read_text() == "a\nthe\n"
    assert not (first / "corpora" / "english").stat().st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    assert private_copy(tmp_path / "nltk_data", tmp_path / "cache") == first
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [first.name]  # no leftovers


def test_nothing_in_the_package_unpickles():
    """No pickle.load(s), torch.load without weights_only=True, or np.load with allow_pickle=True."""
    import re

    src = Path(__file__).resolve().parents[1] / "src" / "a2"
    unsafe = re.compile(r"pickle\.loads?\(|allow_pickle\s*=\s*True|weights_only\s*=\s*False|"
                        r"torch\.load\((?![^)]*weights_only\s*=\s*True)[^)]*\)")
    found = [f"{p.relative_to(src)}:{n}" for p in sorted(src.rglob("*.py"))
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if unsafe.search(line)]
    assert found == []
