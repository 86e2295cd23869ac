"""Text preprocessing for IMDB: clean, tokenise (NLTK), drop stop words, vocabulary, word2vec, batches.

Everything that is *fitted* (the vocabulary, the word2vec vectors) sees the training split only.
Tokenised corpora are cached (gzipped JSON) under ``build/cache`` keyed by a hash of the settings and the texts.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import os
import re
import stat
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import numpy as np
import torch

from a2 import datasets, io
from a2.io import atomic_write
from a2.progress import progress as progress_bar
from a2.runtime import cache_dir

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1

_TAG = re.compile(r"<[^>]+>")
_NON_WORD = re.compile(r"[^a-z0-9'\s]+")  # punctuation and symbols (apostrophes inside words survive)
_STRAY_APOSTROPHE = re.compile(r"(?<![a-z0-9])'|'(?![a-z0-9])")
_WORD = r"[a-z0-9]+(?:'[a-z]+)?"


# ---------------------------------------------------------------------------------------------
# NLTK data, without nltk.download
# ---------------------------------------------------------------------------------------------


def _unsafe_for_nltk(folder: Path) -> bool:
    """nltk >= 3.10 refuses group/world-writable data files, or files owned by another user."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    for path in folder.rglob("*"):
        st = path.stat()
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) or (uid not in (None, 0) and st.st_uid != uid):
            return True
    return False


@cache
def nltk_data_dir() -> Path:
    """The NLTK data folder (``a2.datasets.locate("nltk_data")``), registered in ``nltk.data.path``.

    If nltk would refuse its files (writable by others, or another owner), the folder is copied once
    to ``<cache>/nltk`` with safe permissions and that copy is used instead.
    """
    import nltk

    try:
        folder = datasets.locate("nltk_data", download=False)
    except datasets.DatasetNotFoundError as err:
        try:  # nltk's own search path (e.g. ~/nltk_data) may already hold the stop words
            nltk.data.find("corpora/stopwords")
            warnings.warn(f"{err}\nUsing the NLTK data on nltk's default path instead.", stacklevel=2)
            return Path(nltk.data.find("corpora/stopwords")).parents[1]
        except LookupError:
            pass
        try:
            folder = datasets.locate("nltk_data")
        except Exception as download_err:  # nltk.download raises ValueError/OSError offline
            raise LookupError(f"NLTK data (stopwords, punkt_tab) not found and could not be downloaded "
                              f"({download_err}). Fix: set A2_DATA_DIR to a folder containing nltk_data/, "
                              f"e.g. export A2_DATA_DIR=../shared/data") from err
    if _unsafe_for_nltk(folder):
        # one reusable private copy (keyed by the source's files), not a new temporary folder per run
        folder = io.private_copy(folder, cache_dir() / "nltk")
    if str(folder) not in nltk.data.path:
        nltk.data.path.insert(0, str(folder))
    return folder


NEGATIONS_KEPT = frozenset({"no", "not", "nor"})
# Contrast and intensity words carry sentiment structure: "good but too long", "very bad",
# "only redeeming", "more of the same", "most boring". NLTK lists them as stop words.
CONTRAST_INTENSITY_KEPT = frozenset({"but", "very", "too", "only", "more", "most", "few", "so", "than", "just",
                                     "against", "again", "all", "any", "same", "over", "off", "once"})


@cache
def stop_words(keep_negations: bool = True, keep_contrast: bool = False) -> frozenset[str]:
    """NLTK's English stop words, read from the local data folder (never downloaded at run time).

    With ``keep_negations`` the negations ("not", "no", "nor", "don't", "didn", ...) are *not*
    removed: "not good" must not become "good" in a sentiment task. With ``keep_contrast`` the
    contrast and intensity words of :data:`CONTRAST_INTENSITY_KEPT` stay as well.
    """
    nltk_data_dir()
    from nltk.corpus import stopwords

    try:
        words = set(stopwords.words("english"))
    except LookupError as err:
        raise LookupError(f"NLTK stopwords not found in {nltk_data_dir()}: the folder must contain "
                          f"corpora/stopwords/english (see a2.datasets.REGISTRY['nltk_data'])") from err
    if keep_negations:
        words -= {w for w in words if w in NEGATIONS_KEPT or w.endswith("n't") or f"{w}'t" in words}
    if keep_contrast:
        words -= CONTRAST_INTENSITY_KEPT
    return frozenset(words)


