"""The NAB corpus: real files load, windows become masks one way, and bad input gets a clear error."""

import pandas as pd
import pytest

from a2.anomaly import corpus
from tests.conftest import needs_dataset


@needs_dataset("nab")
def test_corpus_and_primary_series():
    files = corpus.corpus_files()
    assert len(files) == 58 and corpus.PRIMARY_SERIES in files
    df = corpus.load_labelled(corpus.PRIMARY_SERIES)
    assert list(df.columns) == ["timestamp", "value", "label"] and len(df) == 22695
    assert df["label"].sum() == sum(r - l + 1 for l, r in
                                    corpus.window_bounds(df["timestamp"], corpus.load_windows()[corpus.PRIMARY_SERIES]))
    assert sum(len(w) for w in corpus.load_windows().values()) == 116
    assert corpus.profile_weights()["standard"]["fpWeight"] == 0.11


def test_probationary_length():
    assert corpus.probationary_length(1000) == 150 and corpus.probationary_length(22695) == 750


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
    with pytest.raises(corpus.NABFormatError, match=match) as err:
        corpus.load_series(path)
    assert "bad.csv" in str(err.value)


def test_label_timestamp_absent_from_series():
    ts = pd.date_range("2020-01-01", periods=10, freq="5min")
    windows = [(ts[2], pd.Timestamp("2020-01-01 00:12:00"))]
    with pytest.raises(corpus.NABFormatError, match="series.csv: label timestamp 2020-01-01 00:12:00 is not"):
        corpus.window_bounds(ts, windows, "series.csv")
    assert corpus.window_mask(ts, [(ts[2], ts[4])]).sum() == 3


def test_malformed_windows_file(tmp_path):
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "combined_windows.json").write_text('{"a.csv": [["not a date", "x"]]}')
    with pytest.raises(corpus.NABFormatError, match="malformed window"):
        corpus.load_windows(tmp_path)


def test_window_mask_exact_and_by_time_range():
    ts = pd.date_range("2020-01-01", periods=10, freq="5min")
    off_grid = [(pd.Timestamp("2020-01-01 00:07:00"), pd.Timestamp("2020-01-01 00:21:00"))]
    assert corpus.window_bounds(ts, off_grid, exact=False) == [(2, 4)]
    assert corpus.window_mask(ts, off_grid, exact=False).tolist() == [False] * 2 + [True] * 3 + [False] * 5
    assert corpus.window_bounds(ts, [(pd.Timestamp("2021-01-01"), pd.Timestamp("2021-01-02"))], exact=False) == []
    assert corpus.bounds_mask(5, [(0, 0), (3, 4)]).tolist() == [True, False, False, True, True]
