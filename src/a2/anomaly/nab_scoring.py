"""The official NAB v1.1 score, re-implemented from ``docs/nab_scoring.md`` and vectorised with numpy.

A detector emits one ``anomaly_score`` in [0, 1] per row. For a threshold T a row is *flagged* iff
its score is >= T. Each row has a would-be value ``v_i`` (scaled sigmoid of its position relative to
the labelled windows, weighted by the profile); the score of a file is the sum of ``v_i`` over
flagged rows outside windows, plus the best ``v_i`` in each window that has a flag, minus ``A_FN``
for each missed window. Rows of the probationary period (first ``min(floor(0.15 N), 750)``) are
ignored. The threshold is swept exhaustively over every distinct score (ties go to the highest
threshold), and the raw sum is normalised so that "flag nothing" is 0 and "perfect" is 100.
Everything is computed on row indices, never on time deltas.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from a2.anomaly import corpus
from a2.anomaly.errors import NABScoreError

PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
NOTHING_FLAGGED = 1.1  # NAB's extra candidate threshold, above every legal score


@dataclass(frozen=True)
class Profile:
    """Cost weights of one NAB profile (``tnWeight`` exists in NAB's config but is never used)."""

    name: str
    tp: float
    fn: float
    fp: float

    def __post_init__(self) -> None:
        weights = (self.tp, self.fn, self.fp)
        finite = all(isinstance(w, (int, float)) and np.isfinite(w) and w >= 0 for w in weights)
        if not finite or self.tp + self.fn <= 0:
            raise NABScoreError(f"profile {self.name!r} has weights tp={self.tp!r}, fn={self.fn!r}, fp={self.fp!r}",
                                "use finite, non-negative weights with tp + fn > 0, as in NAB's profiles.json")

    @classmethod
    def from_config(cls, name: str, weights: Mapping[str, float]) -> Profile:
        try:
            return cls(name, float(weights["tpWeight"]), float(weights["fnWeight"]), float(weights["fpWeight"]))
        except (KeyError, TypeError, ValueError) as err:
            raise NABScoreError(f"profile {name!r}: CostMatrix {weights!r} lacks a numeric {err}",
                                "give tpWeight, fnWeight and fpWeight as numbers") from None


def load_profiles(root: str | os.PathLike[str] | None = None) -> dict[str, Profile]:
    """The three profiles of ``config/profiles.json`` as :class:`Profile` objects."""
    return {name: Profile.from_config(name, w) for name, w in corpus.profile_weights(root).items()}


@dataclass(frozen=True)
class FileLabels:
    """What the scorer needs of one file: its length and its windows as inclusive row indices."""

    name: str
    n_rows: int
    bounds: tuple[tuple[int, int], ...]

    @property
    def probation(self) -> int:
        return corpus.probationary_length(self.n_rows)

    @property
    def category(self) -> str:
        return self.name.split("/")[0]

    @classmethod
    def from_timestamps(cls, name: str, timestamps: pd.Series | pd.DatetimeIndex,
                        windows: Sequence[tuple[pd.Timestamp, pd.Timestamp]]) -> FileLabels:
        """Map window edges to rows by exact timestamp match (a missing edge is an error)."""
        bounds = tuple(corpus.window_bounds(timestamps, list(windows), name))
        return cls(name, len(timestamps), bounds)

    def window_mask(self) -> np.ndarray:
        return corpus.bounds_mask(self.n_rows, self.bounds)


@cache
def _corpus_timestamps(name: str, root: str | None) -> pd.Series:
    return corpus.load_series(name, root)["timestamp"]


@cache
def _corpus_labels(root: str | None) -> dict[str, FileLabels]:
    windows = corpus.load_windows(root)
    return {name: FileLabels.from_timestamps(name, _corpus_timestamps(name, root), windows.get(name, []))
            for name in corpus.corpus_files(root)}


def corpus_labels(root: str | os.PathLike[str] | None = None) -> dict[str, FileLabels]:
    """:class:`FileLabels` of all 58 corpus files (cached; reads every series once)."""
    return dict(_corpus_labels(str(root) if root is not None else None))


def scaled_sigmoid(x: np.ndarray | float) -> np.ndarray:
    """NAB's ``2 / (1 + exp(5x)) - 1``, exactly -1 for ``x > 3``."""
    x = np.asarray(x, dtype=float)
    with np.errstate(over="ignore"):
        y = 2.0 / (1.0 + np.exp(5.0 * x)) - 1.0
    return np.where(x > 3.0, -1.0, y)


MAX_TP = float(scaled_sigmoid(-1.0))


def window_ids(labels: FileLabels) -> np.ndarray:
    """Per row: the index of the window containing it, or -1."""
    ids = np.full(labels.n_rows, -1, dtype=np.int64)
    for k, (left, right) in enumerate(labels.bounds):
        ids[left : right + 1] = k
    return ids


def row_values(labels: FileLabels, profile: Profile) -> np.ndarray:
    """``v_i``: what flagging row i would be worth (spec §4), for every row (probation included)."""
    n = labels.n_rows
    i = np.arange(n)
    v = np.full(n, -profile.fp, dtype=float)
    prev_right = np.full(n, -1, dtype=np.int64)
    prev_width = np.zeros(n, dtype=np.int64)
    for left, right in labels.bounds:
        width = right - left + 1
        inside = slice(left, right + 1)
        v[inside] = profile.tp * scaled_sigmoid(-(right - i[inside] + 1) / width) / MAX_TP
        prev_right[right + 1 :] = right
        prev_width[right + 1 :] = width
    after = (prev_right >= 0) & (window_ids(labels) < 0)
    if after.any():
        dist = np.abs(prev_right[after] - i[after]) / np.maximum(prev_width[after] - 1, 1)
        v[after] = profile.fp * scaled_sigmoid(dist)
    return v


def check_scores(name: str, scores: np.ndarray, n_rows: int) -> np.ndarray:
    """Scores as a float array of the right length, all finite and in [0, 1]; else a clear error."""
    arr = np.asarray(scores, dtype=float)
    if arr.ndim != 1 or len(arr) != n_rows:
        raise NABScoreError(f"{name}: {arr.shape} anomaly scores for a series of {n_rows} rows", "need one per row")
    bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0) | (arr > 1))
    if len(bad):
        raise NABScoreError(f"{name}: anomaly_score must be in [0, 1] and not NaN; row {bad[0]} is {arr[bad[0]]} "
                            f"({len(bad)} bad row(s))", "clip or calibrate the detector output")
    return arr