# ---------------------------------------------------------------------------------------------
# Cleaning and tokenisation
# ---------------------------------------------------------------------------------------------


def clean(text: str) -> str:
    """Strip HTML (``<br />``), unescape entities, lowercase, replace punctuation by spaces.

    Apostrophes inside words are kept so that "don't" stays one token (and can be a negation).
    """
    text = html.unescape(_TAG.sub(" ", text)).lower().replace("\u2019", "'").replace("`", "'")
    text = _NON_WORD.sub(" ", text)
    return _STRAY_APOSTROPHE.sub(" ", text)


TOKENIZERS = ("regexp", "wordpunct", "toktok", "word_tokenize")


@cache
def _tokenizer(name: str):
    import nltk

    if name == "regexp":
        return nltk.tokenize.RegexpTokenizer(_WORD).tokenize
    if name == "wordpunct":
        return nltk.tokenize.wordpunct_tokenize
    if name == "toktok":
        return nltk.tokenize.ToktokTokenizer().tokenize
    if name == "word_tokenize":
        nltk_data_dir()  # punkt_tab
        return nltk.word_tokenize
    raise ValueError(f"unknown tokenizer {name!r}; choose one of {TOKENIZERS}")


@dataclass(frozen=True)
class TextConfig:
    """How raw reviews become token lists."""

    tokenizer: str = "regexp"  # NLTK RegexpTokenizer: same words as word_tokenize here, ~10x faster
    remove_stop_words: bool = True
    keep_negations: bool = True
    keep_contrast: bool = False  # keep "but", "very", "too", "only", "more", "most", ...


def tokenize(text: str, cfg: TextConfig = TextConfig(), stops: frozenset[str] | None = None) -> list[str]:
    """Clean, tokenise with NLTK, drop stop words and any punctuation left over.

    ``stops`` overrides the stop-word list that ``cfg`` would read from NLTK's data (a weights file
    carries its own list, so that prediction needs no NLTK data).
    """
    tokens = _tokenizer(cfg.tokenizer)(clean(text))
    if stops is None:
        stops = stop_words(cfg.keep_negations, cfg.keep_contrast) if cfg.remove_stop_words else frozenset()
    return [t for t in tokens if t not in stops and (t[0].isalnum() or any(c.isalnum() for c in t))]


def tokenize_corpus(texts: Sequence[str], cfg: TextConfig = TextConfig(), *, cache_dir: str | Path | None = None,
                    progress: bool = True) -> list[list[str]]:
    """:func:`tokenize` every text; cached under ``cache_dir`` by a hash of settings, stop words and texts.

    The cache is gzipped JSON (a format that cannot run code); a cache file that does not parse or
    does not hold one token list per text is ignored and rebuilt.
    """
    path = None
    if cache_dir is not None:
        digest = hashlib.sha256(json.dumps([asdict(cfg), sorted(stop_words(cfg.keep_negations, cfg.keep_contrast))
                                            if cfg.remove_stop_words else []]).encode())
        for t in texts:
            digest.update(t.encode("utf-8") + b"\0")
        path = Path(cache_dir) / f"tokens_{digest.hexdigest()[:24]}.json.gz"
        cached = _read_token_cache(path, len(texts))
        if cached is not None:
            return cached
    out = [tokenize(t, cfg) for t in progress_bar(texts, desc=f"tokenise ({cfg.tokenizer})", disable=not progress,
                                                  mininterval=1.0)]
    if path is not None:
        payload = gzip.compress(json.dumps(out).encode("utf-8"), compresslevel=1)
        atomic_write(path, lambda tmp: tmp.write_bytes(payload))
    return out


