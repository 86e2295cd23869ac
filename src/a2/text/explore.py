"""Corpus statistics for the exploration section: lengths, vocabulary, top words, coverage."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd


def length_table(lengths: Sequence[int], labels: Sequence[int]) -> pd.DataFrame:
    """Describe token counts per class (count, mean, quartiles, max)."""
    df = pd.DataFrame({"tokens": np.asarray(lengths), "label": np.where(np.asarray(labels) == 1, "pos", "neg")})
    return df.groupby("label")["tokens"].describe(percentiles=[0.5, 0.9, 0.95]).round(1)


def top_words(corpus: Sequence[Sequence[str]], labels: Sequence[int], k: int = 15) -> dict[str, pd.Series]:
    """Most frequent tokens per class, and the tokens most over-represented in each (log-odds, +1 smoothing)."""
    labels = np.asarray(labels)
    counts = [Counter(t for doc, y in zip(corpus, labels, strict=True) if y == c for t in doc) for c in (0, 1)]
    vocab = sorted(set(counts[0]) | set(counts[1]))
    n0 = np.array([counts[0][w] for w in vocab], float) + 1
    n1 = np.array([counts[1][w] for w in vocab], float) + 1
    total = n0 + n1
    frequent = total >= 50
    log_odds = pd.Series(np.log(n1 / n1.sum()) - np.log(n0 / n0.sum()), index=vocab)[frequent]
    return {
        "neg (frequent)": pd.Series(dict(counts[0].most_common(k))),
        "pos (frequent)": pd.Series(dict(counts[1].most_common(k))),
        "neg (log-odds)": -log_odds.nsmallest(k),
        "pos (log-odds)": log_odds.nlargest(k),
    }


def zipf(corpus: Sequence[Sequence[str]]) -> np.ndarray:
    """Token frequencies sorted from the most to the least frequent."""
    return np.array(sorted(Counter(t for doc in corpus for t in doc).values(), reverse=True))


def coverage_vs_length(lengths: Sequence[int], max_lens: Sequence[int]) -> pd.DataFrame:
    """For each max_len: share of reviews that fit whole, and share of all tokens kept after truncation."""
    lengths = np.asarray(lengths)
    rows = [{"max_len": m, "reviews_whole": float((lengths <= m).mean()),
             "tokens_kept": float(np.minimum(lengths, m).sum() / max(1, lengths.sum()))} for m in max_lens]
    return pd.DataFrame(rows)


def vocab_coverage(corpus: Sequence[Sequence[str]], itos: Sequence[str]) -> float:
    """Share of tokens in ``corpus`` that the vocabulary knows."""
    known = set(itos)
    total = sum(len(d) for d in corpus)
    return sum(t in known for d in corpus for t in d) / max(1, total)
