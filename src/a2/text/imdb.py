"""The IMDB Large Movie Review Dataset (aclImdb v1): 25k train + 25k test reviews, 50/50 sentiment.

Reads the official tarball (or its extracted ``aclImdb/`` folder) found by :mod:`a2.datasets`,
including the movie of every review (the IMDb ``tt...`` id in ``urls_{pos,neg}.txt``, one line per
review id). Train and test movies are disjoint by construction, so the validation split is drawn by
movie too: otherwise validation rewards memorising movie names, titles and actors.
"""

from __future__ import annotations

import os
import re
import tarfile
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit, train_test_split

from a2 import datasets
from a2.errors import DataError

URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
LABELS = ("neg", "pos")  # index = class id
_MEMBER = re.compile(r"aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")
_URLS = re.compile(r"aclImdb/(train|test)/urls_(pos|neg)\.txt$")
_MOVIE = re.compile(r"title/(tt\d+)")

Row = tuple[str, str, int, int, str]
Urls = dict[tuple[str, str], list[str]]


def _movie_ids(lines: list[str], source: str) -> list[str]:
    ids = []
    for n, line in enumerate(lines, 1):
        m = _MOVIE.search(line)
        if not m:
            raise ValueError(f"{source} line {n}: no IMDb title id (tt...) in {line[:80]!r}")
        ids.append(m[1])
    return ids


def _rows_from_tar(archive: Path) -> tuple[list[Row], Urls]:
    rows, urls = [], {}
    try:
        with tarfile.open(archive) as tf:
            for member in tf:
                if not member.isfile():
                    continue
                if m := _MEMBER.search(member.name):
                    text = tf.extractfile(member).read().decode("utf-8")
                    rows.append((m[1], m[2], int(m[3]), int(m[4]), text))
                elif m := _URLS.search(member.name):
                    lines = tf.extractfile(member).read().decode("utf-8").splitlines()
                    urls[(m[1], m[2])] = _movie_ids(lines, f"{archive}:{member.name}")
    except (tarfile.TarError, EOFError, OSError, UnicodeDecodeError, zlib.error) as err:
        raise DataError(f"{archive} is not a readable aclImdb tarball ({err})",
                        f"download it again from {URL}") from None
    return rows, urls


def _rows_from_folder(folder: Path) -> tuple[list[Row], Urls]:
    rows, urls = [], {}
    for path in sorted(folder.glob("*/*/*.txt")):
        if m := _MEMBER.search(path.relative_to(folder.parent).as_posix()):
            rows.append((m[1], m[2], int(m[3]), int(m[4]), path.read_text(encoding="utf-8")))
    for path in sorted(folder.glob("*/urls_*.txt")):
        if m := _URLS.search(path.relative_to(folder.parent).as_posix()):
            urls[(m[1], m[2])] = _movie_ids(path.read_text(encoding="utf-8").splitlines(), str(path))
    return rows, urls


def read_reviews(root: str | os.PathLike[str]) -> pd.DataFrame:
    """Every labelled review under ``root`` (a folder with ``aclImdb.tar.gz`` or ``aclImdb/``).

    Columns: ``split`` (train/test), ``label`` (0 neg, 1 pos), ``rating`` (1-10), ``id``, ``movie``
    (IMDb title id, or ``""`` when the copy lacks ``urls_*.txt``), ``text``. Sorted by split, label
    and id so that the order never depends on the archive.
    """
    root = Path(root)
    if (root / "aclImdb").is_dir():
        rows, urls = _rows_from_folder(root / "aclImdb")
    elif (root / "aclImdb.tar.gz").is_file():
        rows, urls = _rows_from_tar(root / "aclImdb.tar.gz")
    else:
        raise FileNotFoundError(f"{root} holds neither aclImdb.tar.gz nor aclImdb/; download it from {URL}")
    if not rows:
        raise ValueError(f"no reviews under {root}: expected aclImdb/{{train,test}}/{{pos,neg}}/<id>_<rating>.txt")
    df = pd.DataFrame(rows, columns=["split", "sentiment", "id", "rating", "text"])
    df["label"] = (df["sentiment"] == "pos").astype(np.int64)
    df["movie"] = ""
    for (split_name, sentiment), ids in urls.items():
        rows_here = (df["split"] == split_name) & (df["sentiment"] == sentiment)
        review_ids = df.loc[rows_here, "id"].to_numpy()
        if len(review_ids) and review_ids.max() >= len(ids):
            raise ValueError(f"urls_{sentiment}.txt of {split_name} has {len(ids)} lines but review id "
                             f"{review_ids.max()} exists; the copy under {root} is inconsistent")
        df.loc[rows_here, "movie"] = np.asarray(ids, dtype=object)[review_ids]
    df = df.sort_values(["split", "label", "id"], ascending=[False, True, True], ignore_index=True)
    return df[["split", "label", "rating", "id", "movie", "text"]]