def _read_token_cache(path: Path, n_texts: int) -> list[list[str]] | None:
    try:
        data = json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, ValueError, EOFError):
        return None
    if isinstance(data, list) and len(data) == n_texts and all(isinstance(d, list) for d in data):
        return data
    return None


# ---------------------------------------------------------------------------------------------
# Vocabulary and encoding
# ---------------------------------------------------------------------------------------------


@dataclass
class Vocab:
    """Token <-> id; id 0 is padding, id 1 the unknown token. Built from training tokens only."""

    itos: list[str]

    def __post_init__(self) -> None:
        if self.itos[:2] != [PAD, UNK]:
            raise ValueError(f"a vocabulary must start with {PAD!r}, {UNK!r}; got {self.itos[:2]}")
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    @classmethod
    def build(cls, corpus: Iterable[Sequence[str]], min_freq: int = 2, max_size: int | None = 30_000) -> Vocab:
        """Most frequent tokens with count >= ``min_freq``, at most ``max_size`` (specials included)."""
        if min_freq < 1:
            raise ValueError(f"min_freq must be >= 1, got {min_freq}")
        counts = Counter(t for doc in corpus for t in doc)
        ranked = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
        if max_size is not None:
            ranked = ranked[: max(0, max_size - 2)]
        return cls([PAD, UNK, *ranked])

    def ids(self, tokens: Sequence[str]) -> list[int]:
        return [self.stoi.get(t, UNK_ID) for t in tokens]

    def oov_rate(self, tokens: Sequence[str]) -> float:
        """Fraction of ``tokens`` outside the vocabulary (1.0 for no tokens)."""
        return sum(t not in self.stoi for t in tokens) / len(tokens) if tokens else 1.0


def truncate(ids: Sequence[int], max_len: int, head_frac: float = 0.25) -> list[int]:
    """Keep the head and the tail of a long review: openings set the topic, endings give the verdict."""
    ids = list(ids)
    if len(ids) <= max_len:
        return ids
    head = int(round(max_len * head_frac))
    return ids[:head] + ids[len(ids) - (max_len - head):]


def encode(corpus: Sequence[Sequence[str]], vocab: Vocab, max_len: int, head_frac: float = 0.25) -> list[np.ndarray]:
    """Token lists -> id arrays (at least one id each, so that no sequence is all padding)."""
    out = []
    for doc in corpus:
        ids = truncate(vocab.ids(doc), max_len, head_frac) or [UNK_ID]
        out.append(np.asarray(ids, dtype=np.int64))
    return out


def pad_batch(seqs: Sequence[np.ndarray], fill: float = PAD_ID) -> torch.Tensor:
    """Right-pad to the longest sequence in the batch (dynamic padding); extra trailing dims are kept."""
    first = np.asarray(seqs[0])
    batch = np.full((len(seqs), max(len(s) for s in seqs), *first.shape[1:]), fill, dtype=first.dtype)
    for i, s in enumerate(seqs):
        batch[i, : len(s)] = s
    return torch.from_numpy(batch)