@dataclass
class _Events:
    """The pooled, non-probationary rows of many files, reduced to (score, change of S) events."""

    scores: np.ndarray  # event score, sorted descending
    deltas: np.ndarray  # change in S once the threshold reaches the event score
    base: float  # S with nothing flagged
    n_windows: int


def _events(scores: Mapping[str, np.ndarray], labels: Mapping[str, FileLabels], profile: Profile) -> _Events:
    all_s, all_v, all_w = [], [], []
    offset, n_windows = 0, 0
    for name, lab in labels.items():
        if name not in scores:
            raise NABScoreError(f"no anomaly scores for corpus file {name}", "the detector must emit every file")
        s = check_scores(name, scores[name], lab.n_rows)
        p = lab.probation
        ids = window_ids(lab)[p:]
        all_s.append(s[p:])
        all_v.append(row_values(lab, profile)[p:])
        all_w.append(np.where(ids >= 0, ids + offset, -1))
        offset += len(lab.bounds)
        n_windows += len(lab.bounds)
    s, v, w = np.concatenate(all_s), np.concatenate(all_v), np.concatenate(all_w)
    base = -profile.fn * n_windows

    fp = w < 0
    ev_s, ev_d = [s[fp]], [v[fp]]
    # Window rows: each window's entry is max(v of flagged rows), starting at -A_FN. Its running max
    # over rows sorted by descending score, differenced, gives the window's contribution as events.
    ws, wv, wid = s[~fp], v[~fp], w[~fp]
    if len(ws):
        order = np.lexsort((-ws, wid))  # by window, then score descending (stable)
        ws, wv, wid = ws[order], wv[order], wid[order]
        shift = 4.0 * (max(profile.tp, profile.fn) + 1.0)  # makes later windows' values exceed earlier ones
        run = np.maximum.accumulate(wv + wid * shift) - wid * shift
        first = np.r_[True, wid[1:] != wid[:-1]]
        prev = np.where(first, -profile.fn, np.r_[0.0, run[:-1]])
        ev_s.append(ws)
        ev_d.append(run - prev)
    es, ed = np.concatenate(ev_s), np.concatenate(ev_d)
    order = np.argsort(-es, kind="stable")
    return _Events(es[order], ed[order], base, n_windows)


