"""The NAB corpus: files, series, labelled windows (and their row masks), probation and profiles.

Everything is indexed by the corpus-relative file name, e.g.
``"realKnownCause/machine_temperature_system_failure.csv"``. Bad files fail loudly with the file
name and the problem, never with a pandas traceback from deep inside a notebook.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from a2.anomaly.errors import NABFormatError
from a2.datasets import check_nab_profiles, check_nab_windows, locate, nab_files, read_dataset_json
from a2.errors import A2Error, DataError


class NABSeriesNotFound(NABFormatError, FileNotFoundError):
    """A series name that is neither a file nor a corpus file."""


PRIMARY_SERIES = "realKnownCause/machine_temperature_system_failure.csv"


def corpus_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The NAB folder (``data/``, ``labels/``, ``config/``), located through :mod:`a2.datasets`."""
    return Path(root) if root is not None else locate("nab")


def corpus_files(root: str | os.PathLike[str] | None = None) -> list[str]:
    """All corpus files as sorted ``category/name.csv`` strings (58 in NAB v1.1)."""
    return nab_files(corpus_root(root))


def _series_path(name: str | os.PathLike[str], root: str | os.PathLike[str] | None) -> Path:
    path = Path(name)
    if path.is_file():
        return path
    full = corpus_root(root) / "data" / path
    if not full.is_file():
        raise NABSeriesNotFound(f"NAB series {name!s} not found under {full.parent}",
                                "name a corpus file as category/name.csv (see corpus_files())")
    return full


def read_csv_columns(path: str | os.PathLike[str], columns: Sequence[str], error: type[A2Error],
                     fix: str) -> pd.DataFrame:
    """A CSV holding at least ``columns``; ``error(what, fix)`` naming the file if it is unreadable or lacks one.

    Both CSVs of the benchmark go through it: a corpus series here, a detector's results in the scorer.
    """
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise error(f"{path}: not a readable CSV ({' '.join(str(err).split())[:200]})", fix) from None
    missing = set(columns) - set(df.columns)
    if missing:
        raise error(f"{path}: missing column(s) {sorted(missing)}", fix)
    return df


def load_series(name: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Read one series as ``timestamp`` (datetime64) and ``value`` (float) columns, validated."""
    path = _series_path(name, root)
    df = read_csv_columns(path, ("timestamp", "value"), NABFormatError,
                          "restore the corpus file; expected a 'timestamp,value' header")
    if df.empty:
        raise NABFormatError(f"{path} has a header but no rows", "restore the corpus file")
    try:
        ts = pd.to_datetime(df["timestamp"], format="%Y-%m-%d %H:%M:%S")
    except (ValueError, TypeError) as err:
        raise NABFormatError(f"{path}: unparseable timestamp ({' '.join(str(err).split())[:200]})",
                             "expected 'YYYY-MM-DD HH:MM:SS'") from None
    values = pd.to_numeric(df["value"], errors="coerce")
    bad = df.index[values.isna() | ts.isna()]
    if len(bad):
        rows = ", ".join(str(i + 2) for i in bad[:5])  # +2: header line and 1-based numbering
        raise NABFormatError(f"{path}: {len(bad)} missing or non-numeric value(s), first at line(s) {rows}",
                             "restore the corpus file")
    return pd.DataFrame({"timestamp": ts, "value": values.astype(float)})


def load_windows(root: str | os.PathLike[str] | None = None) -> dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]:
    """``labels/combined_windows.json`` as ``{file: [(start, end), ...]}`` (both ends inclusive).

    Checked for structure every time (:func:`a2.datasets.check_nab_windows`: pairs, order, one entry per
    corpus file), whatever ``A2_VERIFY_DATA`` says; a bad file is a :class:`NABFormatError` naming it.
    """
    folder = corpus_root(root)
    path = folder / "labels" / "combined_windows.json"
    try:
        raw = read_dataset_json(path, "nab")
        check_nab_windows(raw, path, corpus_files(folder))
    except DataError as err:
        raise NABFormatError(err.what, err.fix) from None
    return {k: [(pd.Timestamp(a), pd.Timestamp(b)) for a, b in v] for k, v in raw.items()}


def window_bounds(timestamps: pd.Series | pd.DatetimeIndex | np.ndarray,
                  windows: Sequence[tuple[Any, Any]], name: str = "series", exact: bool = True,
                  ) -> list[tuple[int, int]]:
    """Row indices ``(left, right)`` of each window, both inclusive.

    ``exact=True`` (NAB's rule, for raw corpus files): every edge must equal a timestamp, else an
    error naming the file. ``exact=False`` (for regularised or resampled series, whose grid no
    longer holds the edges): the rows whose timestamp lies in ``[start, end]``; empty windows dropped.
    """
    index = pd.DatetimeIndex(timestamps)
    if not exact:
        out = []
        for start, end in windows:
            left = int(index.searchsorted(pd.Timestamp(start), side="left"))
            right = int(index.searchsorted(pd.Timestamp(end), side="right")) - 1
            if right >= left:
                out.append((left, right))
        return out
    positions = pd.Series(np.arange(len(index)), index=index)
    bounds = []
    for start, end in windows:
        for edge in (start, end):
            if edge not in positions.index:
                raise NABFormatError(f"{name}: label timestamp {edge} is not a timestamp of the series",
                                     "every window edge in labels/combined_windows.json must be a row's timestamp")
        bounds.append((int(positions[start]), int(positions[end])))
    return bounds


def bounds_mask(n_rows: int, bounds: Sequence[tuple[int, int]]) -> np.ndarray:
    """Boolean array of ``n_rows``, True inside any inclusive ``(left, right)`` row range.

    The one place where windows become row masks (corpus files, Part II series, the scorer).
    """
    mask = np.zeros(n_rows, dtype=bool)
    for left, right in bounds:
        mask[left : right + 1] = True
    return mask


def window_mask(timestamps: pd.Series | pd.DatetimeIndex | np.ndarray, windows: Sequence[tuple[Any, Any]],
                name: str = "series", exact: bool = True) -> np.ndarray:
    """Boolean array, True for rows inside a labelled window (see :func:`window_bounds` for ``exact``)."""
    return bounds_mask(len(timestamps), window_bounds(timestamps, windows, name, exact))


def load_labelled(name: str, root: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """A series with a boolean ``label`` column (inside a window) — the usual starting point."""
    df = load_series(name, root)
    df["label"] = window_mask(df["timestamp"], load_windows(root).get(name, []), name)
    return df


def probationary_length(n_rows: int) -> int:
    """NAB's probationary period: ``min(floor(0.15 N), 750)`` rows, excluded from scoring."""
    return min(math.floor(0.15 * n_rows), 750)


@cache
def _profiles(path: str) -> dict[str, dict[str, float]]:
    try:
        raw = read_dataset_json(Path(path), "nab")
        check_nab_profiles(raw, Path(path))
    except DataError as err:
        raise NABFormatError(err.what, err.fix) from None
    return {name: dict(p["CostMatrix"]) for name, p in raw.items()}


def profile_weights(root: str | os.PathLike[str] | None = None) -> dict[str, dict[str, float]]:
    """The cost weights of NAB's scoring profiles as ``config/profiles.json`` holds them:
    ``{profile: {"tpWeight", "fnWeight", "fpWeight", "tnWeight"}}``, checked
    (:func:`a2.datasets.check_nab_profiles`: finite, non-negative weights, ``tp + fn > 0``)."""
    return _profiles(str(corpus_root(root) / "config" / "profiles.json"))
