"""One training run of the classifier (used for the final model, every study variant and every seed),
its evaluation and decision threshold, and the TF-IDF baseline.

Losses have explicit names everywhere: ``train_loss`` is the *label-smoothed* cross-entropy the
optimiser minimises; ``val_ce`` is the plain cross-entropy on validation, the smooth criterion the
best epoch is chosen on (accuracy moves in steps and one lucky epoch can win on it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from torch import nn

from a2.evaluation import accuracy
from a2.text.models import TransformerClassifier, TransformerConfig
from a2.text.predict import predict_proba
from a2.text.preprocess import BucketBatches, clean
from a2.training import History, TrainConfig, fit, make_optimizer, timed_steps

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
        """A random ``n``-review training subset (validation unchanged), for the reduced-budget study."""
        if n >= len(self.x_train):
            return self
        idx = np.random.default_rng(seed).choice(len(self.x_train), n, replace=False)
        return replace(self, x_train=[self.x_train[i] for i in idx], y_train=self.y_train[idx],
                       f_train=None if self.f_train is None else [self.f_train[i] for i in idx])

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


def train_classifier(data: Data, model_cfg: TransformerConfig, train_cfg: TrainConfig, *,
                     embedding: torch.Tensor | None, label_smoothing: float = 0.0, batch_size: int = 64,
                     seed: int = 42, device: torch.device | str = "cpu", checkpoint=None, checkpoint_extra=None
                     ) -> tuple[TransformerClassifier, History]:
    """Build a seeded model and train it with :func:`a2.training.fit`.

    The optimiser minimises label-smoothed cross-entropy (``train_loss``); after each epoch the model
    is scored on validation (``val_ce``, ``val_accuracy`` at 0.5, ``val_roc_auc``), and the epoch with
    the lowest ``val_ce`` is kept unless ``train_cfg.monitor`` says otherwise.
    """
    torch.manual_seed(seed)
    model = TransformerClassifier(model_cfg, embedding)
    train_loader = BucketBatches(data.x_train, data.y_train, batch_size, shuffle=True, seed=seed,
                                 features=data.f_train)

    def validate(m: nn.Module) -> dict[str, float]:
        scores = split_scores(predict_proba(m, data.x_val, data.f_val), data.y_val)
        return {f"val_{'ce' if k == 'loss' else k}": v for k, v in scores.items()}

    history = fit(model, train_loader, loss_fn=nn.CrossEntropyLoss(label_smoothing=label_smoothing),
                  config=train_cfg, device=device, metrics={"accuracy": accuracy}, epoch_end=validate,
                  checkpoint=checkpoint, checkpoint_extra=checkpoint_extra)
    return model, history


def tfidf_baseline(train_texts, y_train, test_texts, y_test, *, C: float = 4.0) -> dict:
    """TF-IDF on unigrams + bigrams, logistic regression; returns accuracy, scores and wall time."""
    start = time.perf_counter()
    vec = TfidfVectorizer(preprocessor=clean, ngram_range=(1, 2), min_df=2, max_df=0.95, sublinear_tf=True)
    xtr = vec.fit_transform(train_texts)
    clf = LogisticRegression(C=C, max_iter=1000).fit(xtr, y_train)
    score = clf.predict_proba(vec.transform(test_texts))[:, 1]
    runtime = time.perf_counter() - start
    pred = (score > 0.5).astype(int)
    acc = float((pred == np.asarray(y_test)).mean())
    return {"name": "TF-IDF (1-2 grams) + logistic regression", "test_accuracy": acc,
            "runtime_s": runtime, "score": score, "features": int(xtr.shape[1])}


def time_training_steps(data: Data, model_cfg: TransformerConfig, train_cfg: TrainConfig, *,
                        embedding: torch.Tensor | None, steps: int = 30, batch_size: int = 64,
                        label_smoothing: float = 0.0, device: torch.device | str = "cpu", seed: int = 0
                        ) -> dict[str, dict[str, float]]:
    """Wall time of ``steps`` training steps, eager vs ``torch.compile``, compilation included.

    Both runs see the same batches (variable lengths, as in real training) and take the same step as
    :func:`a2.training.fit` (:func:`a2.training.optimizer_step`), so the compiled model pays for the
    recompilations that new shapes trigger: what matters is the end-to-end time.
    """
    loader = BucketBatches(data.x_train, data.y_train, batch_size, shuffle=True, seed=seed, features=data.f_train)
    batches = [b for _, b in zip(range(steps), loader, strict=False)]
    loss_fn = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    out: dict[str, dict[str, float]] = {}
    for name in ("eager", "torch.compile"):
        torch.manual_seed(seed)
        model = TransformerClassifier(model_cfg, embedding).to(device).train()
        runner = torch.compile(model) if name == "torch.compile" else model
        # the optimizer holds the uncompiled model's parameters (the compiled wrapper shares them)
        times = timed_steps(runner, batches, loss_fn, make_optimizer(model, train_cfg), train_cfg, device)
        out[name] = {"total_s": float(sum(times)), "first_step_s": times[0],
                     "median_step_s": float(np.median(times)), "steps": len(times)}
    return out


def ema_decay(span_epochs: float, n_train: int, batch_size: int) -> float:
    """EMA decay whose averaging horizon (1 / (1 - decay) steps) is ``span_epochs`` epochs long.

    Stating the horizon in epochs keeps the average meaningful at any budget: a fixed decay such as
    0.998 would average over most of a short study run and over a fraction of an epoch of a long one.
    """
    steps_per_epoch = max(1, -(-n_train // batch_size))
    return 1.0 - 1.0 / max(2.0, span_epochs * steps_per_epoch)
