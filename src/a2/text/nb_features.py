"""Naive-Bayes log-count ratios as a per-token input channel (Wang & Manning 2012, NBSVM).

For a token (or hashed bigram) ``f``, ``r_f = log((p_f / |p|_1) / (q_f / |q|_1))`` where ``p`` and
``q`` count the positive and negative training reviews that contain ``f`` (plus ``alpha``). It is
the weight a linear model would give ``f``: feeding it to the Transformer brings in a linear-model
prior, which is why it is a separate, clearly labelled row of the optimisation study.

**Cross-fitting.** A training review must not see ratios computed from its own label, or the model
learns to trust them far more than they deserve on unseen reviews. Training reviews therefore get
ratios computed on the *other* folds of the training part; validation and test reviews get the
average of those fold ratios, so that they are as strong (each fold sees 80 % of the training part)
as what the model was trained on. No validation or test label is ever used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from a2.text.models import BIGRAM_PRIME


def bigram_keys(ids: np.ndarray, buckets: int) -> np.ndarray:
    """Hash (previous id, id) into ``[1, buckets)``; 0 at the first position (as ``models.bigram_ids``)."""
    ids = np.asarray(ids, dtype=np.int64)
    prev = np.concatenate([[0], ids[:-1]]) if len(ids) else ids
    keys = (prev * BIGRAM_PRIME + ids) % (buckets - 1) + 1
    if len(keys):
        keys[0] = 0
    return keys


@dataclass(frozen=True)
class NBRatios:
    """Log-count ratios of unigrams (indexed by token id) and hashed bigrams (indexed by bucket)."""

    unigram: np.ndarray
    bigram: np.ndarray

    def features(self, ids: np.ndarray) -> np.ndarray:
        """``(len(ids), 2)`` float32: the unigram and bigram ratio at each position (0 where unknown)."""
        ids = np.asarray(ids, dtype=np.int64)
        return np.stack([self.unigram[ids], self.bigram[bigram_keys(ids, len(self.bigram))]], axis=1
                        ).astype(np.float32)


def _doc_counts(docs: Sequence[np.ndarray], labels: np.ndarray, size: int, keys) -> tuple[np.ndarray, np.ndarray]:
    pos, neg = np.zeros(size), np.zeros(size)
    for doc, y in zip(docs, labels, strict=True):
        present = np.unique(keys(doc))
        (pos if y == 1 else neg)[present] += 1.0
    return pos, neg


def _ratio(pos: np.ndarray, neg: np.ndarray, alpha: float) -> np.ndarray:
    p, q = pos + alpha, neg + alpha
    r = np.log(p / p.sum()) - np.log(q / q.sum())
    r[0] = 0.0  # padding / "no bigram"
    return r


def fit_ratios(docs: Sequence[np.ndarray], labels: Sequence[int], vocab_size: int, bigram_buckets: int = 1 << 20,
               alpha: float = 1.0) -> NBRatios:
    """Ratios from ``docs`` (id arrays) and their labels, with binarised (per-review) counts."""
    labels = np.asarray(labels)
    uni = _ratio(*_doc_counts(docs, labels, vocab_size, lambda d: d), alpha)
    bi = _ratio(*_doc_counts(docs, labels, bigram_buckets, lambda d: bigram_keys(d, bigram_buckets)), alpha)
    return NBRatios(uni, bi)


def cross_fitted_features(train_docs: Sequence[np.ndarray], train_labels: Sequence[int],
                          other: dict[str, Sequence[np.ndarray]], vocab_size: int, *, folds: int = 5,
                          seed: int = 0, bigram_buckets: int = 1 << 20, alpha: float = 1.0
                          ) -> tuple[list[np.ndarray], dict[str, list[np.ndarray]], NBRatios]:
    """Per-token NB features: training reviews from out-of-fold ratios, ``other`` splits from their average.

    Returns the training features, the features of each split in ``other``, and the averaged ratios
    (what a deployed model uses for new text).
    """
    labels = np.asarray(train_labels)
    fold = np.random.default_rng(seed).permutation(len(train_docs)) % folds
    train_feats: list[np.ndarray] = [np.empty((0, 2), np.float32)] * len(train_docs)
    uni, bi = np.zeros(vocab_size), np.zeros(bigram_buckets)
    for k in range(folds):
        fit_idx, apply_idx = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        ratios = fit_ratios([train_docs[i] for i in fit_idx], labels[fit_idx], vocab_size, bigram_buckets, alpha)
        for i in apply_idx:
            train_feats[i] = ratios.features(train_docs[i])
        uni += ratios.unigram / folds
        bi += ratios.bigram / folds
    averaged = NBRatios(uni, bi)
    return train_feats, {name: [averaged.features(d) for d in docs] for name, docs in other.items()}, averaged
