"""The NAB corpus: series, labelled anomaly windows and scoring profiles, validated on load.

Everything is indexed by the corpus-relative file name, e.g.
``"realKnownCause/machine_temperature_system_failure.csv"``. Bad files fail loudly with the file
name and the problem, never with a pandas traceback from deep inside a notebook.
"""

from __future__ import annotations

import json
import math
import os
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from a2.datasets import locate

PRIMARY_SERIES = "realKnownCause/machine_temperature_system_failure.csv"


class NABFormatError(ValueError):
    """A corpus or label file is malformed; the message names the file and the problem."""


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


def window_bounds(timestamps: pd.Series | pd.DatetimeIndex, windows: list[tuple[pd.Timestamp, pd.Timestamp]],
                  name: str = "series") -> list[tuple[int, int]]:
    """Row indices ``(left, right)`` of each window; every edge must equal a timestamp exactly."""
    index = pd.DatetimeIndex(timestamps)
    positions = pd.Series(np.arange(len(index)), index=index)
    bounds = []
    for start, end in windows:
        for edge in (start, end):
            if edge not in positions.index:
                raise NABFormatError(f"{name}: label timestamp {edge} is not a timestamp of the series")
        bounds.append((int(positions[start]), int(positions[end])))
    return bounds


def window_mask(timestamps: pd.Series | pd.DatetimeIndex, windows: list[tuple[pd.Timestamp, pd.Timestamp]],
                name: str = "series") -> np.ndarray:
    """Boolean array, True for rows inside a labelled window."""
    mask = np.zeros(len(timestamps), dtype=bool)
    for left, right in window_bounds(timestamps, windows, name):
        mask[left : right + 1] = True
    return mask


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


def load_profiles(root: str | os.PathLike[str] | None = None) -> dict[str, dict[str, float]]:
    """Scoring profiles ``{profile: {"tpWeight", "fnWeight", "fpWeight", "tnWeight"}}``."""
    return _profiles(str(corpus_root(root) / "config" / "profiles.json"))


# ---------------------------------------------------------------------------------------------
# Command line: python -m a2.anomaly.nab score RESULTS_DIR | detect --out DIR
# ---------------------------------------------------------------------------------------------


def _parse_thresholds(items: list[str] | None) -> dict[str, float]:
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        try:
            out[name] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise SystemExit(f"--threshold {item!r}: expected PROFILE=VALUE, e.g. standard=0.5")
    return out


def main(argv: list[str] | None = None) -> int:
    """``score`` prints the three profile scores as JSON; ``detect`` writes NAB-format results."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m a2.anomaly.nab", description=main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    score = sub.add_parser("score", help="NAB v1.1 score of a results folder (<category>/<detector>_<name>.csv)")
    score.add_argument("results_dir", metavar="RESULTS_DIR")
    score.add_argument("--threshold", action="append", metavar="PROFILE=VALUE",
                       help="fixed threshold for a profile (repeatable); swept when absent")
    detect = sub.add_parser("detect", help="run the streaming autoencoder detector on all 58 files")
    detect.add_argument("--out", required=True, help="folder for results; its name is the detector name")
    detect.add_argument("--model", default="dense", choices=("dense", "conv", "lstm"))
    detect.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    detect.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    if args.command == "score":
        from a2.anomaly import scoring

        thresholds = _parse_thresholds(args.threshold)  # fail fast, before reading 58 files
        try:
            scores, labels = scoring.read_results(args.results_dir)
            result = scoring.nab_score(scores, labels, thresholds=thresholds)
        except (scoring.NABScoreError, NABFormatError) as err:
            raise SystemExit(f"error: {err}") from None
        print(json.dumps(result, indent=2))
        return 0

    from a2.anomaly import detector

    config = detector.DetectorConfig(model=args.model, seed=args.seed)
    outputs = detector.detect_corpus(config, workers=args.workers)
    written = detector.write_results(outputs, args.out)
    print(f"wrote {len(written)} files under {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
