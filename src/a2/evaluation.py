"""Metrics every part shares: classification scores, per-class reports and event-wise detection scores.

A part's own measures live with the part (the threshold scores of Part IV's probabilities in
:mod:`a2.text.experiment`, the per-step anomaly scores in :mod:`a2.anomaly.reconstruction_scores`).
Everything here wraps scikit-learn where it has the metric, so the definitions are the standard
ones; what scikit-learn lacks (event-wise detection scores) is written out and tested. Writing and
reading ``results/*.json`` lives in :mod:`a2.results`, the README table in :mod:`a2.results_table`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn import metrics as skm


def _as_1d(name: str, values: Any) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    return arr


def classification_metrics(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    y_score: Sequence[float] | np.ndarray | None = None,
    *,
    labels: Sequence[int] | None = None,
    average: str = "binary",
) -> dict[str, Any]:
    """Accuracy, precision, recall, F1 and the confusion matrix; ROC-AUC and PR-AUC from scores.

    ``y_score`` is the positive-class score for binary tasks, or an ``(n, classes)`` probability
    matrix for multi-class ones (one-vs-rest macro AUC).
    """
    y_true, y_pred = _as_1d("y_true", y_true), _as_1d("y_pred", y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} entries but y_pred has {len(y_pred)}")
    p, r, f1, _ = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average=average, zero_division=0
    )
    out: dict[str, Any] = {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "precision": float(p),
        "recall": float(r),
        "f1": float(f1),
        # binary: always 2 x 2, also for a part where only one class occurs (e.g. an all-normal period)
        "confusion_matrix": skm.confusion_matrix(
            y_true, y_pred, labels=labels if labels is not None or average != "binary" else [0, 1]).tolist(),
        "n": len(y_true),
    }
    if y_score is not None:
        score = np.asarray(y_score)
        if len(np.unique(y_true)) < 2:
            out["roc_auc"] = out["pr_auc"] = float("nan")
        elif score.ndim == 1:
            out["roc_auc"] = float(skm.roc_auc_score(y_true, score))
            out["pr_auc"] = float(skm.average_precision_score(y_true, score))
        else:
            out["roc_auc"] = float(skm.roc_auc_score(y_true, score, multi_class="ovr", average="macro"))
    return out


def runs(mask: Sequence[bool] | np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of True as inclusive ``(start, end)`` index pairs."""
    m = _as_1d("mask", mask).astype(bool)
    if not m.any():
        return []
    edges = np.diff(np.concatenate([[0], m.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def event_metrics(y_true: Sequence[int], y_pred: Sequence[int]) -> dict[str, float]:
    """Event-wise detection scores for anomaly windows.

    A labelled window (a run of ``y_true == 1``) is *detected* if any flag falls inside it.
    Flags outside every window are grouped into runs; each run is one *false-alarm event*.
    Precision = detected / (detected + false alarms), recall = detected / windows.
    """
    y_true, y_pred = _as_1d("y_true", y_true).astype(bool), _as_1d("y_pred", y_pred).astype(bool)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} entries but y_pred has {len(y_pred)}")
    windows = runs(y_true)
    detected = sum(bool(y_pred[s : e + 1].any()) for s, e in windows)
    false_alarms = len(runs(y_pred & ~y_true))
    precision = detected / (detected + false_alarms) if detected + false_alarms else 0.0
    recall = detected / len(windows) if windows else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "event_precision": precision,
        "event_recall": recall,
        "event_f1": f1,
        "events": len(windows),
        "events_detected": detected,
        "false_alarm_events": false_alarms,
    }


def accuracy(output: Any, target: Any) -> float:
    """Batch accuracy for logits ``(n, classes)`` (or one logit per sample) — a ``fit`` metric."""
    if output.ndim == 1 or output.shape[-1] == 1:
        pred = (output.reshape(-1) > 0).long()
    else:
        pred = output.argmax(dim=-1)
    return (pred == target.reshape(-1)).float().mean().item()


def per_class_metrics(y_true: Sequence[int], y_pred: Sequence[int], class_names: Sequence[str]) -> dict[str, dict]:
    """Precision, recall, F1 and support for each class, keyed by class name (multi-class reports)."""
    y_true, y_pred = _as_1d("y_true", y_true), _as_1d("y_pred", y_pred)
    p, r, f1, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=list(range(len(class_names))), average=None, zero_division=0
    )
    return {name: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f1[i]), "support": int(support[i])}
            for i, name in enumerate(class_names)}
