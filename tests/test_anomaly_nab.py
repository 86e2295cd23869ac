"""The NAB corpus loader: real files load, and every kind of bad input gets a clear error."""

import pandas as pd
import pytest

from a2.anomaly import nab
from tests.conftest import needs_dataset


@needs_dataset("nab")
def test_corpus_and_primary_series():
    files = nab.corpus_files()
    assert len(files) == 58 and nab.PRIMARY_SERIES in files
    df = nab.load_labelled(nab.PRIMARY_SERIES)
    assert list(df.columns) == ["timestamp", "value", "label"] and len(df) == 22695
    assert df["label"].sum() == sum(r - l + 1 for l, r in
                                    nab.window_bounds(df["timestamp"], nab.load_windows()[nab.PRIMARY_SERIES]))
    assert sum(len(w) for w in nab.load_windows().values()) == 116
    assert nab.load_profiles()["standard"]["fpWeight"] == 0.11


def test_probationary_length():
    assert nab.probationary_length(1000) == 150 and nab.probationary_length(22695) == 750


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("time,value\n2020-01-01 00:00:00,1\n", r"missing column\(s\) \['timestamp'\]"),
        ("timestamp,value\n2020-01-01 00:00:00,1\nyesterday,2\n", "unparseable timestamp"),
        ("timestamp,value\n2020-01-01 00:00:00,1\n2020-01-01 00:05:00,\n", "missing or non-numeric.*line\\(s\\) 3"),
    ],
)
def test_bad_csv_names_file_and_problem(tmp_path, content, match):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(nab.NABFormatError, match=match) as err:
        nab.load_series(path)
    assert "bad.csv" in str(err.value)


def test_label_timestamp_absent_from_series():
    ts = pd.date_range("2020-01-01", periods=10, freq="5min")
    windows = [(ts[2], pd.Timestamp("2020-01-01 00:12:00"))]
    with pytest.raises(nab.NABFormatError, match="series.csv: label timestamp 2020-01-01 00:12:00 is not"):
        nab.window_bounds(ts, windows, "series.csv")
    assert nab.window_mask(ts, [(ts[2], ts[4])]).sum() == 3


def test_malformed_windows_file(tmp_path):
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "combined_windows.json").write_text('{"a.csv": [["not a date", "x"]]}')
    with pytest.raises(nab.NABFormatError, match="malformed window"):
        nab.load_windows(tmp_path)


def test_cli_rejects_bad_threshold_and_missing_folder(tmp_path, capsys):
    with pytest.raises(SystemExit, match="expected PROFILE=VALUE"):
        nab.main(["score", str(tmp_path), "--threshold", "standard:0.5"])
    with pytest.raises(SystemExit, match="does not exist"):
        nab.main(["score", str(tmp_path / "nope")])
    with pytest.raises(SystemExit):
        nab.main(["detect", "--out", str(tmp_path), "--model", "gru"])
    assert "invalid choice: 'gru'" in capsys.readouterr().err