def _curve(ev: _Events) -> tuple[np.ndarray, np.ndarray]:
    """Candidate thresholds (descending, starting at 1.1) and S at each."""
    total = ev.base + np.cumsum(ev.deltas)
    last = np.r_[ev.scores[1:] != ev.scores[:-1], True] if len(ev.scores) else np.zeros(0, bool)
    return np.r_[NOTHING_FLAGGED, ev.scores[last]], np.r_[ev.base, total[last]]


def threshold_curve(scores: Mapping[str, np.ndarray], labels: Mapping[str, FileLabels],
                    profile: Profile) -> tuple[np.ndarray, np.ndarray]:
    """Every candidate threshold (descending) and the raw score S at it."""
    return _curve(_events(scores, labels, profile))


def raw_score(scores: Mapping[str, np.ndarray], labels: Mapping[str, FileLabels], profile: Profile,
              threshold: float) -> float:
    """S(T) of spec §5 summed over ``labels``' files: flag iff score >= T."""
    ev = _events(scores, labels, profile)
    return float(ev.base + ev.deltas[ev.scores >= threshold].sum())


def sweep(scores: Mapping[str, np.ndarray], labels: Mapping[str, FileLabels],
          profile: Profile) -> tuple[float, float]:
    """Best ``(threshold, raw S)``; among equal S the highest threshold wins, as in NAB."""
    thresholds, totals = threshold_curve(scores, labels, profile)
    best = int(np.argmax(totals))  # thresholds descend, so the first maximum is the highest threshold
    return float(thresholds[best]), float(totals[best])


def normalise(raw: float, n_windows: int, profile: Profile) -> float:
    """0 = flag nothing (``-A_FN`` per window), 100 = every window caught at its left edge."""
    if n_windows <= 0:
        raise NABScoreError("no labelled anomaly window among the scored files, so the score cannot be normalised",
                            "score files that include labelled windows (check labels/combined_windows.json)")
    null, perfect = -profile.fn * n_windows, profile.tp * n_windows
    return 100.0 * (raw - null) / (perfect - null)


def nab_score(scores: Mapping[str, np.ndarray], labels: Mapping[str, FileLabels] | None = None,
              profiles: Mapping[str, Profile] | None = None,
              thresholds: Mapping[str, float] | None = None) -> dict[str, dict[str, float]]:
    """``{profile: {"threshold", "raw", "score"}}``; thresholds swept unless given per profile."""
    labels = corpus_labels() if labels is None else labels
    profiles = load_profiles() if profiles is None else profiles
    thresholds = dict(thresholds or {})
    unknown = set(thresholds) - set(profiles)
    if unknown:
        raise NABScoreError(f"unknown profile(s) {sorted(unknown)}; choose from {sorted(profiles)}")
    n_windows = sum(len(lab.bounds) for lab in labels.values())
    out = {}
    for name, profile in profiles.items():
        if name in thresholds:
            t = float(thresholds[name])
            raw = raw_score(scores, labels, profile, t)
        else:
            t, raw = sweep(scores, labels, profile)
        out[name] = {"threshold": t, "raw": raw, "score": normalise(raw, n_windows, profile)}
    return out


