"""Part II series preparation: from a raw NAB series to scaled features, a split and training windows.

In the order :func:`prepare` runs them:

1. :func:`regularise`: sort, drop repeated timestamps, put the series on its regular grid and
   interpolate the holes, returning a :class:`GapReport` so nothing is fixed silently.
2. labels: rows inside labelled windows (:func:`a2.anomaly.corpus.window_mask`, by time range so
   it also works after regularisation), then optional :func:`downsample`.
3. :func:`chronological_split`: train / validation / test in time order, boundaries moved so that
   no labelled window is cut, and a clear error when validation or test would get no window.
4. :func:`make_features` and :class:`Scaler`: engineered features, standardised with statistics of
   the *normal training rows only*.
5. :class:`WindowDataset`: sliding windows yielding ``(x, x)``; training windows contain no
   labelled row, so the autoencoder learns normal behaviour only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from a2.anomaly.corpus import window_mask
from a2.evaluation import runs

# ---------------------------------------------------------------------------------------------
# 1. Timestamps: duplicates, order, gaps
# ---------------------------------------------------------------------------------------------


@dataclass
class GapReport:
    """What :func:`regularise` found and changed."""

    rows_in: int
    rows_out: int
    freq: pd.Timedelta
    backward_jumps: int  # places where a timestamp is earlier than the one before it
    duplicates: int  # repeated timestamps (the first occurrence is kept)
    missing: int  # grid slots with no reading, filled by time interpolation
    snapped: int = 0  # off-grid readings moved to the nearest grid slot (only with snap=True)
    gaps: list[tuple[pd.Timestamp, pd.Timestamp]] = field(default_factory=list)  # runs of missing slots

    @property
    def longest_gap(self) -> pd.Timedelta:
        return max(((b - a) + self.freq for a, b in self.gaps), default=pd.Timedelta(0))

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(freq=str(self.freq), longest_gap=str(self.longest_gap), gaps=[(str(a), str(b)) for a, b in self.gaps])
        return d


def regularise(df: pd.DataFrame, freq: str | pd.Timedelta | None = None, snap: bool = False,
               ) -> tuple[pd.DataFrame, GapReport]:
    """Put ``timestamp, value`` on a regular grid; adds an ``imputed`` column for filled slots.

    ``freq`` defaults to the most common step. Repeated timestamps keep their first reading (a
    clock that jumps back repeats an hour of stamps; the first copy is the one in time order).
    """
    if not {"timestamp", "value"} <= set(df.columns):
        raise ValueError(f"regularise needs 'timestamp' and 'value' columns, got {list(df.columns)}")
    if len(df) < 2:
        raise ValueError(f"regularise needs at least 2 rows to infer the step, got {len(df)}")
    ts = pd.DatetimeIndex(df["timestamp"])
    backward = int((np.diff(ts.asi8) < 0).sum())
    dup = ts.duplicated(keep="first")
    s = pd.Series(np.asarray(df["value"], dtype=float)[~dup], index=ts[~dup]).sort_index()
    step = pd.Timedelta(freq) if freq is not None else pd.Series(s.index).diff().mode().iloc[0]
    if step <= pd.Timedelta(0):
        raise ValueError(f"the time step must be positive, got {step}")
    grid = pd.date_range(s.index[0], s.index[-1], freq=step)
    off_grid = s.index.difference(grid)
    snapped = 0
    if len(off_grid) and snap:  # irregular loggers (NAB's traffic files, a DST hour): nearest slot, first wins
        rounded = grid[0] + ((s.index - grid[0]) / step).round().astype(int) * step
        snapped = int((rounded != s.index).sum())
        s = s.groupby(rounded).first()
    elif len(off_grid):
        raise ValueError(f"{len(off_grid)} timestamp(s) are off the {step} grid, first {off_grid[0]}; "
                         "pass freq= or snap=True")
    regular = s.reindex(grid)
    missing = regular.isna().to_numpy()
    filled = regular.interpolate(method="time").to_numpy()
    gaps = [(grid[a], grid[b]) for a, b in runs(missing)]
    out = pd.DataFrame({"timestamp": grid, "value": filled, "imputed": missing})
    report = GapReport(rows_in=len(df), rows_out=len(out), freq=step, backward_jumps=backward,
                       duplicates=int(dup.sum()), missing=int(missing.sum()), snapped=snapped, gaps=gaps)
    return out, report


def downsample(df: pd.DataFrame, rule: str | pd.Timedelta) -> pd.DataFrame:
    """Mean ``value`` per ``rule`` bin; boolean columns (``label``, ``imputed``) become "any row in the bin".

    NAB's windows last days while 5-minute readings carry sensor noise: coarser bins let a short
    model window span a whole day and cut the cost by the bin factor.
    """
    if "timestamp" not in df.columns:
        raise ValueError(f"downsample needs a 'timestamp' column, got {list(df.columns)}")
    g = df.set_index("timestamp").resample(pd.Timedelta(rule))
    agg = {c: ("mean" if c == "value" else "max") for c in df.columns if c != "timestamp"}
    out = g.agg(agg).reset_index()
    if out["value"].isna().any():
        raise ValueError(f"some {rule} bins have no reading; regularise() the series first")
    for c in agg:
        if c != "value":
            out[c] = out[c].astype(bool)
    return out


# ---------------------------------------------------------------------------------------------
# 3. Chronological split
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """Half-open row ranges ``[start, end)`` of the three chronological parts."""

    train: tuple[int, int]
    val: tuple[int, int]
    test: tuple[int, int]

    def parts(self) -> dict[str, slice]:
        return {k: slice(*getattr(self, k)) for k in ("train", "val", "test")}

    def summary(self, timestamps: Sequence[Any], labels: Sequence[bool]) -> pd.DataFrame:
        """Rows, time span, labelled rows and windows per part: the table a notebook shows."""
        ts, y = pd.DatetimeIndex(timestamps), np.asarray(labels, dtype=bool)
        rows = []
        for name, sl in self.parts().items():
            rows.append({"part": name, "rows": sl.stop - sl.start, "from": ts[sl.start], "to": ts[sl.stop - 1],
                         "labelled rows": int(y[sl].sum()), "anomaly windows": len(runs(y[sl])),
                         "anomaly share": float(y[sl].mean())})
        return pd.DataFrame(rows).set_index("part")


def _snap(boundary: int, windows: list[tuple[int, int]]) -> int:
    """Move a boundary that falls inside a labelled window to that window's start (it goes later)."""
    for s, e in windows:
        if s < boundary <= e:
            return s
    return boundary


