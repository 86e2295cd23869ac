"""The causal, streaming autoencoder detector for one NAB series: three stages, each using rows <= t only.

1. **Reconstruction error.** A small autoencoder is trained on the sliding windows of the
   probationary period (the first ``min(floor(0.15 N), 750)`` rows, which NAB does not score), on
   values z-scored with probationary statistics, then frozen; the error of row t uses the window
   ending at t. An ensemble averages the errors of several such autoencoders that differ only in
   their seed.
2. **Calibration.** One threshold serves all 58 files, so a score must mean the same everywhere.
   As in HTM's anomaly likelihood, the mean error of the last ``short`` rows is compared with the
   errors before it (the trailing ``long`` rows and/or the probation), and the Gaussian tail
   probability ``q`` of that z-score becomes ``-log10(q) / log_scale`` in [0, 1]. As in HTM's spatial
   anomaly, a value that leaves the range of all earlier values scores 1.
3. **Alert suppression.** NAB charges every flagged row outside a window but credits only the first
   inside it, so each excursion yields one spike: a row whose score reaches ``level`` alerts unless
   another alert fired within the last ``refractory`` rows; every other row scores 0.

Every optional mechanism (re-fitting, held-out calibration, a coarse second autoencoder, gates,
masking, the first-difference reference and ensemble) is a field of
:class:`~a2.anomaly.detector_config.DetectorConfig`, documented there. Functions are ordered as the
data flows: shared helpers, stage 1, stage 2, stage 3, then :func:`detect_series`, which runs them in
turn; no stage calls back into an earlier one. Rows of the probationary period score 0.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy.special import log_ndtr
from torch import nn

from a2.anomaly import corpus, models
from a2.anomaly.detector_config import MODEL_SIZES, DetectorConfig
from a2.training import TrainConfig, fit

# ---------------------------------------------------------------------------------------------
# Shared helpers: scaling, windows and the first difference
# ---------------------------------------------------------------------------------------------


def train_rows(probation: int, cfg: DetectorConfig) -> int:
    """Rows the autoencoder first trains on: the probation, or its first half with ``holdout``."""
    return probation // 2 if cfg.holdout else probation


def _standardise(values: np.ndarray, rows: int) -> np.ndarray:
    """z-scores with the mean/std of the first ``rows`` values (a constant warm-up gets a tiny std, not 0)."""
    head = values[:rows]
    mu, sd = head.mean(), head.std()
    sd = sd if sd > 1e-8 * max(1.0, abs(mu)) else max(1.0, abs(mu)) * 1e-3
    return ((values - mu) / sd).astype(np.float32)


def scaled(values: np.ndarray, probation: int, cfg: DetectorConfig) -> np.ndarray:
    """``values`` z-scored with the statistics of the training rows, after checking there are enough of them."""
    n_train = train_rows(probation, cfg)
    if n_train < cfg.window + 8:
        raise ValueError(f"probation of {probation} rows is too short for window={cfg.window}; lower the window")
    return _standardise(np.asarray(values, dtype=np.float64), n_train)


def first_difference(values: np.ndarray, probation: int, cfg: DetectorConfig) -> np.ndarray:
    """``(z_t - z_(t-1))^2`` of the scaled values (NaN for row 0): the reference error without an autoencoder."""
    return np.r_[np.nan, np.diff(scaled(values, probation, cfg).astype(np.float64)) ** 2]


def sliding_windows(x: np.ndarray, window: int) -> np.ndarray:
    """``(len(x) - window + 1, window)`` view: row j holds ``x[j : j + window]`` (ends at j + window - 1)."""
    return np.lib.stride_tricks.sliding_window_view(x, window)


def block_config(cfg: DetectorConfig) -> DetectorConfig:
    """The settings of the second autoencoder on blocks (``coarse``): frozen, trained on the whole probation."""
    return replace(cfg, coarse=None, refit_every=None, holdout=False)


# ---------------------------------------------------------------------------------------------
# Stage 1: reconstruction error
# ---------------------------------------------------------------------------------------------


def build_autoencoder(name: str, window: int, n_features: int = 1, **bounds: Any) -> nn.Module:
    """The autoencoder ``name`` of :mod:`a2.anomaly.models` at the detector's size (:data:`MODEL_SIZES`)."""
    if name not in MODEL_SIZES:
        raise ValueError(f"unknown model {name!r}; choose from {sorted(MODEL_SIZES)}")
    return models.build_model(name, window=window, n_features=n_features, **MODEL_SIZES[name], **bounds)


def _inputs(windows: torch.Tensor, cfg: DetectorConfig) -> torch.Tensor:
    """The model's input for ``(batch, window, features)`` windows: with ``masked``, the newest row is a copy of
    the row before it, so the model never sees the row whose error it is scored on."""
    if not cfg.masked:
        return windows
    x = windows.clone()
    x[:, -1] = x[:, -2]
    return x


# The detector's autoencoders have a few thousand weights and train on one file's rows at a time: on a CPU
# the casts of mixed precision cost more than they save, so they train in float32 on the CPU everywhere.
ARITHMETIC, DEVICE = "fp32", "cpu"


