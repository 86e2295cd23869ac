"""The IMDB Large Movie Review Dataset (aclImdb v1): 25k train + 25k test reviews, 50/50 sentiment.

Reads the official tarball (or its extracted ``aclImdb/`` folder) found by :mod:`a2.datasets`.
Reading 50k small members of a tarball takes seconds, so the parsed reviews are cached as a pickle
under ``<repo>/build/cache/`` (git-ignored), never beside the shared mirror.
"""

from __future__ import annotations

import os
import pickle
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from a2 import datasets
from a2.io import atomic_write
from a2.runtime import REPO_ROOT

URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
LABELS = ("neg", "pos")  # index = class id
_MEMBER = re.compile(r"aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")


def cache_dir() -> Path:
    """``$A2_CACHE_DIR`` or ``<repo>/build/cache``: derived data that can always be rebuilt."""
    path = Path(os.environ.get("A2_CACHE_DIR", REPO_ROOT / "build" / "cache"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _rows_from_tar(archive: Path) -> list[tuple[str, str, int, int, str]]:
    rows = []
    with tarfile.open(archive) as tf:
        for member in tf:
            m = _MEMBER.search(member.name)
            if m and member.isfile():
                text = tf.extractfile(member).read().decode("utf-8")
                rows.append((m[1], m[2], int(m[3]), int(m[4]), text))
    return rows


def _rows_from_folder(folder: Path) -> list[tuple[str, str, int, int, str]]:
    rows = []
    for path in sorted(folder.glob("*/*/*.txt")):
        m = _MEMBER.search(path.relative_to(folder.parent).as_posix())
        if m:
            rows.append((m[1], m[2], int(m[3]), int(m[4]), path.read_text(encoding="utf-8")))
    return rows


def read_reviews(root: str | os.PathLike[str]) -> pd.DataFrame:
    """Every labelled review under ``root`` (a folder with ``aclImdb.tar.gz`` or ``aclImdb/``).

    Columns: ``split`` (train/test), ``label`` (0 neg, 1 pos), ``rating`` (1-10), ``id``, ``text``.
    Sorted by split, label and id so that the order never depends on the archive.
    """
    root = Path(root)
    if (root / "aclImdb").is_dir():
        rows = _rows_from_folder(root / "aclImdb")
    elif (root / "aclImdb.tar.gz").is_file():
        rows = _rows_from_tar(root / "aclImdb.tar.gz")
    else:
        raise FileNotFoundError(f"{root} holds neither aclImdb.tar.gz nor aclImdb/; download it from {URL}")
    if not rows:
        raise ValueError(f"no reviews under {root}: expected aclImdb/{{train,test}}/{{pos,neg}}/<id>_<rating>.txt")
    df = pd.DataFrame(rows, columns=["split", "sentiment", "id", "rating", "text"])
    df["label"] = (df["sentiment"] == "pos").astype(np.int64)
    df = df.sort_values(["split", "label", "id"], ascending=[False, True, True], ignore_index=True)
    return df[["split", "label", "rating", "id", "text"]]


def load(root: str | os.PathLike[str] | None = None, *, use_cache: bool = True) -> pd.DataFrame:
    """:func:`read_reviews` on the located dataset, cached under :func:`cache_dir`."""
    root = Path(root) if root is not None else datasets.locate("imdb")
    source = root / "aclImdb.tar.gz" if (root / "aclImdb.tar.gz").is_file() else root / "aclImdb"
    stat = source.stat()
    cache = cache_dir() / f"imdb_reviews_{stat.st_size}_{int(stat.st_mtime)}.pkl"
    if use_cache and cache.is_file():
        with open(cache, "rb") as fh:
            return pickle.load(fh)
    df = read_reviews(root)
    if use_cache:
        atomic_write(cache, lambda tmp: tmp.write_bytes(pickle.dumps(df, protocol=pickle.HIGHEST_PROTOCOL)))
    return df


@dataclass(frozen=True)
class Splits:
    """Train / validation carved from the official train split; the official test split untouched."""

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


def split(df: pd.DataFrame, val_frac: float = 0.1, seed: int = 42, limit: int | None = None) -> Splits:
    """Stratified, seeded train/validation split of the official train reviews.

    ``limit`` keeps a stratified random subset of that many reviews per split (FAST mode).
    """
    from sklearn.model_selection import train_test_split

    if not 0 < val_frac < 1:
        raise ValueError(f"val_frac must be in (0, 1), got {val_frac}")
    official_train = df[df["split"] == "train"].reset_index(drop=True)
    test = df[df["split"] == "test"].reset_index(drop=True)
    if limit is not None:
        official_train = _subset(official_train, limit, seed)
        test = _subset(test, limit, seed)
    train, val = train_test_split(official_train, test_size=val_frac, stratify=official_train["label"],
                                  random_state=seed)
    return Splits(train.reset_index(drop=True), val.reset_index(drop=True), test)


def _subset(df: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    if n >= len(df):
        return df
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(df, train_size=n, stratify=df["label"], random_state=seed)
    return keep.sort_index().reset_index(drop=True)