class BucketBatches:
    """Batches of ``(ids, labels)`` (or ``(ids, features, labels)``) grouped by length, so that little
    compute is spent on padding.

    Training: shuffle, cut into pools of ``pool`` batches, sort each pool by length, shuffle the
    batches (a new order every epoch, from ``seed`` + epoch). Evaluation: sorted by length, in order.
    """

    def __init__(self, seqs: Sequence[np.ndarray], labels: Sequence[int], batch_size: int = 64, *,
                 shuffle: bool = False, pool: int = 50, seed: int = 0,
                 features: Sequence[np.ndarray] | None = None) -> None:
        if len(seqs) != len(labels):
            raise ValueError(f"{len(seqs)} sequences but {len(labels)} labels")
        if features is not None and [len(f) for f in features] != [len(s) for s in seqs]:
            raise ValueError("features must hold one (length, channels) array per sequence, of the same length")
        self.features = None if features is None else list(features)
        if len(seqs) == 0:
            raise ValueError("no sequences to batch")
        self.seqs, self.labels = list(seqs), np.asarray(labels, dtype=np.int64)
        self.batch_size, self.shuffle, self.pool, self.seed = batch_size, shuffle, pool, seed
        self.lengths = np.array([len(s) for s in self.seqs])
        self.epoch = 0

    def __len__(self) -> int:
        return -(-len(self.seqs) // self.batch_size)

    def batch_indices(self) -> list[np.ndarray]:
        n, bs = len(self.seqs), self.batch_size
        if not self.shuffle:
            order = np.argsort(self.lengths, kind="stable")
            return [order[i: i + bs] for i in range(0, n, bs)]
        rng = np.random.default_rng(self.seed + self.epoch)
        order = rng.permutation(n)
        chunk = bs * self.pool
        batches = []
        for start in range(0, n, chunk):
            part = order[start: start + chunk]
            part = part[np.argsort(self.lengths[part], kind="stable")]
            batches += [part[i: i + bs] for i in range(0, len(part), bs)]
        return [batches[i] for i in rng.permutation(len(batches))]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        batches = self.batch_indices()
        self.epoch += 1
        for idx in batches:
            ids, labels = pad_batch([self.seqs[i] for i in idx]), torch.from_numpy(self.labels[idx])
            if self.features is None:
                yield ids, labels
            else:
                yield ids, pad_batch([self.features[i] for i in idx], fill=0.0), labels

    def order(self) -> np.ndarray:
        """Dataset indices in the order the batches yield them (to align predictions with rows)."""
        return np.concatenate(self.batch_indices()) if not self.shuffle else np.array([], dtype=np.int64)


# ---------------------------------------------------------------------------------------------
# word2vec (gensim), trained on the training split only
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Word2VecConfig:
    dim: int = 96
    window: int = 5
    min_count: int = 2
    epochs: int = 3
    sg: int = 0  # CBOW: several times faster than skip-gram on a shared 2-core CPU
    negative: int = 5
    workers: int = 1  # one worker thread: the only reproducible setting in gensim
    seed: int = 42


def train_word2vec(corpus: Sequence[Sequence[str]], vocab: Vocab, cfg: Word2VecConfig = Word2VecConfig()
                   ) -> tuple[torch.Tensor, float]:
    """Train word2vec on ``corpus`` and return an embedding matrix aligned with ``vocab``.

    Tokens without a vector get small random rows; padding is zero. Vectors are rescaled to unit
    RMS per dimension, the scale a freshly initialised ``nn.Embedding`` has. Also returns the
    fraction of the vocabulary that word2vec covered.
    """
    from gensim.models import Word2Vec

    w2v = Word2Vec(sentences=[list(d) for d in corpus], vector_size=cfg.dim, window=cfg.window,
                   min_count=cfg.min_count, sg=cfg.sg, negative=cfg.negative, workers=cfg.workers,
                   epochs=cfg.epochs, seed=cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    weight = torch.randn(len(vocab), cfg.dim, generator=gen)
    hits = [i for i, t in enumerate(vocab.itos) if t in w2v.wv.key_to_index]
    if hits:
        vecs = torch.from_numpy(np.stack([w2v.wv[vocab.itos[i]] for i in hits])).float()
        vecs = vecs / vecs.pow(2).mean().sqrt().clamp_min(1e-8)
        weight[hits] = vecs
    weight[PAD_ID] = 0.0
    return weight, len(hits) / max(1, len(vocab) - 2)