def chronological_split(labels: Sequence[bool], fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)) -> Split:
    """Train / validation / test in time order, with no labelled window cut in two.

    Validation chooses the threshold and the architecture and test measures them, so each must
    hold at least one labelled window; if the fractions don't allow that the error says which
    part is empty and where the windows are, so you can move the boundaries.
    """
    y = np.asarray(labels, dtype=bool)
    if len(fractions) != 3 or min(fractions) <= 0 or not np.isclose(sum(fractions), 1.0):
        raise ValueError(f"fractions must be three positive numbers summing to 1, got {fractions}")
    n = len(y)
    windows = runs(y)
    b1 = _snap(round(n * fractions[0]), windows)
    b2 = _snap(round(n * (fractions[0] + fractions[1])), windows)
    split = Split(train=(0, b1), val=(b1, b2), test=(b2, n))
    for name, sl in split.parts().items():
        if sl.stop - sl.start <= 0:
            raise ValueError(f"the {name} part is empty with fractions {fractions}; adjust them")
        if name != "train" and not y[sl].any():
            where = ", ".join(f"rows {s}-{e} ({s / n:.0%}-{e / n:.0%})" for s, e in windows) or "none"
            raise ValueError(
                f"the {name} part (rows {sl.start}-{sl.stop - 1}) contains no labelled anomaly window, so it "
                f"could not {'choose a threshold' if name == 'val' else 'measure detection'}; labelled windows: "
                f"{where}. Change the split fractions so that validation and test each hold a window."
            )
    return split


