"""The settings of the streaming NAB detector (:mod:`a2.anomaly.detector`), in one frozen dataclass.

Also which settings change the reconstruction errors (stage one: a new corpus run) and which only
post-process them (stages two and three: rerun on cached errors in seconds), and the configuration
``nab_benchmark.ipynb`` reports, which the command line detects with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ERROR_SOURCES = ("autoencoder", "first_difference")

# Sizes of the autoencoders of a2.anomaly.models, by their names there. Small on purpose: each file
# trains on at most 750 rows, and 58 files must train in minutes.
MODEL_SIZES: dict[str, dict[str, Any]] = {
    "dense": {"hidden": (32, 16), "latent": 4},
    "conv1d": {"channels": (8, 16), "kernel_size": 5, "latent_channels": 2},
    "lstm": {"hidden": 16, "latent": 8},
}


@dataclass(frozen=True)
class DetectorConfig:
    """Every knob of the detector. The defaults are the base configuration; :data:`REPORTED` holds the
    overrides that ``nab_benchmark.ipynb`` reports."""

    model: str = "dense"  # a key of MODEL_SIZES (an autoencoder of a2.anomaly.models)
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
    suppression: str = "refractory"  # "refractory" or "peak" (see detector.suppress)
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
        if self.model not in MODEL_SIZES:
            raise ValueError(f"unknown model {self.model!r}; choose from {sorted(MODEL_SIZES)}")
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


# Settings that change the reconstruction errors (a new corpus run each); every other setting is post-processing.
STAGE_ONE_FIELDS = ("model", "window", "epochs", "batch_size", "lr", "error", "error_source", "holdout", "refit_every",
                    "refit_buffer", "refit_epochs", "coarse", "bounded_output", "masked", "members", "seed")

# Stage 3's settings: configurations that differ only in these share their stage-2 scores.
SUPPRESSION_FIELDS = ("level", "suppression", "margin", "refractory")

# The configuration nab_benchmark.ipynb reports (its CONFIG parameter), as overrides of DetectorConfig;
# chosen on the corpus (see that notebook, sections 3 and 6). The command line detects with it.
# ``long`` is HTM's anomaly-likelihood history (8640 rows, 30 days of 5-minute readings): HTM's value, not the best
# length found on the corpus (development runs looked at others; the notebook says so).
REPORTED: dict[str, Any] = {"bounded_output": 0.1, "members": 3, "level": 0.05, "magnitude_gate": 0.1,
                            "difference_ensemble": True, "long": 8640}
