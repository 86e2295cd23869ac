import numpy as np
import pytest
import torch

from a2 import evaluation as ev


def test_classification_metrics_binary_matches_hand_count():
    y = [0, 0, 1, 1, 1, 0]
    p = [0, 1, 1, 0, 1, 0]
    s = [0.1, 0.6, 0.9, 0.4, 0.8, 0.2]
    m = ev.classification_metrics(y, p, s)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == pytest.approx(2 / 3)
    assert m["confusion_matrix"] == [[2, 1], [1, 2]]
    assert m["roc_auc"] == pytest.approx(8 / 9)


def test_classification_metrics_multiclass_and_shape_errors():
    m = ev.classification_metrics([0, 1, 2, 2], [0, 1, 1, 2], np.eye(3)[[0, 1, 1, 2]], average="macro")
    assert m["accuracy"] == 0.75 and len(m["confusion_matrix"]) == 3 and 0 < m["roc_auc"] <= 1
    all_normal = ev.classification_metrics([0, 0, 0], [0, 0, 0], [0.1, 0.2, 0.3])
    assert all_normal["confusion_matrix"] == [[3, 0], [0, 0]] and np.isnan(all_normal["roc_auc"])
    with pytest.raises(ValueError, match="entries"):
        ev.classification_metrics([0, 1], [0])
    with pytest.raises(ValueError, match="1-D"):
        ev.classification_metrics([[0, 1]], [[0, 1]])


def test_runs_and_event_metrics():
    assert ev.runs([0, 1, 1, 0, 1]) == [(1, 2), (4, 4)]
    assert ev.runs([0, 0]) == []
    truth = np.array([0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0])
    flags = np.array([0, 0, 1, 1, 0, 1, 1, 0, 0, 0, 1, 0])
    m = ev.event_metrics(truth, flags)
    # window 1 detected, window 2 missed; two false-alarm runs ([5,6] and [10])
    assert (m["events"], m["events_detected"], m["false_alarm_events"]) == (2, 1, 2)
    assert m["event_recall"] == 0.5 and m["event_precision"] == pytest.approx(1 / 3)
    assert m["event_f1"] == pytest.approx(0.4)


def test_accuracy_metric_for_logits():
    assert ev.accuracy(torch.tensor([[2.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 0])) == 0.5
    assert ev.accuracy(torch.tensor([1.0, -1.0]), torch.tensor([1, 0])) == 1.0


def test_per_class_metrics_keyed_by_class_name():
    m = ev.per_class_metrics([0, 0, 1, 2], [0, 1, 1, 2], ["x", "y", "z"])
    assert m["x"]["recall"] == 0.5 and m["y"]["precision"] == 0.5 and m["z"]["f1"] == 1.0
    assert m["x"]["support"] == 2
