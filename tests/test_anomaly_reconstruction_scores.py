"""Scores from reconstruction errors, threshold rules and detection metrics."""

import numpy as np
import pytest
import torch
from torch import nn

from a2.anomaly import reconstruction_scores as sc
from a2.anomaly.models import MeanBaseline


class Zero(nn.Module):
    def forward(self, x):
        return torch.zeros_like(x)


def test_scores_average_overlapping_windows():
    x = np.zeros((10, 1), dtype=np.float32)
    x[5] = 2.0
    err = sc.window_errors(Zero(), x, 3)
    assert err.shape == (8, 3)
    s = sc.point_scores(err)
    assert s.shape == (10,) and s[5] == pytest.approx(4.0) and s[[0, 9]].tolist() == [0, 0]
    part = sc.segment_scores(Zero(), x, slice(4, 10), 3)
    np.testing.assert_allclose(part, s[4:])
    x2 = np.concatenate([x, np.ones((10, 1), np.float32)], axis=1)
    np.testing.assert_allclose(sc.point_scores(sc.window_errors(Zero(), x2, 3, channels=[0])), s)


def test_thresholds_and_metrics():
    scores = np.array([0.1, 0.2, 0.9, 0.8, 0.3, 0.7])
    labels = np.array([0, 0, 1, 1, 0, 0], bool)
    t, f1 = sc.best_f1_threshold(scores, labels)
    assert t == pytest.approx(0.8) and f1 == pytest.approx(1.0)
    assert sc.quantile_threshold(np.arange(101.0), 0.9) == pytest.approx(90.0)
    m = sc.detection_metrics(scores, labels, t)
    assert m["accuracy"] == 1.0 and m["event_f1"] == 1.0 and m["roc_auc"] == 1.0 and m["threshold"] == t
    with pytest.raises(ValueError, match="at least one labelled anomaly"):
        sc.best_f1_threshold(scores, np.zeros(6, bool))
    with pytest.raises(ValueError, match="q must be in"):
        sc.quantile_threshold(scores, 1.5)


def test_smoothing_is_a_centred_median_that_removes_blips():
    s = np.zeros(11)
    s[5] = 9.0
    np.testing.assert_array_equal(sc.smooth(s, 1), s)
    assert sc.smooth(s, 3).max() == 0.0  # an isolated blip vanishes
    step = np.r_[np.zeros(5), np.ones(6)]
    np.testing.assert_allclose(sc.smooth(step, 3), step)  # a sustained change keeps its place
    with pytest.raises(ValueError, match="steps >= 1"):
        sc.smooth(s, 0)


def test_mean_f1_threshold_avoids_fragmented_detections():
    # an anomaly (rows 30-39) scoring 0.9 and 0.5 in turn, and two isolated normal blips at 0.6
    scores = np.full(60, 0.1)
    scores[30:40] = [0.9, 0.5] * 5
    scores[[5, 50]] = 0.6
    labels = np.zeros(60, bool)
    labels[30:40] = True
    t_point, _ = sc.best_threshold(scores, labels, "point_f1")
    t_mean, value = sc.best_threshold(scores, labels, "mean_f1")
    assert t_point == sc.best_f1_threshold(scores, labels)[0] == 0.5  # point F1 0.91, but two false alarms
    assert sc.detection_metrics(scores, labels, t_point)["false_alarm_events"] == 2
    m = sc.detection_metrics(scores, labels, t_mean)
    assert t_mean == 0.9 and m["event_f1"] == 1.0
    assert m["false_alarm_events"] == 0 and value == pytest.approx((m["f1"] + m["event_f1"]) / 2)
    with pytest.raises(ValueError, match="unknown threshold objective"):
        sc.best_threshold(scores, labels, "accuracy")
    with pytest.raises(ValueError, match="at least one labelled anomaly"):
        sc.best_threshold(scores, np.zeros(30, bool))


def test_epoch_end_reports_accuracy_and_f1_per_part():
    x = np.zeros((40, 1), np.float32)
    x[30:33] = 3.0
    y = np.zeros(40, bool)
    y[30:33] = True
    cb = sc.make_epoch_end(x, y, {"train": slice(0, 20), "val": slice(20, 40)}, 4)
    out = cb(Zero())
    assert out["val_f1"] > 0.5 and out["val_event_f1"] == 1.0 and 0 <= out["train_accuracy"] <= 1
    assert "train_event_f1" not in out and out["threshold"] > 0
    with pytest.raises(KeyError, match="must include 'val'"):
        sc.make_epoch_end(x, y, {"train": slice(0, 20)}, 4)


def test_mean_baseline_scores_deviation_from_training_mean():
    x = np.zeros((20, 2), np.float32)
    x[10, 0] = 3.0
    s = sc.point_scores(sc.window_errors(MeanBaseline(), x, 1, channels=[0]))
    assert s[10] == pytest.approx(9.0) and s.sum() == pytest.approx(9.0)