def category_scores(scores: Mapping[str, np.ndarray], labels: Mapping[str, FileLabels], profile: Profile,
                    threshold: float) -> pd.DataFrame:
    """Per category at one (global) threshold: files, windows, raw S and the 0-100 score of that category."""
    if not labels:
        raise NABScoreError("no files to score")
    rows = []
    for cat in sorted({lab.category for lab in labels.values()}):
        sub = {k: v for k, v in labels.items() if v.category == cat}
        n_windows = sum(len(v.bounds) for v in sub.values())
        raw = raw_score(scores, sub, profile, threshold)
        rows.append({"category": cat, "files": len(sub), "windows": n_windows, "raw": raw,
                     "score": normalise(raw, n_windows, profile) if n_windows else float("nan")})
    return pd.DataFrame(rows).set_index("category")


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A score table as JSON-ready rows; a value that does not exist (NaN, e.g. the score of a category
    without anomaly windows) becomes ``None``, since results files hold only finite numbers."""
    return [{k: None if isinstance(v, float) and not np.isfinite(v) else v for k, v in row.items()}
            for row in frame.reset_index().to_dict(orient="records")]


def file_halves(labels: Mapping[str, FileLabels], seed: int = 0) -> tuple[list[str], list[str]]:
    """A seeded random split of the files into two halves, stratified by category (sizes differ by at most one)."""
    rng = np.random.default_rng(seed)
    halves: tuple[list[str], list[str]] = ([], [])
    for cat in sorted({lab.category for lab in labels.values()}):
        names = sorted(k for k, v in labels.items() if v.category == cat)
        rng.shuffle(names)
        for name in names:  # alternate across categories so the halves differ by at most one file
            halves[int(len(halves[0]) > len(halves[1]))].append(name)
    return halves


def out_of_sample(scores: Mapping[str, np.ndarray], labels: Mapping[str, FileLabels], profile: Profile,
                  seed: int = 0) -> dict[str, float]:
    """Two-fold threshold: sweep on half the files, score the other half with it, both ways, then sum.

    The halves (:func:`file_halves`) are a seeded random split stratified by category, so both halves
    see every kind of data.
    """
    out = selection_out_of_sample({"": scores}, labels, profile, seed)
    return {k: v for k, v in out.items() if not k.startswith("chosen")}


def selection_out_of_sample(variants: Mapping[str, Mapping[str, np.ndarray]], labels: Mapping[str, FileLabels],
                            profile: Profile, seed: int = 0) -> dict[str, Any]:
    """Two-fold check of a search: on one half of the files pick the variant (``{label: {file: score}}``)
    and its threshold with the best swept raw score, score the other half with both; both ways, summed.

    Choosing among many settings on the scored corpus fits part of its noise; this is what the choice is
    worth on files it did not see. With one variant it is the two-fold threshold of :func:`out_of_sample`.
    """
    if not variants:
        raise NABScoreError("no variants to choose from")
    halves = file_halves(labels, seed)
    out: dict[str, Any] = {}
    raw_total = 0.0
    for k, (fit_half, test_half) in enumerate(((halves[0], halves[1]), (halves[1], halves[0]))):
        fit_labels, test_labels = {n: labels[n] for n in fit_half}, {n: labels[n] for n in test_half}
        swept = {label: sweep(scores, fit_labels, profile) for label, scores in variants.items()}
        chosen = max(swept, key=lambda label: swept[label][1])  # first of equals: the order of ``variants``
        threshold = swept[chosen][0]
        raw_total += raw_score(variants[chosen], test_labels, profile, threshold)
        out[f"threshold_fold{k}"] = threshold
        out[f"chosen_fold{k}"] = chosen
    n_windows = sum(len(lab.bounds) for lab in labels.values())
    out["raw"] = raw_total
    out["score"] = normalise(raw_total, n_windows, profile)
    return out


def score_table(variants: Mapping[str, Mapping[str, np.ndarray]], labels: Mapping[str, FileLabels],
                profiles: Mapping[str, Profile] | None = None) -> pd.DataFrame:
    """One row per variant (``{label: {file: anomaly_score}}``), one column per profile: the swept 0-100 score."""
    profiles = load_profiles() if profiles is None else profiles
    rows = {label: {p: r["score"] for p, r in nab_score(s, labels, profiles).items()} for label, s in variants.items()}
    return pd.DataFrame(rows).T[list(profiles)]


def seed_summary(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Rows ``mean`` and ``sd`` (sample, ddof=1) of a seeds x profiles table, beside the seeds themselves."""
    if len(per_seed) < 2:
        raise ValueError(f"need at least two seeds for a standard deviation, got {len(per_seed)}")
    return pd.concat([per_seed, per_seed.agg(["mean", "std"]).rename(index={"std": "sd"})])