@cache
def _load_cached(root: Path, stamp: tuple[int, int]) -> pd.DataFrame:
    return read_reviews(root)


def load(root: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """:func:`read_reviews` on the located dataset (kept in memory for the session; a few seconds)."""
    root = Path(root) if root is not None else datasets.locate("imdb")
    source = root / "aclImdb.tar.gz" if (root / "aclImdb.tar.gz").is_file() else root / "aclImdb"
    stat = source.stat() if source.exists() else None
    return _load_cached(root.resolve(), (stat.st_size, stat.st_mtime_ns) if stat else (0, 0)).copy()


@dataclass(frozen=True)
class Splits:
    """Train / validation carved from the official train split; the official test split untouched."""

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}

    def movie_overlap(self, part: str = "val") -> float:
        """Fraction of ``part``'s reviews whose movie also has reviews in the training part."""
        frame = getattr(self, part)
        known = frame["movie"].ne("") & frame["movie"].isin(set(self.train["movie"]))
        return float(known.mean()) if len(frame) else 0.0


def split(df: pd.DataFrame, val_frac: float = 0.1, seed: int = 42, limit: int | None = None,
          by_movie: bool = True) -> Splits:
    """Seeded train/validation split of the official train reviews, grouped by movie.

    About ``val_frac`` of the *movies* (with all their reviews) go to validation, so that, like the
    official test split, validation shares no movie with training. ``by_movie=False`` gives the
    plain stratified split (reviews of one movie on both sides). ``limit`` keeps a stratified random
    subset of that many reviews per split (FAST mode).
    """
    if not 0 < val_frac < 1:
        raise ValueError(f"val_frac must be in (0, 1), got {val_frac}")
    official_train = df[df["split"] == "train"].reset_index(drop=True)
    test = df[df["split"] == "test"].reset_index(drop=True)
    if limit is not None:
        official_train = _subset(official_train, limit, seed)
        test = _subset(test, limit, seed)
    if by_movie:
        if "movie" not in official_train or official_train["movie"].eq("").any():
            raise ValueError("the reviews carry no movie ids (aclImdb/train/urls_{pos,neg}.txt missing); "
                             "use a complete copy of the dataset or split(..., by_movie=False)")
        n_movies = official_train["movie"].nunique()
        splitter = GroupShuffleSplit(n_splits=1, test_size=max(1, round(val_frac * n_movies)), random_state=seed)
        train_idx, val_idx = next(splitter.split(official_train, groups=official_train["movie"]))
        train, val = official_train.iloc[np.sort(train_idx)], official_train.iloc[np.sort(val_idx)]
    else:
        train, val = train_test_split(official_train, test_size=val_frac, stratify=official_train["label"],
                                      random_state=seed)
    return Splits(train.reset_index(drop=True), val.reset_index(drop=True), test)


def _subset(df: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    if n >= len(df):
        return df
    keep, _ = train_test_split(df, train_size=n, stratify=df["label"], random_state=seed)
    return keep.sort_index().reset_index(drop=True)