# ---------------------------------------------------------------------------------------------
# 4. Features and scaling
# ---------------------------------------------------------------------------------------------


@dataclass
class FeatureConfig:
    diff: bool = True  # first difference: turns level shifts and sudden drops into spikes
    time_of_day: bool = True  # sin/cos of the hour: lets the model expect the daily cycle
    day_of_week: bool = False  # sin/cos of the weekday: for series with a weekly rhythm (e.g. taxis)


def make_features(df: pd.DataFrame, cfg: FeatureConfig | None = None) -> pd.DataFrame:
    """Engineered features from ``timestamp, value``; ``value`` always comes first."""
    cfg = cfg or FeatureConfig()
    ts = pd.DatetimeIndex(df["timestamp"])
    out = pd.DataFrame({"value": np.asarray(df["value"], dtype=float)}, index=range(len(df)))
    if cfg.diff:
        out["diff"] = out["value"].diff().fillna(0.0)
    if cfg.time_of_day:
        angle = 2 * np.pi * (ts.hour * 3600 + ts.minute * 60 + ts.second).to_numpy() / 86400
        out["tod_sin"], out["tod_cos"] = np.sin(angle), np.cos(angle)
    if cfg.day_of_week:
        angle = 2 * np.pi * (ts.day_of_week.to_numpy() + ts.hour.to_numpy() / 24) / 7
        out["dow_sin"], out["dow_cos"] = np.sin(angle), np.cos(angle)
    return out


@dataclass
class Scaler:
    """Per-feature standardisation; plain lists so it can live in a ``weights_only`` file."""

    mean: list[float] = field(default_factory=list)
    scale: list[float] = field(default_factory=list)

    def fit(self, x: np.ndarray) -> Scaler:
        x = np.asarray(x, dtype=float)
        if x.ndim != 2 or len(x) == 0:
            raise ValueError(f"Scaler.fit needs a non-empty (rows, features) array, got shape {x.shape}")
        std = x.std(axis=0)
        self.mean, self.scale = x.mean(axis=0).tolist(), np.where(std > 0, std, 1.0).tolist()
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        if not self.mean:
            raise RuntimeError("Scaler is not fitted; call fit() on the training rows first")
        x = np.asarray(x, dtype=float)
        if x.shape[-1] != len(self.mean):
            raise ValueError(f"Scaler was fitted on {len(self.mean)} features, got {x.shape[-1]}")
        return ((x - np.asarray(self.mean)) / np.asarray(self.scale)).astype(np.float32)

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x) * np.asarray(self.scale) + np.asarray(self.mean)

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": list(self.mean), "scale": list(self.scale)}

    @classmethod
    def from_dict(cls, d: dict[str, list[float]]) -> Scaler:
        return cls(mean=list(d["mean"]), scale=list(d["scale"]))


# ---------------------------------------------------------------------------------------------
# 5. Sliding windows
# ---------------------------------------------------------------------------------------------


def window_starts(n: int, window: int, stride: int = 1, usable: Sequence[bool] | None = None) -> np.ndarray:
    """Start rows of windows ``[i, i + window)`` every ``stride`` rows, entirely inside ``usable``."""
    if window < 1 or stride < 1:
        raise ValueError(f"window and stride must be >= 1, got window={window}, stride={stride}")
    if n < window:
        return np.zeros(0, dtype=np.int64)
    starts = np.arange(0, n - window + 1, dtype=np.int64)
    if usable is not None:
        ok = np.asarray(usable, dtype=bool)
        if len(ok) != n:
            raise ValueError(f"usable has {len(ok)} entries for {n} rows")
        bad = np.concatenate([[0], np.cumsum(~ok)])  # bad[j] = unusable rows before j
        starts = starts[bad[starts + window] - bad[starts] == 0]
    return starts[::stride] if usable is None else _every(starts, stride)