def scored_rows(scores: Mapping[str, np.ndarray], labels: Mapping[str, FileLabels]) -> tuple[np.ndarray, np.ndarray]:
    """All non-probationary rows pooled: (in-window label, anomaly score), for threshold-free metrics."""
    ys, ss = [], []
    for name, lab in labels.items():
        p = lab.probation
        ys.append(lab.window_mask()[p:])
        ss.append(check_scores(name, scores[name], lab.n_rows)[p:])
    return np.concatenate(ys).astype(int), np.concatenate(ss)


def check_rows(path: str | os.PathLike[str], timestamps: pd.Series, expected: pd.Series) -> None:
    """A results file must list its corpus series' timestamps row for row (count, values, order).

    Scoring works on row indices, so a missing, extra, shuffled or shifted row would silently move
    every later row into the wrong place; the error names the file and the first row that differs.
    """
    got, want = pd.DatetimeIndex(timestamps), pd.DatetimeIndex(expected)
    n = min(len(got), len(want))
    differ = np.flatnonzero(got[:n] != want[:n])
    if len(differ):
        i = int(differ[0])
        raise NABScoreError(f"{path}: row {i} (line {i + 2}) has timestamp {got[i]} but the corpus series has "
                            f"{want[i]} there", "write one row per corpus row, in the corpus order; if the corpus "
                            "copy itself was changed, restore it")
    if len(got) != len(want):
        what = "is missing rows" if len(got) < len(want) else "has extra rows"
        raise NABScoreError(f"{path} {what}: {len(got)} rows for a corpus series of {len(want)}, first difference at "
                            f"row {n} (line {n + 2})", "write one row per corpus row, in the corpus order")


def read_results(results_dir: str | os.PathLike[str], root: str | os.PathLike[str] | None = None,
                 ) -> tuple[dict[str, np.ndarray], dict[str, FileLabels]]:
    """Read NAB-layout results ``<dir>/<category>/<detector>_<name>.csv`` (detector = folder name).

    Every file must match its corpus series row for row (:func:`check_rows`); the windows are then
    the corpus file's, so nothing is scored against shifted labels.
    """
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        what = "is not a folder" if results_dir.exists() else "does not exist"
        raise NABScoreError(f"results folder {results_dir} {what}",
                            "pass the folder that holds <category>/<detector>_<name>.csv files")
    detector = results_dir.resolve().name
    labels_all = corpus_labels(root)
    scores, labels = {}, {}
    for name in corpus.corpus_files(root):
        cat, fname = name.split("/")
        path = results_dir / cat / f"{detector}_{fname}"
        if not path.is_file():
            raise NABScoreError(f"{path} is missing", "RESULTS_DIR must hold one file per corpus file, named "
                                f"<category>/<detector>_<name>.csv with detector = folder name {detector!r}")
        df = corpus.read_csv_columns(path, ("timestamp", "anomaly_score"), NABScoreError,
                                     "expected timestamp,anomaly_score columns")
        ts = pd.to_datetime(df["timestamp"], errors="coerce")
        if ts.isna().any():
            i = int(np.flatnonzero(ts.isna())[0])
            raise NABScoreError(f"{path}: row {i} (line {i + 2}) has an unparseable timestamp "
                                f"{df['timestamp'].iloc[i]!r}", "use 'YYYY-MM-DD HH:MM:SS'")
        check_rows(path, ts, _corpus_timestamps(name, None if root is None else str(root)))
        labels[name] = labels_all[name]
        scores[name] = check_scores(str(path), pd.to_numeric(df["anomaly_score"], errors="coerce").to_numpy(float),
                                    len(df))
    return scores, labels
