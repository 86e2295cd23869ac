"""Metrics and the results-JSON writer: the one place where numbers are computed and recorded.

Everything here wraps scikit-learn where it has the metric, so the definitions are the standard
ones; what scikit-learn lacks (event-wise detection scores) is written out and tested.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn import metrics as skm

from a2 import runtime
from a2.io import write_json


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
        "confusion_matrix": skm.confusion_matrix(y_true, y_pred, labels=labels).tolist(),
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


# ---------------------------------------------------------------------------------------------
# results/*.json
# ---------------------------------------------------------------------------------------------


def write_results(name: str, payload: Mapping[str, Any], *, device: Any = None) -> Path:
    """Write ``results/<name>.json`` atomically, stamped with device, git commit, date and FAST."""
    stamped = {
        **payload,
        "device": str(device) if device is not None else payload.get("device", str(runtime.pick_device())),
        "git_commit": runtime.git_commit(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "fast": runtime.is_fast(),
    }
    return write_json(runtime.results_path(f"{name}.json"), stamped)


def load_results(folder: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Every ``results/*.json`` as ``{stem: payload}``, sorted by name."""
    folder = Path(folder) if folder is not None else runtime.REPO_ROOT / "results"
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def _get(payload: Mapping[str, Any], path: str) -> Any:
    node: Any = payload
    for key in path.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


# (results file, part, what, json path, format, reference to beat)
TABLE_ROWS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("part_2", "II autoencoder", "best model (chosen on validation)", "best_model", "{}", ""),
    ("part_2", "II autoencoder", "test accuracy", "test.accuracy", "{:.2%}", "assignment floor 80%"),
    ("part_2", "II autoencoder", "test point-wise F1", "test.f1", "{:.3f}", ""),
    ("part_2", "II autoencoder", "test event-wise F1", "test.event_f1", "{:.3f}", "past submissions: none"),
    ("part_2", "II autoencoder", "test ROC-AUC", "test.roc_auc", "{:.3f}", ""),
    ("part_2", "II autoencoder", "notebook runtime", "runtime_s", "{:.0f} s", "budget 600 s"),
    ("nab", "II NAB corpus", "NAB score, standard", "nab_score.standard", "{:.1f}", "Numenta HTM 70.1"),
    ("nab", "II NAB corpus", "NAB score, reward low FP", "nab_score.reward_low_FP_rate", "{:.1f}", "HTM 63.1"),
    ("nab", "II NAB corpus", "NAB score, reward low FN", "nab_score.reward_low_FN_rate", "{:.1f}", "HTM 74.3"),
    ("nab", "II NAB corpus", "standard, out-of-sample threshold", "out_of_sample_standard", "{:.1f}", ""),
    ("nab", "II NAB corpus", "PR-AUC, all scored rows", "pr_auc", "{:.3f}", ""),
    ("part_4", "IV transformer", "test accuracy", "test.accuracy", "{:.2%}", "NBSVM-bi 91.22%"),
    ("part_4", "IV transformer", "test F1", "test.f1", "{:.3f}", ""),
    ("part_4", "IV transformer", "test ROC-AUC", "test.roc_auc", "{:.3f}", ""),
    ("part_4", "IV transformer", "TF-IDF + LR test accuracy", "baseline.test_accuracy", "{:.2%}", ""),
    ("part_4", "IV transformer", "notebook runtime", "runtime_s", "{:.0f} s", "budget 1800 s"),
    ("bonus", "Bonus vision", "VGG-13 test accuracy", "models.vgg13.test_accuracy", "{:.2%}", "past 90%"),
    ("bonus", "Bonus vision", "ResNet-18 test accuracy", "models.resnet18.test_accuracy", "{:.2%}", "past 88%"),
    ("bonus", "Bonus vision", "ViT test accuracy", "models.vit.test_accuracy", "{:.2%}", "goal 93%"),
    ("bonus", "Bonus vision", "EfficientNet-B0 test accuracy", "models.efficientnet_b0.test_accuracy",
     "{:.2%}", "goal 95%"),
)


def results_table(results: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """The README's results table (markdown), generated from ``results/*.json``."""
    results = load_results() if results is None else results
    lines = ["| part | measure | value | reference | commit |", "| --- | --- | --- | --- | --- |"]
    for stem, part, what, path, fmt, reference in TABLE_ROWS:
        value = _get(results.get(stem, {}), path)
        if value is None:
            continue
        commit = results[stem].get("git_commit", "")
        lines.append(f"| {part} | {what} | {fmt.format(value)} | {reference} | {commit} |")
    if len(lines) == 2:
        lines.append("| – | no results yet: run `make run` | | | |")
    return "\n".join(lines)


def summarise(results: Mapping[str, Mapping[str, Any]]) -> Iterable[str]:
    """One line per results file: its headline numbers, for ``main.py``'s closing summary."""
    for stem, payload in results.items():
        numbers = {
            k: v for k, v in _flatten(payload).items() if isinstance(v, (int, float)) and not isinstance(v, bool)
        }
        shown = ", ".join(f"{k}={v:.4g}" for k, v in list(numbers.items())[:12])
        yield f"{stem}: {shown}"


def _flatten(payload: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in payload.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def per_class_metrics(y_true: Sequence[int], y_pred: Sequence[int], class_names: Sequence[str]) -> dict[str, dict]:
    """Precision, recall, F1 and support for each class, keyed by class name (multi-class reports)."""
    y_true, y_pred = _as_1d("y_true", y_true), _as_1d("y_pred", y_pred)
    p, r, f1, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=list(range(len(class_names))), average=None, zero_division=0
    )
    return {name: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f1[i]), "support": int(support[i])}
            for i, name in enumerate(class_names)}