def _every(starts: np.ndarray, stride: int) -> np.ndarray:
    """Keep starts at least ``stride`` apart (restarting after each hole, so no segment is skipped)."""
    if stride == 1 or len(starts) == 0:
        return starts
    keep, last = [], -stride
    for s in starts.tolist():
        if s - last >= stride:
            keep.append(s)
            last = s
    return np.asarray(keep, dtype=np.int64)


class WindowDataset(Dataset):
    """Windows of ``features`` (rows, features) as ``(x, x)`` pairs for an autoencoder."""

    def __init__(self, features: np.ndarray, window: int, stride: int = 1, usable: Sequence[bool] | None = None):
        x = np.asarray(features, dtype=np.float32)
        if x.ndim != 2:
            raise ValueError(f"features must be (rows, features), got shape {x.shape}")
        self.data = torch.from_numpy(x)
        self.window = window
        self.starts = window_starts(len(x), window, stride, usable)
        if len(self.starts) == 0:
            raise ValueError(f"no window of {window} rows fits in {len(x)} rows (with the usable mask); "
                             "use a shorter window or a longer part")

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        s = int(self.starts[i])
        x = self.data[s : s + self.window]
        return x, x


# ---------------------------------------------------------------------------------------------
# 6. The whole preparation, so a notebook cell stays one call
# ---------------------------------------------------------------------------------------------


@dataclass
class Prepared:
    """A labelled, regular series with its split, features and train-only scaler."""

    name: str
    raw: pd.DataFrame  # as read from the corpus
    frame: pd.DataFrame  # regular (and possibly downsampled): timestamp, value, imputed, label
    gaps: GapReport
    split: Split
    features: pd.DataFrame  # unscaled engineered features
    scaler: Scaler
    x: np.ndarray  # scaled features, float32 (rows, features)

    @property
    def labels(self) -> np.ndarray:
        return self.frame["label"].to_numpy(dtype=bool)

    @property
    def parts(self) -> dict[str, slice]:
        return self.split.parts()

    def normal_rows(self, part: str) -> np.ndarray:
        """Rows of ``part`` outside every labelled window: what the autoencoder may learn from."""
        mask = np.zeros(len(self.frame), dtype=bool)
        mask[self.parts[part]] = True
        return mask & ~self.labels


def prepare(name: str, windows: Sequence[tuple[Any, Any]], raw: pd.DataFrame, *, resample: str | None = None,
            fractions: tuple[float, float, float] = (0.7, 0.15, 0.15), features: FeatureConfig | None = None,
            snap: bool = False) -> Prepared:
    """Regularise, label, (downsample), split, engineer features and fit the scaler on normal train rows."""
    frame, gaps = regularise(raw, snap=snap)
    frame["label"] = window_mask(frame["timestamp"], windows, name, exact=False)
    if resample:
        frame = downsample(frame, resample)
    split = chronological_split(frame["label"].to_numpy(), fractions)
    feats = make_features(frame, features)
    prepared = Prepared(name, raw, frame, gaps, split, feats, Scaler(), np.zeros(0, np.float32))
    prepared.scaler.fit(feats.to_numpy()[prepared.normal_rows("train")])
    prepared.x = prepared.scaler.transform(feats.to_numpy())
    return prepared


def acf(values: Sequence[float], max_lag: int) -> np.ndarray:
    """Sample autocorrelation for lags ``0..max_lag`` (biased estimator, as in statsmodels' default)."""
    x = np.asarray(values, dtype=float)
    if not 0 < max_lag < len(x):
        raise ValueError(f"max_lag must be between 1 and len(values) - 1 = {len(x) - 1}, got {max_lag}")
    x = x - x.mean()
    denom = float(x @ x)
    if denom == 0:
        raise ValueError("autocorrelation of a constant series is undefined")
    return np.array([float(x[: len(x) - k] @ x[k:]) / denom for k in range(max_lag + 1)])
