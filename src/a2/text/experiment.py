"""One training run of the classifier (used for the final model and every ablation) and the baseline."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from a2.evaluation import accuracy
from a2.text.models import TransformerClassifier, TransformerConfig
from a2.text.preprocess import BucketBatches
from a2.training import History, TrainConfig, fit


@dataclass
class Data:
    """Encoded splits: id arrays and labels."""

    x_train: list[np.ndarray]
    y_train: np.ndarray
    x_val: list[np.ndarray]
    y_val: np.ndarray

    def subset(self, n: int, seed: int = 0) -> Data:
        """A random ``n``-review training subset (validation unchanged), for the reduced-budget study."""
        if n >= len(self.x_train):
            return self
        idx = np.random.default_rng(seed).choice(len(self.x_train), n, replace=False)
        return replace(self, x_train=[self.x_train[i] for i in idx], y_train=self.y_train[idx])


def train(data: Data, model_cfg: TransformerConfig, train_cfg: TrainConfig, *, embedding: torch.Tensor | None,
          label_smoothing: float = 0.0, batch_size: int = 64, seed: int = 42,
          device: torch.device | str = "cpu", checkpoint=None, checkpoint_extra=None
          ) -> tuple[TransformerClassifier, History]:
    """Build a seeded model, train it with :func:`a2.training.fit` and cross-entropy; best epoch on val accuracy."""
    torch.manual_seed(seed)
    model = TransformerClassifier(model_cfg, embedding)
    train_loader = BucketBatches(data.x_train, data.y_train, batch_size, shuffle=True, seed=seed)
    val_loader = BucketBatches(data.x_val, data.y_val, 256)
    history = fit(model, train_loader, val_loader, loss_fn=nn.CrossEntropyLoss(label_smoothing=label_smoothing),
                  config=train_cfg, device=device, metrics={"accuracy": accuracy},
                  checkpoint=checkpoint, checkpoint_extra=checkpoint_extra)
    return model, history


def tfidf_baseline(train_texts, y_train, test_texts, y_test, *, C: float = 4.0) -> dict:
    """TF-IDF on unigrams + bigrams, logistic regression; returns accuracy, scores and wall time."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from a2.text.preprocess import clean

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
