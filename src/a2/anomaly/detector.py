"""A causal, streaming autoencoder detector for the NAB corpus.

Per file, in three causal stages:

1. **Reconstruction error.** A small autoencoder is trained on the sliding windows of the
   probationary period only (first ``min(floor(0.15 N), 750)`` rows, the rows NAB does not score),
   on values z-scored with probationary statistics. Afterwards the weights are frozen; the error of
   row t uses the window ending at t, so it never sees a later row.
2. **Calibration.** One global threshold is applied to all 58 files, so scores must mean the same
   everywhere. Following HTM's "anomaly likelihood", the mean error of the last ``short`` rows is
   compared with the mean/std of the trailing ``long`` rows *before* them (and, for
   ``calibration="both"``, also with the errors of the probationary period; the smaller z-score
   wins, so a row must be unusual against both). The Gaussian tail probability ``q`` of that z
   becomes ``-log10(q) / log_scale`` in [0, 1]. As in HTM's "spatial anomaly" detector, a value that
   leaves the range of all earlier values by more than ``spatial_tolerance`` of that range scores 1
   whatever its error (the larger of the two scores is kept).
3. **Alert suppression.** NAB charges every flagged row outside a window but credits only the first
   one inside it, so we emit one spike per excursion: a row whose calibrated score reaches ``level``
   alerts unless another alert fired within the last ``refractory`` rows; every other row gets 0.

Optional mechanisms, each causal and measured in ``nab_benchmark.ipynb``: continual re-fitting on a
trailing buffer (``refit_every``), calibration on a held-out half of the probation (``holdout``), a
second autoencoder on spike-preserving blocks (``coarse``), the magnitude and seasonal gates, and the
first-difference reference (``error_source``) that measures what the autoencoder adds, and the masked
newest row (``masked``): the input's last row is replaced by the one before it, so the model must
predict row t from rows < t instead of copying it (the target stays the unmasked window), and the
first-difference ensemble (``difference_ensemble``): stage 2 also calibrates the first difference of
the same z-scored values and keeps the larger of the two calibrated scores, and an ensemble of
autoencoders (``members``): several seeds trained alike, whose errors are averaged before stage 2.

Rows of the probationary period get score 0: the model is still learning there (and those rows are
not scored), so no score ever depends on a row after it.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy.special import log_ndtr
from torch import nn

from a2.anomaly import corpus, models
from a2.io import atomic_write
from a2.parallel import run_jobs
from a2.progress import progress as progress_bar
from a2.training import TrainConfig, fit

ERROR_SOURCES = ("autoencoder", "first_difference")


@dataclass(frozen=True)
class DetectorConfig:
    """Every knob of the detector. The defaults are the base configuration; :data:`REPORTED` holds the
    overrides that ``nab_benchmark.ipynb`` reports."""

    model: str = "dense"  # dense | conv | lstm (a2.anomaly.models, sizes in MODEL_SIZES)
    window: int = 16  # rows per autoencoder input
    epochs: int = 30
    batch_size: int = 32
    lr: float = 3e-3
    error: str = "last"  # "last": error of the newest row; "mean": mean error over the window
    error_scale: str = "absolute"  # calibrate the "squared" error or its root, the "absolute" error
    short: int = 6  # rows averaged for the short-term error
    long: int = 1500  # rows of trailing error history (the reference distribution)
    calibration: str = "both"  # "likelihood" (trailing history), "probation" (probation errors) or "both"
    probation_ref: str = "mean"  # probation reference: "mean" (z vs its mean) or "max" (excess over its maximum)
    log_scale: float = 60.0  # -log10(tail probability) / log_scale is the calibrated score (clipped to 1)
    spatial_tolerance: float | None = 0.01  # value outside [min, max] of all earlier rows by more than this
    # fraction of (max - min) scores 1 (HTM's spatial anomaly); None turns the value-level score off
    level: float = 0.035  # calibrated score that opens an alert (q = 10**(-log_scale * level))
    suppression: str = "refractory"  # "refractory" or "peak" (see suppress)
    margin: float = 0.5  # "peak": how much a new alert must beat the recent maximum
    refractory: float = 0.25  # rows without a new alert after one, as a multiple of the probation length
    error_source: str = "autoencoder"  # or "first_difference": the no-autoencoder reference, |z_t - z_(t-1)|
    holdout: bool = False  # train on the first half of the probation, calibrate on the errors of the second
    refit_every: int | None = None  # fine-tune every k rows on a trailing buffer of past rows (None = frozen)
    refit_buffer: int = 750  # rows of that buffer
    refit_epochs: int = 3
    coarse: int | None = None  # second autoencoder on blocks of this many rows (extreme value per block)
    magnitude_gate: float | None = None  # alert only if |value - median(previous gate_rows)| >= this x range so far
    bounded_output: float | None = None  # output squashed into the probation range widened by this share
    masked: bool = False  # input's newest row replaced by the one before it: predict x_t from rows < t
    seasonal_gate: int | None = None  # alert only if the error beats its maximum one such period (rows) earlier
    gate_rows: int = 288  # rows of the magnitude gate's trailing median (one day of 5-minute readings)
    difference_ensemble: bool = False  # stage 2: max of the calibrated error and calibrated first difference
    members: int = 1  # autoencoders whose errors are averaged (an ensemble); member k is seeded seed * members + k
    seed: int = 0

    def __post_init__(self) -> None:
        if self.error not in {"last", "mean"}:
            raise ValueError(f"error={self.error!r}; use 'last' or 'mean'")
        if self.calibration not in {"likelihood", "probation", "both"}:
            raise ValueError(f"calibration={self.calibration!r}; use 'likelihood', 'probation' or 'both'")
        if self.error_scale not in {"squared", "absolute"}:
            raise ValueError(f"error_scale={self.error_scale!r}; use 'squared' or 'absolute'")
        if self.probation_ref not in {"mean", "max"}:
            raise ValueError(f"probation_ref={self.probation_ref!r}; use 'mean' or 'max'")
        if self.suppression not in {"refractory", "peak"}:
            raise ValueError(f"suppression={self.suppression!r}; use 'refractory' or 'peak'")
        if self.spatial_tolerance is not None and not self.spatial_tolerance >= 0:
            raise ValueError(f"spatial_tolerance={self.spatial_tolerance!r}; use a number >= 0 or None")
        if self.error_source not in ERROR_SOURCES:
            raise ValueError(f"error_source={self.error_source!r}; use one of {ERROR_SOURCES}")
        for name in ("refit_every", "coarse", "seasonal_gate"):
            value = getattr(self, name)
            if value is not None and value < 2:
                raise ValueError(f"{name}={value!r}; use None or a whole number >= 2")
        if self.magnitude_gate is not None and not self.magnitude_gate >= 0:
            raise ValueError(f"magnitude_gate={self.magnitude_gate!r}; use None or a number >= 0")
        if self.members < 1:
            raise ValueError(f"members={self.members!r}; use a whole number >= 1 (1 = a single autoencoder)")
        if self.window < 2 or self.short < 1 or self.long < 10:
            raise ValueError(f"need window >= 2, short >= 1, long >= 10; got {self.window}, {self.short}, {self.long}")

    @property
    def ensemble(self) -> bool:
        """Whether stage one averages several autoencoders (the first difference has no members)."""
        return self.members > 1 and self.error_source == "autoencoder"


# ---------------------------------------------------------------------------------------------
# Stage 1: reconstruction error
# ---------------------------------------------------------------------------------------------


# Small on purpose: each file trains on at most 750 rows, and 58 files must train in minutes.
MODEL_SIZES: dict[str, dict[str, Any]] = {
    "dense": {"hidden": (32, 16), "latent": 4},
    "conv": {"channels": (8, 16), "kernel_size": 5, "latent_channels": 2},
    "lstm": {"hidden": 16, "latent": 8},
}
_REGISTRY_NAMES = {"dense": "dense", "conv": "conv1d", "lstm": "lstm"}


def build_model(name: str, window: int, n_features: int = 1, **bounds: Any) -> nn.Module:
    """A small autoencoder from :mod:`a2.anomaly.models` for ``(batch, window, features)`` windows."""
    if name not in MODEL_SIZES:
        raise ValueError(f"unknown model {name!r}; choose from {sorted(MODEL_SIZES)}")
    return models.build_model(_REGISTRY_NAMES[name], window=window, n_features=n_features, **MODEL_SIZES[name],
                              **bounds)


def sliding_windows(x: np.ndarray, window: int) -> np.ndarray:
    """``(len(x) - window + 1, window)`` view: row j holds ``x[j : j + window]`` (ends at j + window - 1)."""
    return np.lib.stride_tricks.sliding_window_view(x, window)


def _standardise(values: np.ndarray, rows: int) -> np.ndarray:
    """z-scores with the mean/std of the first ``rows`` values (a constant warm-up gets a tiny std, not 0)."""
    head = values[:rows]
    mu, sd = head.mean(), head.std()
    sd = sd if sd > 1e-8 * max(1.0, abs(mu)) else max(1.0, abs(mu)) * 1e-3
    return ((values - mu) / sd).astype(np.float32)


def _inputs(windows: torch.Tensor, cfg: DetectorConfig) -> torch.Tensor:
    """The model's input for ``(batch, window, features)`` windows: with ``masked``, the newest row is a copy of
    the row before it, so the model never sees the row whose error it is scored on."""
    if not cfg.masked:
        return windows
    x = windows.clone()
    x[:, -1] = x[:, -2]
    return x


def _train(model: nn.Module, z: np.ndarray, cfg: DetectorConfig, epochs: int, seed: int) -> None:
    """Fit ``model`` to every sliding window of ``z`` (shuffled once, seeded); the target is always unmasked."""
    train = torch.from_numpy(sliding_windows(z, cfg.window).copy()).unsqueeze(-1)
    perm = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))
    batches = [(_inputs(b, cfg), b) for b in (train[perm[i : i + cfg.batch_size]]
                                              for i in range(0, len(train), cfg.batch_size))]
    fit(model, batches, loss_fn=nn.functional.mse_loss, device="cpu",
        config=TrainConfig(epochs=epochs, lr=cfg.lr, monitor="train_loss", progress=False,
                           arithmetic="fp32", grad_clip=1.0))
    model.eval()


@torch.no_grad()
def _window_errors(model: nn.Module, z: np.ndarray, cfg: DetectorConfig) -> np.ndarray:
    """Squared error per window of ``z`` (window j ends at row j + window - 1): newest row or mean."""
    x = torch.from_numpy(sliding_windows(z, cfg.window).copy()).unsqueeze(-1)
    rec = torch.cat([model(_inputs(x[i : i + 4096], cfg)) for i in range(0, len(x), 4096)])
    sq = (rec - x).pow(2).squeeze(-1).numpy().astype(np.float64)
    return sq[:, -1] if cfg.error == "last" else sq.mean(axis=1)


def train_rows(probation: int, cfg: DetectorConfig) -> int:
    """Rows the autoencoder first trains on: the probation, or its first half with ``holdout``."""
    return probation // 2 if cfg.holdout else probation


def member_seeds(cfg: DetectorConfig) -> list[int]:
    """Seeds of the ensemble's members: disjoint for different ``cfg.seed`` (seed s owns s*m, ..., s*m + m - 1),
    and just ``cfg.seed`` for a single autoencoder."""
    return [cfg.seed * cfg.members + k for k in range(cfg.members)]


def member_errors(values: np.ndarray, cfg: DetectorConfig, probation: int) -> tuple[np.ndarray, nn.Module]:
    """``(members, rows)`` squared errors, one row per ensemble member (:func:`member_seeds`), and the last model.

    Members differ only in their seed (initial weights, batch order); averaging their errors removes
    the part of a row's error that is one model's accident rather than the data's.
    """
    runs = [reconstruction_errors(values, replace(cfg, members=1, seed=s), probation) for s in member_seeds(cfg)]
    return np.stack([err for err, _ in runs]), runs[-1][1]


def reconstruction_errors(values: np.ndarray, cfg: DetectorConfig, probation: int) -> tuple[np.ndarray, nn.Module]:
    """Per-row squared error (NaN for the first ``window - 1`` rows) and the last model.

    With ``members > 1`` this is the mean error of the ensemble (:func:`member_errors`).

    The scaler and the first training use rows ``< train_rows(probation)`` only. With
    ``refit_every = k`` the model is fine-tuned at rows P, P + k, ... on the ``refit_buffer`` rows
    before that point, and scores the next k rows; so the error of row t never depends on a row > t.
    ``error_source="first_difference"`` replaces the autoencoder by ``(z_t - z_(t-1))^2`` (reference).
    """
    values = np.asarray(values, dtype=np.float64)
    if cfg.ensemble:
        errors, model = member_errors(values, cfg, probation)
        return errors.mean(axis=0), model
    n_train = train_rows(probation, cfg)
    if n_train < cfg.window + 8:
        raise ValueError(f"probation of {probation} rows is too short for window={cfg.window}; lower the window")
    z = _standardise(values, n_train)
    if cfg.error_source == "first_difference":
        return np.r_[np.nan, np.diff(z.astype(np.float64)) ** 2], nn.Identity()
    torch.manual_seed(cfg.seed)
    bounds = models.output_range(z[:n_train, None], cfg.bounded_output) if cfg.bounded_output is not None else {}
    model = build_model(cfg.model, cfg.window, **bounds)
    _train(model, z[:n_train], cfg, cfg.epochs, cfg.seed)
    err = np.r_[np.full(cfg.window - 1, np.nan), _window_errors(model, z, cfg)]
    if cfg.refit_every is None:
        return err, model
    for k, start in enumerate(range(probation, len(z), cfg.refit_every)):
        lo = max(0, start - cfg.refit_buffer)
        _train(model, z[lo:start], cfg, cfg.refit_epochs, cfg.seed + k + 1)
        stop = min(len(z), start + cfg.refit_every)
        err[start:stop] = _window_errors(model, z[start - cfg.window + 1 : stop], cfg)
    return err, model


def coarse_errors(values: np.ndarray, cfg: DetectorConfig, probation: int) -> np.ndarray:
    """Errors of a second autoencoder on blocks of ``cfg.coarse`` rows, one value per row, causal.

    Each block keeps its most extreme value (farthest from the block mean), so a one-row spike
    survives the downsampling. A block's error is known once its last row has arrived, and is
    carried forward until the next block completes; rows before the first complete window get NaN.
    """
    c = cfg.coarse
    values = np.asarray(values, dtype=np.float64)
    n_blocks = len(values) // c
    blocks = values[: n_blocks * c].reshape(n_blocks, c)
    pick = np.abs(blocks - blocks.mean(axis=1, keepdims=True)).argmax(axis=1)
    coarse = blocks[np.arange(n_blocks), pick]
    out = np.full(len(values), np.nan)
    if probation // c < cfg.window + 8:  # too few probation blocks to train on: no coarse score for this file
        return out
    block_err, _ = reconstruction_errors(coarse, _coarse_config(cfg), probation // c)
    done = (np.arange(n_blocks) + 1) * c - 1  # row at which block b is complete
    for b in range(n_blocks):
        out[done[b] : done[b] + c] = block_err[b]
    return out


def _coarse_config(cfg: DetectorConfig) -> DetectorConfig:
    return DetectorConfig(**{**cfg.__dict__, "coarse": None, "refit_every": None, "holdout": False})


# ---------------------------------------------------------------------------------------------
# Stages 2 and 3: calibration and suppression (pure numpy/pandas, causal)
# ---------------------------------------------------------------------------------------------


def calibrate(errors: np.ndarray, probation: int, cfg: DetectorConfig) -> np.ndarray:
    """Calibrated score in [0, 1] per row: ``-log10`` of the Gaussian tail of the short-term error.

    The reference mean/std use only rows before the short-term block (trailing ``long`` rows, or the
    probationary rows for ``calibration="probation"``), so row t depends on rows <= t only.
    """
    e = pd.Series(np.asarray(errors, dtype=np.float64))
    if cfg.error_scale == "absolute":  # |error| has a lighter tail than its square: fewer false certainties
        e = np.sqrt(e)
    short = e.rolling(cfg.short, min_periods=1).mean()
    zs = []
    if cfg.calibration in {"likelihood", "both"}:
        past = e.shift(cfg.short)
        trailing = past.rolling(cfg.long, min_periods=10)
        zs.append(_z(short, trailing.mean(), trailing.std()))
    if cfg.calibration in {"probation", "both"}:
        ref = e.iloc[train_rows(probation, cfg) if cfg.holdout else 0 : probation]  # holdout: unseen rows only
        # "max": count only the excess over the largest short-term error seen while training
        centre = short.iloc[:probation].max() if cfg.probation_ref == "max" else ref.mean()
        zs.append(_z(short, pd.Series(centre, index=e.index), pd.Series(ref.std(), index=e.index)))
    z = np.minimum.reduce(zs)  # "both": unusual against the recent past *and* against the training period
    log10_tail = log_ndtr(-z) / math.log(10.0)
    score = np.clip(-log10_tail / cfg.log_scale, 0.0, 1.0)
    score = np.nan_to_num(score, nan=0.0)
    score[:probation] = 0.0
    return score


def spatial_score(values: np.ndarray, probation: int, cfg: DetectorConfig) -> np.ndarray:
    """1 where a value leaves the range of all earlier values by more than ``spatial_tolerance`` of it, else 0.

    HTM's "spatial anomaly": row t is compared with ``min``/``max`` of rows < t (probation included),
    so a new extreme scores once and then widens the range. Probationary rows get 0.
    """
    values = np.asarray(values, dtype=np.float64)
    out = np.zeros(len(values))
    if cfg.spatial_tolerance is None:
        return out
    prev = pd.Series(values).shift(1)
    hi, lo = prev.cummax().to_numpy(), prev.cummin().to_numpy()
    tol = cfg.spatial_tolerance * (hi - lo)
    with np.errstate(invalid="ignore"):  # row 0 has no history (NaN compares False)
        out[(hi > lo) & ((values > hi + tol) | (values < lo - tol))] = 1.0
    out[:probation] = 0.0
    return out


def gates(values: np.ndarray, errors: np.ndarray, cfg: DetectorConfig) -> np.ndarray:
    """True where an alert is allowed by the causal gates (all True when both are off).

    * magnitude: ``|value - median of the previous gate_rows values| >= magnitude_gate x (max - min so far)``,
      so a wiggle that is large only relative to a very quiet recent past cannot alert;
    * seasonal: the short-term error must exceed its maximum around the same phase one period
      earlier (``seasonal_gate`` rows, +- ``short``), so a daily pattern the model reconstructs badly
      every day does not alert every day.
    """
    v = pd.Series(np.asarray(values, dtype=np.float64))
    ok = np.ones(len(v), dtype=bool)
    if cfg.magnitude_gate is not None:
        median = v.shift(1).rolling(cfg.gate_rows, min_periods=1).median()
        seen = v.cummax() - v.cummin()
        ok &= ((v - median).abs() >= cfg.magnitude_gate * seen).fillna(False).to_numpy()
    if cfg.seasonal_gate is not None:
        e = np.sqrt(pd.Series(np.asarray(errors, dtype=np.float64))).rolling(cfg.short, min_periods=1).mean()
        earlier = e.shift(cfg.seasonal_gate - cfg.short).rolling(2 * cfg.short + 1, min_periods=1).max()
        ok &= (earlier.isna() | (e > earlier)).to_numpy()
    return ok


def combined_score(errors: np.ndarray, values: np.ndarray, probation: int, cfg: DetectorConfig,
                   coarse: np.ndarray | None = None) -> np.ndarray:
    """Stage 2 in full: the largest of the calibrated error score(s) and the spatial score, then the gates.

    With ``difference_ensemble`` the first difference of the same z-scored values (the reference's error,
    computed from ``values``, causal) is calibrated like the errors and the larger score is kept, so a
    row alerts if either the autoencoder or the first difference finds it unusual.
    """
    score = np.maximum(calibrate(errors, probation, cfg), spatial_score(values, probation, cfg))
    if cfg.difference_ensemble:
        diff, _ = reconstruction_errors(values, replace(cfg, error_source="first_difference"), probation)
        score = np.maximum(score, calibrate(diff, probation, cfg))
    if coarse is not None:
        score = np.maximum(score, calibrate(coarse, probation, _coarse_config(cfg)))
    return np.where(gates(values, errors, cfg), score, 0.0)


def _z(x: pd.Series, mean: pd.Series, std: pd.Series) -> np.ndarray:
    floor = 1e-3 * mean.abs() + 1e-6  # flat history: a tiny std would turn noise into certainty
    return ((x - mean) / np.maximum(std.fillna(0.0), floor)).to_numpy()


def suppress(scores: np.ndarray, probation: int, cfg: DetectorConfig) -> np.ndarray:
    """One spike per excursion, all other rows 0.

    ``"refractory"``: a score >= ``level`` alerts unless an alert fired in the last ``gap`` rows.
    ``"peak"``: a score >= ``level`` alerts only if it beats every score of the last ``gap`` rows by the
    factor ``1 + margin``, so each alert is also a new local record (a threshold above ``level`` keeps
    the first crossing of each excursion, as the swept threshold would want).
    """
    gap = max(1, int(round(cfg.refractory * probation)))
    out = np.zeros_like(scores)
    if cfg.suppression == "peak":
        prev = pd.Series(scores).shift(1).rolling(gap, min_periods=1).max().fillna(0.0).to_numpy()
        keep = (scores >= cfg.level) & (scores > (1 + cfg.margin) * prev)
        out[keep] = scores[keep]
        return out
    last = -(10**12)
    for t in np.flatnonzero(scores >= cfg.level):  # the loop runs over candidate alerts only
        if t - last > gap:
            out[t] = scores[t]
            last = t
    return out


@dataclass
class FileOutput:
    """What the detector produced for one file (all arrays have one entry per row)."""

    name: str
    timestamps: np.ndarray
    values: np.ndarray
    errors: np.ndarray
    coarse: np.ndarray | None  # second autoencoder's errors (``cfg.coarse``), else None
    calibrated: np.ndarray
    anomaly_score: np.ndarray
    seconds: float
    member_errors: np.ndarray | None = None  # (members, rows) for an ensemble (``cfg.members > 1``), else None


def detect_series(values: np.ndarray, cfg: DetectorConfig, probation: int | None = None,
                  errors: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
    """``(errors, coarse errors or None, calibrated, anomaly_score)`` for one series, causal.

    ``errors``: stage-one errors already computed for ``cfg`` (e.g. an ensemble's mean), else computed here.
    """
    values = np.asarray(values, dtype=np.float64)
    probation = corpus.probationary_length(len(values)) if probation is None else probation
    if errors is None:
        errors, _ = reconstruction_errors(values, cfg, probation)
    coarse = coarse_errors(values, cfg, probation) if cfg.coarse else None
    calibrated = combined_score(errors, values, probation, cfg, coarse)
    return errors, coarse, calibrated, suppress(calibrated, probation, cfg)


def detect_file(name: str, cfg: DetectorConfig, root: str | None = None) -> FileOutput:
    """Run the detector on one corpus file (one torch thread: files run in parallel instead)."""
    torch.set_num_threads(1)
    start = time.perf_counter()
    df = corpus.load_series(name, root)
    values = df["value"].to_numpy(dtype=np.float64)
    members = None
    if cfg.ensemble:  # keep each member's errors, not only their mean
        members, _ = member_errors(values, cfg, corpus.probationary_length(len(values)))
    errors, coarse, calibrated, score = detect_series(values, cfg, errors=None if members is None else members.mean(0))
    return FileOutput(name, df["timestamp"].to_numpy(), values, errors, coarse, calibrated, score,
                      time.perf_counter() - start, members)


def members_alone(outputs: dict[str, FileOutput], cfg: DetectorConfig) -> dict[int, dict[str, FileOutput]]:
    """``{member seed: outputs}``: each ensemble member's errors as if it were a single autoencoder.

    Stages 2-3 are left to :func:`postprocess` (with ``members=1`` and that seed), so one ensemble run
    also measures every member on its own with the same post-processing.
    """
    missing = [name for name, o in outputs.items() if o.member_errors is None]
    if missing:
        raise ValueError(f"{missing[0]} has no per-member errors; run detect_corpus with members > 1 first")
    return {seed: {name: replace(o, errors=o.member_errors[k], member_errors=None) for name, o in outputs.items()}
            for k, seed in enumerate(member_seeds(cfg))}


def _every_member(seed_outputs: dict[int, dict[str, FileOutput]], cfg: DetectorConfig,
                  ) -> dict[int, dict[str, FileOutput]]:
    """:func:`members_alone` of every seed's ensemble run, in one ``{member seed: outputs}``."""
    return {member: alone for seed, outputs in seed_outputs.items()
            for member, alone in members_alone(outputs, replace(cfg, seed=seed)).items()}


def member_scores(seed_outputs: dict[int, dict[str, FileOutput]], cfg: DetectorConfig,
                  ) -> dict[int, dict[str, np.ndarray]]:
    """``{member seed: {file: anomaly_score}}``: every member of every seed's ensemble alone, post-processed
    as ``cfg`` (with ``members=1``), i.e. the single-autoencoder detector on ``members x seeds`` seeds,
    measured by the ensemble runs themselves."""
    return {member: postprocess(alone, replace(cfg, members=1, seed=member))
            for member, alone in _every_member(seed_outputs, cfg).items()}


def regrouped(seed_outputs: dict[int, dict[str, FileOutput]], cfg: DetectorConfig, size: int,
              ) -> dict[tuple[int, ...], dict[str, FileOutput]]:
    """Every member of the ensemble runs ``seed_outputs`` regrouped into disjoint ensembles of ``size`` models
    (consecutive member seeds, a remainder left out): ``{member seeds: outputs}``, each with its group's mean error.

    One set of runs thus measures other ensemble sizes without training again (stages 2-3 via :func:`postprocess`).
    """
    alone = _every_member(seed_outputs, cfg)
    order = sorted(alone)
    if not 1 <= size <= len(order):
        raise ValueError(f"size={size!r}; the runs hold {len(order)} members, so use 1 to {len(order)}")
    groups = [tuple(order[i:i + size]) for i in range(0, len(order) - size + 1, size)]
    return {g: {name: replace(o, errors=np.mean([alone[m][name].errors for m in g], axis=0))
                for name, o in alone[g[0]].items()} for g in groups}


def postprocess(outputs: dict[str, FileOutput], cfg: DetectorConfig) -> dict[str, np.ndarray]:
    """Re-run stages 2-3 with other settings on cached errors (for the variants table: no retraining)."""
    return postprocess_many(outputs, {"": cfg})[""]


# Stage 3's settings: configurations that differ only in these share their stage-2 scores.
SUPPRESSION_FIELDS = ("level", "suppression", "margin", "refractory")


def postprocess_many(outputs: dict[str, FileOutput], configs: dict[str, DetectorConfig],
                     ) -> dict[str, dict[str, np.ndarray]]:
    """``{label: {file: anomaly_score}}``: :func:`postprocess` for every config, stage 2 computed once per file
    for all configs that differ only in their suppression (a search grid repeats each stage 2 many times)."""
    out: dict[str, dict[str, np.ndarray]] = {label: {} for label in configs}
    for name, o in outputs.items():
        p = corpus.probationary_length(len(o.errors))
        stage_two: dict[tuple[Any, ...], np.ndarray] = {}
        for label, cfg in configs.items():
            key = tuple(v for k, v in cfg.__dict__.items() if k not in SUPPRESSION_FIELDS)
            if key not in stage_two:
                stage_two[key] = combined_score(o.errors, o.values, p, cfg, o.coarse)
            out[label][name] = suppress(stage_two[key], p, cfg)
    return out


def variants(outputs: dict[str, FileOutput], configs: dict[str, DetectorConfig]) -> dict[str, dict[str, np.ndarray]]:
    """``{label: {file: anomaly_score}}``: stages 2-3 of each config re-run on the same cached errors.

    Only post-processing settings may differ (gates, calibration, suppression); settings that change
    the errors themselves (model, refitting, holdout, coarse) need a new :func:`detect_corpus` run.
    """
    first = next(iter(configs.values()))
    for label, cfg in configs.items():
        changed = [k for k in STAGE_ONE_FIELDS if getattr(cfg, k) != getattr(first, k)]
        if changed:
            raise ValueError(f"variant {label!r} changes {changed}, which need new reconstruction errors; "
                             "run detect_corpus for it instead")
    return postprocess_many(outputs, configs)


# The configuration nab_benchmark.ipynb reports (its CONFIG parameter), as overrides of DetectorConfig;
# chosen on the corpus (see that notebook, sections 3 and 6). The command line detects with it.
# ``long`` is HTM's anomaly-likelihood history (8640 rows, 30 days of 5-minute readings): HTM's value, not the best
# length found on the corpus (development runs looked at others; the notebook says so).
REPORTED: dict[str, Any] = {"bounded_output": 0.1, "members": 3, "level": 0.05, "magnitude_gate": 0.1,
                            "difference_ensemble": True, "long": 8640}

# Settings that change the reconstruction errors (a new corpus run each); every other setting is post-processing.
STAGE_ONE_FIELDS = ("model", "window", "epochs", "batch_size", "lr", "error", "error_source", "holdout", "refit_every",
                    "refit_buffer", "refit_epochs", "coarse", "bounded_output", "masked", "members", "seed")


def stage_one_label(cfg: DetectorConfig, base: DetectorConfig, stage_one: dict[str, dict[str, Any]] | None = None,
                    ) -> str:
    """The :data:`STAGE_ONE` entry whose reconstruction errors ``cfg`` uses (its post-processing may differ)."""
    stage_one = STAGE_ONE if stage_one is None else stage_one
    for label, overrides in stage_one.items():
        candidate = replace(base, **overrides)
        if all(getattr(candidate, k) == getattr(cfg, k) for k in STAGE_ONE_FIELDS):
            return label
    raise ValueError("no measured stage-one variant produces the errors of this configuration; "
                     "add its stage-one overrides to STAGE_ONE")


def cumulative(outputs: dict[str, FileOutput], base: DetectorConfig, steps: dict[str, dict[str, Any]],
               ) -> dict[str, dict[str, np.ndarray]]:
    """``{label: {file: anomaly_score}}`` for post-processing settings added one step at a time to ``base``.

    Step k applies the overrides of steps 1..k, so each row of a table shows what one more setting adds.
    """
    out, cfg = {}, base
    for label, overrides in steps.items():
        cfg = replace(cfg, **overrides)
        changed = [k for k in overrides if k in STAGE_ONE_FIELDS]
        if changed:
            raise ValueError(f"step {label!r} changes {changed}, which need new reconstruction errors")
        out[label] = postprocess(outputs, cfg)
    return out


def post_processing_grid(levels: Sequence[float] = (0.02, 0.035, 0.05, 0.065),
                         refractories: Sequence[float] = (0.15, 0.25, 0.5),
                         gates: Sequence[float | None] = (None, 0.05, 0.1),
                         ensembles: Sequence[bool] = (False, True),
                         longs: Sequence[int] = (1500, 8640)) -> dict[str, dict[str, Any]]:
    """Every combination of alert level, refractory period, magnitude gate, first-difference ensemble and
    trailing history, as ``{label: overrides}`` (each sets all five, so it replaces whatever post-processing a
    base has): the kind of search the reported configuration came from, for :func:`scoring.selection_out_of_sample`."""
    return {f"level {lv}, refractory {rf}, gate {g}, ensemble {e}, history {lg}":
            {"level": lv, "refractory": rf, "magnitude_gate": g, "difference_ensemble": e, "long": lg}
            for lv, rf, g, e, lg in itertools.product(levels, refractories, gates, ensembles, longs)}


# The mechanisms measured in nab_benchmark.ipynb, as overrides of the base configuration.
# Stage one changes the reconstruction errors (a new run each); post-processing reuses them.
STAGE_ONE: dict[str, dict[str, Any]] = {
    "autoencoder frozen after the probation": {},
    "autoencoder with a bounded output (probation range + 10%)": {"bounded_output": 0.1},
    "continual re-fitting (every 500 rows, 750-row buffer, 3 epochs)": {
        "refit_every": 500, "refit_buffer": 750, "refit_epochs": 3},
    "autoencoder predicting the newest row (its input copy masked)": {"masked": True},
    "calibration on a held-out half of the probation": {"holdout": True},
    "second autoencoder on 6-row blocks (larger score kept)": {"coarse": 6},
    "ensemble of 3 autoencoders with a bounded output (mean error)": {"bounded_output": 0.1, "members": 3},
    "first difference instead of an autoencoder (reference)": {"error_source": "first_difference"},
}
POST: dict[str, dict[str, Any]] = {
    "": {},
    " + magnitude gate": {"magnitude_gate": 0.05},
    " + seasonal gate": {"seasonal_gate": 288},
    " + both gates": {"magnitude_gate": 0.05, "seasonal_gate": 288},
}


def measure(base: DetectorConfig, stage_one: dict[str, dict[str, Any]] | None = None,
            post: dict[str, dict[str, Any]] | None = None, files: Sequence[str] | None = None, workers: int = 2,
            ) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, FileOutput]]]:
    """Every stage-one variant run once, every post-processing variant applied to its cached errors.

    Returns ``({"<stage one><post>": {file: anomaly_score}}, {"<stage one>": outputs})``.
    """
    stage_one = STAGE_ONE if stage_one is None else stage_one
    post = POST if post is None else post
    scores, outputs = {}, {}
    for label in progress_bar(list(stage_one), desc="mechanisms"):
        cfg = replace(base, **stage_one[label])
        outputs[label] = detect_corpus(cfg, files, workers=workers)
        for suffix, over in post.items():
            scores[label + suffix] = postprocess(outputs[label], replace(cfg, **over))
    return scores, outputs


