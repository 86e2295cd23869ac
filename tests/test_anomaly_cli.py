"""The command line: one-line errors with a fix, non-zero exits, no traceback, checks before long work."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from a2.anomaly import cli, corpus, nab_scoring
from a2.anomaly.errors import NABScoreError, UsageError
from tests.conftest import has_dataset, needs_dataset

REF = Path(corpus.corpus_root() if has_dataset("nab") else ".") / "reference_results"


@pytest.mark.parametrize(("item", "match"), [
    ("standard:0.5", "is not PROFILE=VALUE"),
    ("=0.5", "is not PROFILE=VALUE"),
    ("standard=nan", "must be a number between 0 and 1.1"),
    ("standard=inf", "must be a number between 0 and 1.1"),
    ("standard=-1", "must be a number between 0 and 1.1"),
    ("standard=abc", "must be a number between 0 and 1.1"),
    ("strict=0.5", "unknown profile 'strict'"),
])
def test_bad_thresholds_are_refused(item, match):
    with pytest.raises(UsageError, match=match):
        cli.parse_thresholds([item])


def test_thresholds_parse():
    assert cli.parse_thresholds(["standard=0.5", "reward_low_FN_rate=1.1"]) == {"standard": 0.5,
                                                                                "reward_low_FN_rate": 1.1}


def test_errors_are_one_line_with_a_fix_before_any_work(tmp_path, capsys):
    assert cli.main(["score", str(tmp_path), "--threshold", "standard=nan"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --threshold 'standard=nan'") and err.count("\n") == 1 and "(" in err
    assert cli.main(["score", str(tmp_path / "nope")]) == 1
    assert "does not exist" in capsys.readouterr().err
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    assert cli.main(["detect", "--out", str(a_file)]) == 2  # refused before 58 files are trained
    assert "is a file (give a folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        cli.main(["detect", "--out", str(tmp_path), "--model", "gru"])
    assert exit_.value.code == 2 and "invalid choice: 'gru'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["detect", "--out", str(tmp_path), "--workers", "0"])
    assert "not a whole number >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["detect", "--out", str(tmp_path), "--magnitude-gate", "nan"])
    assert "not a number between 0 and 1" in capsys.readouterr().err


def test_unwritable_output_folder(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cli.tempfile, "NamedTemporaryFile", refuse)
    with pytest.raises(UsageError, match="is not writable"):
        cli.check_output_dir(tmp_path / "out")


@needs_dataset("nab")
def test_command_line_runs_and_fails_cleanly(tmp_path):
    cmd = [sys.executable, "-m", "a2.anomaly.cli", "score"]
    out = subprocess.run([*cmd, str(REF / "null"), "--threshold", "standard=0.6"],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    assert set(result) == set(nab_scoring.PROFILES) and result["standard"]["score"] == 0.0
    assert result["standard"]["threshold"] == 0.6 and result["reward_low_FN_rate"]["threshold"] == 1.1

    det = tmp_path / "null"
    for path in (REF / "null").glob("*/*.csv"):
        (det / path.parent.name).mkdir(parents=True, exist_ok=True)
        (det / path.parent.name / path.name).write_text(path.read_text())
    victim = det / "artificialNoAnomaly" / "null_art_daily_no_noise.csv"  # read first: fails fast
    victim.write_text(victim.read_text().replace(",0.5,", ",1.7,", 1))
    bad = subprocess.run([*cmd, str(det)], capture_output=True, text=True)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("error: ") and "null_art_daily_no_noise.csv" in bad.stderr and "[0, 1]" in bad.stderr


def test_exceptions_come_from_a_module_that_never_runs_as_main():
    assert NABScoreError.__module__ == "a2.anomaly.errors" == corpus.NABFormatError.__module__


def _damaged_copy(tmp_path, labels=None, profiles=None):
    """A NAB copy whose data/ is the mirror's (a symlink) and whose labels or profiles are replaced."""
    src = corpus.corpus_root()
    nab = tmp_path / "data" / "nab"
    (nab / "labels").mkdir(parents=True)
    (nab / "config").mkdir()
    (nab / "data").symlink_to(src / "data")
    windows = (src / "labels" / "combined_windows.json").read_text()
    (nab / "labels" / "combined_windows.json").write_text(labels(windows) if labels else windows)
    costs = json.loads((src / "config" / "profiles.json").read_text())
    (nab / "config" / "profiles.json").write_text(profiles(costs) if profiles else json.dumps(costs))
    return nab.parent


def _reverse_a_window(text):
    windows = json.loads(text)
    windows[corpus.PRIMARY_SERIES][0].reverse()
    return json.dumps(windows)


def _zero_tp_fn(costs):
    costs["standard"]["CostMatrix"].update(tpWeight=0, fnWeight=0)
    return json.dumps(costs)


@needs_dataset("nab")
@pytest.mark.parametrize(("damage", "env", "message"), [
    ({"profiles": _zero_tp_fn}, {}, "profile 'standard' has tpWeight = fnWeight = 0"),
    ({"profiles": lambda c: json.dumps(c).replace("0.11", "NaN", 1)}, {}, "NaN is not a number JSON allows"),
    ({"profiles": lambda c: json.dumps(c).replace("0.22", '"high"')}, {},
     "profile 'reward_low_FP_rate' lacks a finite, non-negative CostMatrix fpWeight"),
    ({"profiles": lambda c: json.dumps({k: v for k, v in c.items() if k != "standard"})}, {},
     "profile 'standard' lacks"),
    ({"labels": lambda w: w[:300]}, {}, "combined_windows.json is not valid JSON"),
    ({"labels": lambda w: ""}, {}, "combined_windows.json is not valid JSON"),
    ({"labels": _reverse_a_window}, {}, "ends before it starts"),
    ({}, {"A2_VERIFY_DATA": "maybe"}, "A2_VERIFY_DATA='maybe' is neither yes nor no"),
])
def test_a_bad_dataset_copy_is_one_line_whatever_the_checksum_setting(tmp_path, monkeypatch, capsys, damage, env,
                                                                      message):
    monkeypatch.setenv("A2_DATA_DIR", str(_damaged_copy(tmp_path, **damage)))
    monkeypatch.setenv("A2_VERIFY_DATA", "0")  # structural checks run anyway
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["score", str(REF / "null")]) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and message in lines[0] and lines[0].endswith(")") and "Traceback" not in err, err


def test_data_dir_that_is_a_file_is_one_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "f").write_text("x")
    monkeypatch.setenv("A2_DATA_DIR", str(tmp_path / "f"))
    assert cli.main(["score", str(tmp_path)]) == 1
    assert capsys.readouterr().err.startswith("error: A2_DATA_DIR=")