def _train(model: nn.Module, z: np.ndarray, cfg: DetectorConfig, epochs: int, seed: int) -> None:
    """Fit ``model`` to every sliding window of ``z`` (shuffled once, seeded); the target is always unmasked."""
    train = torch.from_numpy(sliding_windows(z, cfg.window).copy()).unsqueeze(-1)
    perm = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))
    batches = [(_inputs(b, cfg), b) for b in (train[perm[i : i + cfg.batch_size]]
                                              for i in range(0, len(train), cfg.batch_size))]
    fit(model, batches, loss_fn=nn.functional.mse_loss, device=DEVICE,
        config=TrainConfig(epochs=epochs, lr=cfg.lr, monitor="train_loss", progress=False,
                           arithmetic=ARITHMETIC, grad_clip=1.0))
    model.eval()


@torch.no_grad()
def _window_errors(model: nn.Module, z: np.ndarray, cfg: DetectorConfig) -> np.ndarray:
    """Squared error per window of ``z`` (window j ends at row j + window - 1): newest row or mean."""
    x = torch.from_numpy(sliding_windows(z, cfg.window).copy()).unsqueeze(-1)
    rec = torch.cat([model(_inputs(x[i : i + 4096], cfg)) for i in range(0, len(x), 4096)])
    sq = (rec - x).pow(2).squeeze(-1).numpy().astype(np.float64)
    return sq[:, -1] if cfg.error == "last" else sq.mean(axis=1)


def autoencoder_errors(values: np.ndarray, cfg: DetectorConfig, probation: int, seed: int,
                       ) -> tuple[np.ndarray, nn.Module]:
    """Per-row squared error of one autoencoder seeded ``seed`` (NaN for the first ``window - 1`` rows), and the model.

    The scaler and the first training use rows ``< train_rows(probation)`` only. With
    ``refit_every = k`` the model is fine-tuned at rows P, P + k, ... on the ``refit_buffer`` rows
    before that point, and scores the next k rows; so the error of row t never depends on a row > t.
    """
    z = scaled(values, probation, cfg)
    n_train = train_rows(probation, cfg)
    torch.manual_seed(seed)
    bounds = models.output_range(z[:n_train, None], cfg.bounded_output) if cfg.bounded_output is not None else {}
    model = build_autoencoder(cfg.model, cfg.window, **bounds)
    _train(model, z[:n_train], cfg, cfg.epochs, seed)
    err = np.r_[np.full(cfg.window - 1, np.nan), _window_errors(model, z, cfg)]
    if cfg.refit_every is None:
        return err, model
    for k, start in enumerate(range(probation, len(z), cfg.refit_every)):
        lo = max(0, start - cfg.refit_buffer)
        _train(model, z[lo:start], cfg, cfg.refit_epochs, seed + k + 1)
        stop = min(len(z), start + cfg.refit_every)
        err[start:stop] = _window_errors(model, z[start - cfg.window + 1 : stop], cfg)
    return err, model


def member_seeds(cfg: DetectorConfig) -> list[int]:
    """Seeds of the ensemble's members: disjoint for different ``cfg.seed`` (seed s owns s*m, ..., s*m + m - 1),
    and just ``cfg.seed`` for a single autoencoder."""
    return [cfg.seed * cfg.members + k for k in range(cfg.members)]


def member_errors(values: np.ndarray, cfg: DetectorConfig, probation: int) -> tuple[np.ndarray, nn.Module]:
    """``(members, rows)`` squared errors, one row per member (:func:`member_seeds`), and the last model.

    Members differ only in their seed (initial weights, batch order); averaging their errors removes
    the part of a row's error that is one model's accident rather than the data's.
    """
    runs = [autoencoder_errors(values, cfg, probation, seed) for seed in member_seeds(cfg)]
    return np.stack([err for err, _ in runs]), runs[-1][1]


def reconstruction_errors(values: np.ndarray, cfg: DetectorConfig, probation: int) -> tuple[np.ndarray, nn.Module]:
    """Stage one's per-row error and the last model: the mean over the ensemble's members (one member for a
    single autoencoder), or with ``error_source="first_difference"`` the reference's error and no model."""
    if cfg.error_source == "first_difference":
        return first_difference(values, probation, cfg), nn.Identity()
    errors, model = member_errors(values, cfg, probation)
    return errors.mean(axis=0), model


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
    block_err, _ = reconstruction_errors(coarse, block_config(cfg), probation // c)
    done = (np.arange(n_blocks) + 1) * c - 1  # row at which block b is complete
    for b in range(n_blocks):
        out[done[b] : done[b] + c] = block_err[b]
    return out


# ---------------------------------------------------------------------------------------------
# Stage 2: calibration, the spatial score and the gates (pure numpy/pandas, causal)
# ---------------------------------------------------------------------------------------------


def _z(x: pd.Series, mean: pd.Series, std: pd.Series) -> np.ndarray:
    floor = 1e-3 * mean.abs() + 1e-6  # flat history: a tiny std would turn noise into certainty
    return ((x - mean) / np.maximum(std.fillna(0.0), floor)).to_numpy()


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
        score = np.maximum(score, calibrate(first_difference(values, probation, cfg), probation, cfg))
    if coarse is not None:
        score = np.maximum(score, calibrate(coarse, probation, block_config(cfg)))
    return np.where(gates(values, errors, cfg), score, 0.0)


# ---------------------------------------------------------------------------------------------
# Stage 3: one alert per excursion
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# The three stages in turn
# ---------------------------------------------------------------------------------------------


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