def detect_seeds(cfg: DetectorConfig, seeds: Sequence[int], files: Sequence[str] | None = None, workers: int = 2,
                 root: str | None = None) -> dict[int, dict[str, FileOutput]]:
    """:func:`detect_corpus` once per seed (the seed sets the initial weights and the batch order)."""
    return {seed: detect_corpus(replace(cfg, seed=seed), files, workers=workers, root=root)
            for seed in progress_bar(list(seeds), desc=f"seeds of {cfg.model}")}


def detect_corpus(cfg: DetectorConfig, files: Sequence[str] | None = None, workers: int = 2,
                  progress: bool = True, root: str | None = None) -> dict[str, FileOutput]:
    """The detector on every corpus file (or ``files``), ``workers`` processes, progress per file."""
    files = list(files) if files is not None else corpus.corpus_files(root)
    root = str(corpus.corpus_root(root))  # resolve once; workers need not see the same environment
    outputs = run_jobs(detect_file, [(name, cfg, root) for name in files], workers=workers,
                       desc=f"detect {cfg.model}", inner=True, show_progress=progress)
    return dict(zip(files, outputs, strict=True))


def write_results(outputs: dict[str, FileOutput], out_dir: str | os.PathLike[str],
                  scores: dict[str, np.ndarray] | None = None, root: str | None = None) -> list[Path]:
    """NAB's layout: ``<out>/<category>/<detector>_<name>.csv`` with timestamp,value,anomaly_score,label."""
    out_dir = Path(out_dir)
    detector = out_dir.resolve().name
    windows = corpus.load_windows(root)
    written = []
    for name, o in outputs.items():
        cat, fname = name.split("/")
        label = corpus.window_mask(pd.DatetimeIndex(o.timestamps), windows.get(name, []), name).astype(int)
        score = o.anomaly_score if scores is None else scores[name]
        df = pd.DataFrame({"timestamp": pd.DatetimeIndex(o.timestamps).strftime("%Y-%m-%d %H:%M:%S"),
                           "value": o.values, "anomaly_score": score, "label": label})
        path = out_dir / cat / f"{detector}_{fname}"
        written.append(atomic_write(path, lambda tmp, df=df: df.to_csv(tmp, index=False)))
    return written
