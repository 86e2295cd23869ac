"""Paired tests for "model A beats model B" on the same test reviews.

Two models scored on the same reviews are compared review by review, not by their two accuracies:

* McNemar's exact test counts the reviews only A gets right (``b``) and only B gets right (``c``);
  under "equally accurate" ``b ~ Binomial(b + c, 1/2)``; the two-sided p-value is exact.
* The paired bootstrap resamples reviews (the same resample for both models) and gives a 95 %
  interval of the accuracy difference; an interval that contains 0 is a tie.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binomtest


def _correct(pred_a, pred_b, labels) -> tuple[np.ndarray, np.ndarray]:
    a, b, y = (np.asarray(v).astype(int).ravel() for v in (pred_a, pred_b, labels))
    if not (len(a) == len(b) == len(y)) or len(y) == 0:
        raise ValueError(f"need two prediction vectors and labels of one length, got {len(a)}, {len(b)}, {len(y)}")
    return a == y, b == y


def mcnemar_exact(pred_a, pred_b, labels) -> dict[str, float]:
    """Exact two-sided McNemar test of equal accuracy; also the counts of discordant reviews."""
    ca, cb = _correct(pred_a, pred_b, labels)
    only_a, only_b = int((ca & ~cb).sum()), int((~ca & cb).sum())
    p = 1.0 if only_a + only_b == 0 else float(binomtest(only_a, only_a + only_b, 0.5).pvalue)
    return {"only_a_right": only_a, "only_b_right": only_b, "p_value": p,
            "accuracy_diff": float(ca.mean() - cb.mean())}


def paired_bootstrap(pred_a, pred_b, labels, *, n_boot: int = 2000, seed: int = 0) -> dict:
    """95 % percentile interval of accuracy(A) - accuracy(B) over review resamples shared by both models."""
    ca, cb = _correct(pred_a, pred_b, labels)
    diff = ca.astype(float) - cb.astype(float)
    rng = np.random.default_rng(seed)
    boots = np.array([diff[rng.integers(0, len(diff), len(diff))].mean() for _ in range(n_boot)])
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return {"accuracy_diff": float(diff.mean()), "ci95": [float(lo), float(hi)]}


def compare(name_a: str, pred_a, name_b: str, pred_b, labels, *, n_boot: int = 2000, seed: int = 0) -> dict:
    """One row of the comparisons table: both tests, and the verdict the interval gives."""
    boot = paired_bootstrap(pred_a, pred_b, labels, n_boot=n_boot, seed=seed)
    mc = mcnemar_exact(pred_a, pred_b, labels)
    lo, hi = boot["ci95"]
    verdict = "tie" if lo <= 0 <= hi else ("above" if lo > 0 else "below")
    return {"a": name_a, "b": name_b, "accuracy_diff": boot["accuracy_diff"], "ci95": boot["ci95"],
            "p_value": mc["p_value"], "method": "paired bootstrap 95% CI (reviews resampled) + exact McNemar",
            "verdict": verdict}


def accuracy_interval(pred, labels, *, n_boot: int = 2000, seed: int = 0) -> list[float]:
    """95 % percentile bootstrap interval of one model's accuracy (reviews resampled)."""
    correct, _ = _correct(pred, pred, labels)
    rng = np.random.default_rng(seed)
    boots = [correct[rng.integers(0, len(correct), len(correct))].mean() for _ in range(n_boot)]
    return [float(v) for v in np.percentile(boots, [2.5, 97.5])]
