"""What the Part IV training loop (the notebook's ``train``, exported to :mod:`a2.text.loop`) needs
around it: the encoded splits, their evaluation, the decision threshold, label-derived features
refitted per training set, and the EMA horizon.

Losses have explicit names everywhere: ``train_loss`` is the *label-smoothed* cross-entropy the
optimiser minimises; ``val_ce`` is the plain cross-entropy on validation, the smooth criterion the
best epoch is chosen on (accuracy moves in steps and one lucky epoch can win on it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from a2.text import nb_features
from a2.text.nb_features import NBRatios
from a2.text.predict import predict_proba

Features = list[np.ndarray] | None


@dataclass
class Data:
    """Encoded splits: id arrays, labels and optional per-token features (the naive-Bayes channel)."""

    x_train: list[np.ndarray]
    y_train: np.ndarray
    x_val: list[np.ndarray]
    y_val: np.ndarray
    f_train: Features = None
    f_val: Features = None

    def subset(self, n: int, seed: int = 0) -> Data:
        """A random ``n``-review training subset (validation unchanged), for the reduced-budget study.

        Label-derived features are dropped, never subset: they were computed from labels outside the
        subset. Refit them on the subset with :func:`with_nb_features`.
        """
        data = self.without_features()
        if n >= len(self.x_train):
            return data
        idx = np.random.default_rng(seed).choice(len(self.x_train), n, replace=False)
        return replace(data, x_train=[self.x_train[i] for i in idx], y_train=self.y_train[idx])

    def without_features(self) -> Data:
        return replace(self, f_train=None, f_val=None)

    def train_tokens(self) -> int:
        return int(sum(len(x) for x in self.x_train))


def cross_entropy(p_pos: np.ndarray, labels: np.ndarray) -> float:
    """Plain (not label-smoothed) mean cross-entropy of the true class."""
    p = np.clip(np.where(np.asarray(labels) == 1, p_pos, 1.0 - p_pos), 1e-12, 1.0)
    return float(-np.log(p).mean())


def split_scores(p_pos: np.ndarray, labels: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Accuracy at ``threshold``, cross-entropy and ROC-AUC of one split."""
    labels = np.asarray(labels)
    return {"accuracy": float(((p_pos > threshold) == labels).mean()), "loss": cross_entropy(p_pos, labels),
            "roc_auc": float(roc_auc_score(labels, p_pos)) if len(set(labels.tolist())) == 2 else float("nan")}


def calibrate_threshold(p_pos: np.ndarray, labels: np.ndarray) -> float:
    """The decision threshold (predict positive when ``p > t``) that maximises validation accuracy.

    Every cut between two consecutive sorted scores is tried in one pass; among equally good cuts
    the one closest to 0.5 wins, so a calibrated model moves no further from 0.5 than it must.
    """
    p, y = np.asarray(p_pos, dtype=float), np.asarray(labels)
    if len(p) == 0 or len(p) != len(y):
        raise ValueError(f"need as many scores as labels, got {len(p)} and {len(y)}")
    order = np.argsort(p, kind="stable")
    sp, sy = p[order], y[order]
    neg_below = np.concatenate([[0], np.cumsum(sy == 0)])  # cut k: the k lowest scores are called negative
    pos_above = sy.sum() - np.concatenate([[0], np.cumsum(sy == 1)])
    acc = (neg_below + pos_above) / len(sp)
    cuts = np.concatenate([[sp[0] - 1e-9], (sp[1:] + sp[:-1]) / 2, [sp[-1] + 1e-9]])
    valid = np.ones(len(cuts), dtype=bool)
    valid[1:-1] = sp[1:] != sp[:-1]  # no cut between equal scores
    best = acc[valid].max()
    candidates = cuts[valid & np.isclose(acc, best)]
    return float(candidates[np.argmin(np.abs(candidates - 0.5))])


@torch.no_grad()
def evaluate(model: nn.Module, seqs: list[np.ndarray], labels: np.ndarray, features: Features = None,
             threshold: float = 0.5) -> dict[str, float]:
    """``accuracy`` (at ``threshold``), ``ce`` (plain cross-entropy) and ``roc_auc`` of ``model`` on one split."""
    scores = split_scores(predict_proba(model, seqs, features), labels, threshold)
    return {"accuracy": scores["accuracy"], "ce": scores["loss"], "roc_auc": scores["roc_auc"]}


def with_nb_features(data: Data, vocab_size: int, seed: int = 0) -> tuple[Data, NBRatios]:
    """``data`` with naive-Bayes features fitted on exactly its own training labels (cross-fitted).

    A study arm that trains on a subset must see ratios from that subset's labels only; ratios from the
    whole training split would hand it the labels of reviews the other arms never see.
    """
    f_train, other, ratios = nb_features.cross_fitted_features(data.x_train, data.y_train, {"val": data.x_val},
                                                               vocab_size, seed=seed)
    return replace(data, f_train=f_train, f_val=other["val"]), ratios


def ema_decay(span_epochs: float, n_train: int, batch_size: int) -> float:
    """EMA decay whose averaging horizon (1 / (1 - decay) steps) is ``span_epochs`` epochs long.

    Stating the horizon in epochs keeps the average meaningful at any budget: a fixed decay such as
    0.998 would average over most of a short study run and over a fraction of an epoch of a long one.
    """
    steps_per_epoch = max(1, -(-n_train // batch_size))
    return 1.0 - 1.0 / max(2.0, span_epochs * steps_per_epoch)
