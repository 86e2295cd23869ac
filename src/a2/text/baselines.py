"""The two linear baselines of Part IV, tuned with the same protocol as the Transformer.

* TF-IDF (unigrams + bigrams) + logistic regression;
* NBSVM-bi (Wang & Manning 2012): binarised uni+bigram features scaled by their naive-Bayes
  log-count ratios, a linear SVM, and the interpolation ``w' = (1 - beta) * mean|w| + beta * w`` with
  ``beta = 0.25``.

Protocol (the Transformer's): the features and ratios are fitted on the training reviews only; the
regularisation ``C`` is chosen from a grid by accuracy on the (movie-grouped) validation split; the
decision threshold is calibrated on validation; the test split is scored once, by the chosen model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.svm import LinearSVC

from a2.text.experiment import calibrate_threshold
from a2.text.preprocess import clean

C_GRID_LR = (0.5, 2.0, 8.0, 32.0, 128.0)
C_GRID_NBSVM = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3)
NBSVM_BETA = 0.25


@dataclass
class BaselineResult:
    """A tuned baseline: its choice of ``C``, the validation score of every ``C``, and test scores."""

    name: str
    C: float
    C_grid: list[float]
    val_accuracy_by_C: dict[str, float]
    threshold: float
    val_accuracy: float
    test_accuracy: float
    roc_auc: float
    features: int
    runtime_s: float
    val_score: np.ndarray = field(repr=False)
    test_score: np.ndarray = field(repr=False)

    def summary(self) -> dict:
        """The JSON-able fields (no per-review scores)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("val_score", "test_score")}


def _check(texts: Sequence[str], labels: np.ndarray, split: str) -> np.ndarray:
    labels = np.asarray(labels)
    if len(texts) != len(labels) or len(texts) == 0:
        raise ValueError(f"{split}: need one label per text and at least one text, got {len(texts)} and {len(labels)}")
    return labels


def _tune(name: str, fit_score: Callable[[float], tuple[np.ndarray, np.ndarray]], grid: Sequence[float],
          y_val: np.ndarray, y_test: np.ndarray, features: int, start: float) -> BaselineResult:
    """Fit every ``C`` (``fit_score(C) -> (val scores, test scores)``), keep the best on validation only."""
    if len(grid) == 0:
        raise ValueError("the C grid is empty")
    runs = {float(c): fit_score(float(c)) for c in grid}
    val_acc = {c: float(((v > calibrate_threshold(v, y_val)) == y_val).mean()) for c, (v, _) in runs.items()}
    best = max(val_acc, key=lambda c: (val_acc[c], -abs(np.log(c))))  # ties: the C nearest 1
    v, test = runs[best]
    threshold = calibrate_threshold(v, y_val)
    return BaselineResult(name, best, [float(c) for c in grid], {f"{c:g}": a for c, a in val_acc.items()}, threshold,
                          val_acc[best], float(((test > threshold) == y_test).mean()),
                          float(roc_auc_score(y_test, test)) if len(set(y_test.tolist())) == 2 else float("nan"),
                          features, time.perf_counter() - start, v, test)


def tfidf_lr(train: Sequence[str], y_train, val: Sequence[str], y_val, test: Sequence[str], y_test, *,
             grid: Sequence[float] = C_GRID_LR) -> BaselineResult:
    """TF-IDF on unigrams + bigrams (sublinear tf, fitted on training text) and logistic regression."""
    y_train, y_val, y_test = _check(train, y_train, "train"), _check(val, y_val, "val"), _check(test, y_test, "test")
    start = time.perf_counter()
    vec = TfidfVectorizer(preprocessor=clean, ngram_range=(1, 2), min_df=2, max_df=0.95, sublinear_tf=True)
    xtr = vec.fit_transform(train)
    xva, xte = vec.transform(val), vec.transform(test)

    def fit_score(c: float) -> tuple[np.ndarray, np.ndarray]:
        clf = LogisticRegression(C=c, solver="liblinear", max_iter=2000).fit(xtr, y_train)
        return clf.predict_proba(xva)[:, 1], clf.predict_proba(xte)[:, 1]

    return _tune("TF-IDF (1-2 grams) + logistic regression", fit_score, grid, y_val, y_test, xtr.shape[1], start)


