"""Per-time-step anomaly scores from reconstruction errors, threshold rules and detection metrics.

:func:`window_errors` / :func:`point_scores` / :func:`segment_scores`: the score of a time step is
the mean reconstruction error of every window that covers it, optionally smoothed by a centred
rolling median (:func:`smooth`). :func:`best_threshold` and :func:`quantile_threshold` turn scores
into flags; :func:`detection_metrics` measures them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn import metrics as skm
from torch import nn

from a2.evaluation import classification_metrics, event_metrics

# ---------------------------------------------------------------------------------------------
# Per-time-step scores
# ---------------------------------------------------------------------------------------------


@torch.no_grad()
def window_errors(model: nn.Module, features: np.ndarray, window: int, *, channels: Sequence[int] | None = None,
                  batch_size: int = 1024, device: torch.device | str = "cpu") -> np.ndarray:
    """Squared reconstruction error of every stride-1 window, ``(n_windows, window)``.

    ``channels`` picks the features that count (e.g. the value and its difference, not the
    perfectly predictable clock encodings); by default all of them.
    """
    x = torch.as_tensor(np.asarray(features, dtype=np.float32))
    if len(x) < window:
        raise ValueError(f"need at least window={window} rows to score, got {len(x)}")
    model.eval().to(device)
    views = x.unfold(0, window, 1).transpose(1, 2)  # (n_windows, window, features), no copy
    cols = list(channels) if channels is not None else list(range(x.shape[1]))
    out = []
    for i in range(0, len(views), batch_size):
        xb = views[i : i + batch_size].contiguous().to(device)
        err = (model(xb).float() - xb)[..., cols].pow(2).mean(-1)
        out.append(err.cpu())
    return torch.cat(out).numpy()


def point_scores(errors: np.ndarray) -> np.ndarray:
    """Per-step score: mean error over all windows covering the step (stride 1 windows)."""
    errors = np.asarray(errors, dtype=float)
    n_win, window = errors.shape
    total, count = np.zeros(n_win + window - 1), np.zeros(n_win + window - 1)
    for j in range(window):  # offset j of window i is step i + j
        total[j : j + n_win] += errors[:, j]
        count[j : j + n_win] += 1
    return total / count


def smooth(scores: Sequence[float], steps: int) -> np.ndarray:
    """Centred rolling median over ``steps`` steps (``1`` = unchanged; fewer steps at the edges).

    A step's score is already an average over the windows that cover it; the median over one more
    window removes isolated blips, so a detection is one run of flags instead of a comb of short
    ones that an event-wise count would charge as many false alarms.
    """
    if steps < 1:
        raise ValueError(f"smoothing needs steps >= 1, got {steps}")
    scores = np.asarray(scores, dtype=float)
    if steps == 1:
        return scores
    return pd.Series(scores).rolling(steps, center=True, min_periods=1).median().to_numpy()


def segment_scores(model: nn.Module, features: np.ndarray, part: slice, window: int, *, smooth_steps: int = 1,
                   **kwargs: Any) -> np.ndarray:
    """Scores for rows ``part`` of the series, using up to ``window - 1`` rows before it as context.

    Context rows only complete the windows that overlap the boundary; no label is involved. The
    smoothing (:func:`smooth`) sees the rows of ``part`` only, so no part borrows from the next.
    """
    lo = max(0, part.start - window + 1)
    scores = point_scores(window_errors(model, features[lo : part.stop], window, **kwargs))
    return smooth(scores[part.start - lo :], smooth_steps)


# ---------------------------------------------------------------------------------------------
# Thresholds and metrics
# ---------------------------------------------------------------------------------------------


def _f1_curve(scores: Sequence[float], labels: Sequence[bool], caller: str,
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(scores, labels, thresholds, point F1)``: every distinct threshold (ascending) and the point-wise
    F1 of flagging ``score >= threshold``, the curve both threshold rules search."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=bool)
    if not y.any():
        raise ValueError(f"{caller} needs at least one labelled anomaly in the scores it is given")
    precision, recall, thresholds = skm.precision_recall_curve(y, s)
    f1 = 2 * precision * recall / np.clip(precision + recall, 1e-12, None)
    return s, y, thresholds, f1[:-1]  # the last PR point has no threshold


def best_f1_threshold(scores: Sequence[float], labels: Sequence[bool]) -> tuple[float, float]:
    """The threshold (flag ``score >= t``) that maximises point-wise F1, and that F1."""
    _, _, thresholds, f1 = _f1_curve(scores, labels, "best_f1_threshold")
    best = int(np.argmax(f1))
    return float(thresholds[best]), float(f1[best])


THRESHOLD_OBJECTIVES = {
    "point_f1": "point-wise F1",
    "mean_f1": "the mean of point-wise and event-wise F1",
}


def best_threshold(scores: Sequence[float], labels: Sequence[bool], objective: str = "mean_f1",
                   ) -> tuple[float, float]:
    """The threshold (flag ``score >= t``) that maximises ``objective`` on these scores, and its value.

    ``"point_f1"`` is :func:`best_f1_threshold`. ``"mean_f1"`` averages point-wise and event-wise F1,
    the two ways a detector is judged: a low threshold that splits one anomaly into a comb of short
    detections, each a false-alarm event, pays for it. Every distinct score is tried; ties go to the
    lowest threshold.
    """
    if objective not in THRESHOLD_OBJECTIVES:
        raise ValueError(f"unknown threshold objective {objective!r}; choose from {sorted(THRESHOLD_OBJECTIVES)}")
    if objective == "point_f1":
        return best_f1_threshold(scores, labels)
    s, y, thresholds, point_f1 = _f1_curve(scores, labels, "best_threshold")
    event_f1 = np.array([event_metrics(y, s >= t)["event_f1"] for t in thresholds])
    value = (point_f1 + event_f1) / 2
    best = int(np.argmax(value))
    return float(thresholds[best]), float(value[best])


def quantile_threshold(scores: Sequence[float], q: float = 0.99) -> float:
    """Label-free rule: the ``q`` quantile of scores on normal (training) data."""
    if not 0 < q < 1:
        raise ValueError(f"q must be in (0, 1), got {q}")
    return float(np.quantile(np.asarray(scores, dtype=float), q))


def detection_metrics(scores: Sequence[float], labels: Sequence[bool], threshold: float) -> dict[str, Any]:
    """Point-wise accuracy/P/R/F1/confusion matrix, ROC-AUC, PR-AUC and event-wise scores at ``threshold``."""
    y = np.asarray(labels, dtype=int)
    s = np.asarray(scores, dtype=float)
    flags = (s >= threshold).astype(int)
    return {**classification_metrics(y, flags, s), **event_metrics(y, flags), "threshold": float(threshold)}


def make_epoch_end(
    features: np.ndarray, labels: Sequence[bool], parts: dict[str, slice], window: int, *,
    channels: Sequence[int] | None = None, device: torch.device | str = "cpu", smooth_steps: int = 1,
    objective: str = "mean_f1",
) -> Callable[[nn.Module], dict[str, float]]:
    """A ``fit(epoch_end=...)`` callback: per-epoch accuracy and F1 at the threshold rule.

    Scores smoothed over ``smooth_steps``; the threshold is chosen on the validation part
    (``parts["val"]``) by :func:`best_threshold` with ``objective`` and applied to every part in
    ``parts``, giving e.g. ``val_accuracy``, ``val_f1``, ``val_event_f1``, ``train_accuracy``... so
    accuracy-over-epochs curves show what the rule would give.
    """
    y = np.asarray(labels, dtype=bool)
    if "val" not in parts:
        raise KeyError(f"parts must include 'val' (the threshold is chosen there), got {sorted(parts)}")

    def epoch_end(model: nn.Module) -> dict[str, float]:
        scores = {k: segment_scores(model, features, sl, window, smooth_steps=smooth_steps, channels=channels,
                                    device=device) for k, sl in parts.items()}
        threshold, _ = best_threshold(scores["val"], y[parts["val"]], objective)
        out = {"threshold": threshold}
        for k, sl in parts.items():
            flags = scores[k] >= threshold
            out[f"{k}_accuracy"] = float((flags == y[sl]).mean())
            out[f"{k}_f1"] = float(skm.f1_score(y[sl], flags, zero_division=0))
            if y[sl].any():
                out[f"{k}_event_f1"] = event_metrics(y[sl], flags)["event_f1"]
        return out

    return epoch_end
