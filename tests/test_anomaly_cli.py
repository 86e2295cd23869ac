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
