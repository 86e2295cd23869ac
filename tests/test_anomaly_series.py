"""Part II series preparation: gaps, labels, split, features, scaler and training windows."""

import numpy as np
import pandas as pd
import pytest
import torch

from a2.anomaly import series
from a2.anomaly.corpus import window_mask


def frame(n=20, freq="5min", start="2020-01-01"):
    ts = pd.date_range(start, periods=n, freq=freq)
    return pd.DataFrame({"timestamp": ts, "value": np.arange(n, dtype=float)})


def test_regularise_fills_gaps_drops_duplicates_and_reports():
    df = frame(10)
    repeated = df.iloc[[3, 4]]  # a clock that jumps back repeats two stamps with other readings
    holed = pd.concat([df.drop(index=[6, 7]).iloc[:5], repeated.assign(value=99.0), df.drop(index=[6, 7]).iloc[5:]])
    out, rep = series.regularise(holed)
    assert len(out) == 10 and out["timestamp"].is_monotonic_increasing
    assert rep.duplicates == 2 and rep.backward_jumps == 1 and rep.missing == 2
    assert rep.gaps == [(df.timestamp[6], df.timestamp[7])] and rep.longest_gap == pd.Timedelta("10min")
    np.testing.assert_allclose(out["value"], np.arange(10.0))  # first copies kept, holes interpolated
    assert out["imputed"].tolist() == [False] * 6 + [True, True] + [False] * 2
    assert rep.as_dict()["freq"] == "0 days 00:05:00"


def test_regularise_bad_input():
    with pytest.raises(ValueError, match="'timestamp' and 'value'"):
        series.regularise(pd.DataFrame({"t": [1, 2]}))
    bad = frame(5)
    bad.loc[2, "timestamp"] += pd.Timedelta("1min")
    with pytest.raises(ValueError, match="off the 0 days 00:05:00 grid"):
        series.regularise(bad, freq="5min")
    out, rep = series.regularise(bad, freq="5min", snap=True)  # an irregular logger: nearest slot
    assert rep.snapped == 1 and len(out) == 5 and out["value"].tolist() == [0, 1, 2, 3, 4]


def test_label_rows_and_downsample():
    df = frame(12)
    y = window_mask(df.timestamp, [(df.timestamp[2], df.timestamp[4])], exact=False)
    assert y.tolist() == [False, False, True, True, True] + [False] * 7
    df["label"] = y
    down = series.downsample(df, "15min")
    assert len(down) == 4 and down["label"].tolist() == [True, True, False, False]
    np.testing.assert_allclose(down["value"], [1, 4, 7, 10])


def test_split_snaps_boundaries_and_requires_windows():
    y = np.zeros(100, bool)
    y[[10, 11, 68, 69, 70, 71, 90]] = True
    split = series.chronological_split(y, (0.7, 0.15, 0.15))
    assert split.val[0] == 68 and split.train == (0, 68)  # window 68-71 not cut: all of it goes to val
    assert split.test == (85, 100)
    table = split.summary(pd.date_range("2020", periods=100, freq="h"), y)
    assert table.loc["val", "anomaly windows"] == 1 and table["rows"].sum() == 100
    y2 = np.zeros(100, bool)
    y2[[10, 90]] = True
    with pytest.raises(ValueError, match="the val part .* contains no labelled anomaly window"):
        series.chronological_split(y2)
    with pytest.raises(ValueError, match="summing to 1"):
        series.chronological_split(y, (0.5, 0.5, 0.5))


def test_features_and_scaler():
    df = frame(288)  # one day of 5-minute steps
    f = series.make_features(df, series.FeatureConfig(diff=True, time_of_day=True, day_of_week=True))
    assert list(f.columns) == ["value", "diff", "tod_sin", "tod_cos", "dow_sin", "dow_cos"]
    assert f["diff"].iloc[0] == 0 and f["diff"].iloc[1] == 1
    np.testing.assert_allclose(f["tod_sin"] ** 2 + f["tod_cos"] ** 2, 1.0)
    sc = series.Scaler().fit(f.to_numpy()[:100])
    z = sc.transform(f.to_numpy()[:100])
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    assert series.Scaler.from_dict(sc.to_dict()) == sc
    np.testing.assert_allclose(sc.inverse_transform(z), f.to_numpy()[:100], atol=1e-4)
    with pytest.raises(RuntimeError, match="not fitted"):
        series.Scaler().transform(f.to_numpy())
    with pytest.raises(ValueError, match="fitted on 6 features"):
        sc.transform(np.zeros((3, 2)))


def test_windows_respect_usable_mask_and_stride():
    usable = np.ones(20, bool)
    usable[8] = False
    assert series.window_starts(20, 4, 1, usable).tolist() == [0, 1, 2, 3, 4, 9, 10, 11, 12, 13, 14, 15, 16]
    assert series.window_starts(20, 4, 3, usable).tolist() == [0, 3, 9, 12, 15]
    assert series.window_starts(20, 5, 5).tolist() == [0, 5, 10, 15]
    ds = series.WindowDataset(np.arange(40, dtype=float).reshape(20, 2), 4, usable=usable)
    x, target = ds[5]
    assert x.shape == (4, 2) and torch.equal(x, target) and x[0, 0].item() == 18
    with pytest.raises(ValueError, match="no window of 30 rows"):
        series.WindowDataset(np.zeros((20, 2)), 30)


def synthetic_raw(n=600):
    ts = pd.date_range("2020-01-01", periods=n, freq="5min")
    rng = np.random.default_rng(0)
    value = np.sin(np.arange(n) * 2 * np.pi / 48) + 0.05 * rng.standard_normal(n)
    windows = [(ts[200], ts[219]), (ts[450], ts[469]), (ts[540], ts[559])]
    for a, b in ((200, 220), (450, 470), (540, 560)):
        value[a + 5 : b - 5] += 4.0
    return pd.DataFrame({"timestamp": ts, "value": value}), windows


def test_prepare_labels_splits_and_scales_on_normal_training_rows():
    raw, windows = synthetic_raw()
    prep = series.prepare("synthetic", windows, raw, resample="10min")
    assert len(prep.frame) == 300 and prep.x.shape == (300, 4) and prep.labels.sum() == 30
    assert not (prep.normal_rows("train") & prep.labels).any()
    np.testing.assert_allclose(prep.x[prep.normal_rows("train")].mean(0), 0, atol=1e-5)


def test_acf():
    x = np.sin(np.arange(200) * 2 * np.pi / 20)
    r = series.acf(x, 40)
    assert r[0] == pytest.approx(1.0) and r[20] > 0.8 and r[10] < -0.8
    with pytest.raises(ValueError, match="max_lag"):
        series.acf(x, 500)


def test_exploration_plots_draw():
    import matplotlib.pyplot as plt

    from a2 import plots

    raw, windows = synthetic_raw()
    y = window_mask(raw.timestamp, windows)
    figs = [plots.distribution_by_label(raw.value, y), plots.sampling_intervals(raw.timestamp),
            plots.daily_profile(raw.timestamp, raw.value), plots.autocorrelation(series.acf(raw.value, 300), 5 / 60)]
    assert all(len(f.axes) == 1 for f in figs)
    assert figs[1].axes[0].get_xticklabels()[0].get_text() == "5"
    plt.close("all")
