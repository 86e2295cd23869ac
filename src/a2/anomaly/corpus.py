"""The NAB corpus: files, series, labelled windows (and their row masks), probation and profiles.

Everything is indexed by the corpus-relative file name, e.g.
``"realKnownCause/machine_temperature_system_failure.csv"``. Bad files fail loudly with the file
name and the problem, never with a pandas traceback from deep inside a notebook.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from a2.anomaly.errors import NABFormatError
from a2.datasets import locate

PRIMARY_SERIES = "realKnownCause/machine_temperature_system_failure.csv"


def corpus_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The NAB folder (``data/``, ``labels/``, ``config/``), located through :mod:`a2.datasets`."""
    return Path(root) if root is not None else locate("nab")


def corpus_files(root: str | os.PathLike[str] | None = None) -> list[str]:
    """All corpus files as sorted ``category/name.csv`` strings (58 in NAB v1.1)."""
    data = corpus_root(root) / "data"
    return sorted(p.relative_to(data).as_posix() for p in data.glob("*/*.csv"))


def _series_path(name: str | os.PathLike[str], root: str | os.PathLike[str] | None) -> Path:
    path = Path(name)
    if path.is_file():
        return path
    full = corpus_root(root) / "data" / path
    if not full.is_file():
        raise FileNotFoundError(f"NAB series {name!s} not found under {full.parent}")
    return full


def load_series(name: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Read one series as ``timestamp`` (datetime64) and ``value`` (float) columns, validated."""
    path = _series_path(name, root)
    df = pd.read_csv(path)
    missing = {"timestamp", "value"} - set(df.columns)
    if missing:
        raise NABFormatError(f"{path}: missing column(s) {sorted(missing)}; expected 'timestamp,value'")
    try:
        ts = pd.to_datetime(df["timestamp"], format="%Y-%m-%d %H:%M:%S")
    except (ValueError, TypeError) as err:
        raise NABFormatError(f"{path}: unparseable timestamp ({err}); expected 'YYYY-MM-DD HH:MM:SS'") from None
    values = pd.to_numeric(df["value"], errors="coerce")
    bad = df.index[values.isna() | ts.isna()]
    if len(bad):
        rows = ", ".join(str(i + 2) for i in bad[:5])  # +2: header line and 1-based numbering
        raise NABFormatError(f"{path}: {len(bad)} missing or non-numeric value(s), first at line(s) {rows}")
    return pd.DataFrame({"timestamp": ts, "value": values.astype(float)})


def load_windows(root: str | os.PathLike[str] | None = None) -> dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]:
    """``labels/combined_windows.json`` as ``{file: [(start, end), ...]}`` (both ends inclusive)."""
    path = corpus_root(root) / "labels" / "combined_windows.json"
    raw = json.loads(path.read_text())
    try:
        return {k: [(pd.Timestamp(a), pd.Timestamp(b)) for a, b in v] for k, v in raw.items()}
    except (ValueError, TypeError) as err:
        raise NABFormatError(f"{path}: malformed window ({err}); expected [[start, end], ...]") from None


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
                raise NABFormatError(f"{name}: label timestamp {edge} is not a timestamp of the series")
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
    raw = json.loads(Path(path).read_text())
    return {name: dict(p["CostMatrix"]) for name, p in raw.items()}


def profile_weights(root: str | os.PathLike[str] | None = None) -> dict[str, dict[str, float]]:
    """The cost weights of NAB's scoring profiles as ``config/profiles.json`` holds them:
    ``{profile: {"tpWeight", "fnWeight", "fpWeight", "tnWeight"}}``."""
    return _profiles(str(corpus_root(root) / "config" / "profiles.json"))