def nb_ratios(x: sparse.csr_matrix, y: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """``r = log((p / |p|_1) / (q / |q|_1))`` with ``p = alpha + sum of positive rows`` (Wang & Manning, eq. 1)."""
    y = np.asarray(y)
    if set(np.unique(y).tolist()) != {0, 1}:
        raise ValueError("naive-Bayes ratios need labels of both classes (0 and 1)")
    p = alpha + np.asarray(x[y == 1].sum(0)).ravel()
    q = alpha + np.asarray(x[y == 0].sum(0)).ravel()
    return np.log(p / p.sum()) - np.log(q / q.sum())


def nbsvm(train: Sequence[str], y_train, val: Sequence[str], y_val, test: Sequence[str], y_test, *,
          grid: Sequence[float] = C_GRID_NBSVM, beta: float = NBSVM_BETA) -> BaselineResult:
    """NBSVM-bi: binarised uni+bigram counts, scaled by NB ratios, L2-regularised linear SVM, interpolated."""
    y_train, y_val, y_test = _check(train, y_train, "train"), _check(val, y_val, "val"), _check(test, y_test, "test")
    start = time.perf_counter()
    vec = CountVectorizer(preprocessor=clean, ngram_range=(1, 2), binary=True, token_pattern=r"[a-z0-9']+")
    xtr = vec.fit_transform(train).astype(np.float64)
    r = nb_ratios(xtr, y_train)
    scale = sparse.diags(r)
    xtr_r, xva_r, xte_r = xtr @ scale, vec.transform(val) @ scale, vec.transform(test) @ scale

    def fit_score(c: float) -> tuple[np.ndarray, np.ndarray]:
        svm = LinearSVC(C=c, max_iter=5000).fit(xtr_r, y_train)
        w = svm.coef_.ravel()
        w = (1 - beta) * np.abs(w).mean() + beta * w
        return xva_r @ w + svm.intercept_[0], xte_r @ w + svm.intercept_[0]

    return _tune(f"NBSVM-bi (beta={beta:g})", fit_score, grid, y_val, y_test, xtr.shape[1], start)


def logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of probabilities (clipped away from 0 and 1), the scale a margin lives on."""
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def ensemble(val_scores: Mapping[str, np.ndarray], test_scores: Mapping[str, np.ndarray], y_val, *,
             steps: int = 10) -> dict:
    """A weighted sum of two models' margins, the weight and the threshold chosen on validation only.

    Each model's margin (log-odds or SVM decision value) is divided by its validation standard
    deviation, so that the weight compares like with like; weights ``0, 1/steps, ..., 1`` on the first
    model are tried, and the one with the best calibrated validation accuracy wins (ties: nearest 1/2).
    """
    if len(val_scores) != 2 or set(val_scores) != set(test_scores):
        raise ValueError("an ensemble here combines exactly two models, with validation and test scores for each")
    (a, b), y_val = list(val_scores), np.asarray(y_val)
    scale = {k: float(np.std(v)) or 1.0 for k, v in val_scores.items()}

    def mix(scores: Mapping[str, np.ndarray], w: float) -> np.ndarray:
        return w * np.asarray(scores[a]) / scale[a] + (1 - w) * np.asarray(scores[b]) / scale[b]

    acc = {}
    for w in np.linspace(0, 1, steps + 1):
        v = mix(val_scores, w)
        acc[float(w)] = float(((v > calibrate_threshold(v, y_val)) == y_val).mean())
    best = max(acc, key=lambda w: (acc[w], -abs(w - 0.5)))
    v = mix(val_scores, best)
    threshold = calibrate_threshold(v, y_val)
    return {"members": [a, b], "weights": {a: best, b: 1 - best}, "threshold": threshold,
            "val_accuracy": acc[best], "val_accuracy_by_weight": {f"{w:.2f}": x for w, x in acc.items()},
            "test_pred": (mix(test_scores, best) > threshold).astype(int), "test_score": mix(test_scores, best)}
