"""Part II recipe: train every architecture on one series, select, threshold, test; then many series.

The recipe, identical for the primary series and for every series of the multi-series evaluation:

1. :func:`a2.anomaly.series.prepare` (regular grid, labels, optional downsampling, chronological
   split, features, scaler on normal training rows);
2. each architecture trained with :func:`a2.training.fit` on normal training windows, keeping the
   epoch with the lowest reconstruction loss on *normal validation windows* (a criterion computed
   on hundreds of windows, which a single labelled window cannot swing);
3. **selection**: the architecture with the lowest validation reconstruction loss (value channel,
   normal windows), for the same reason;
4. **threshold rule**: step scores smoothed by a centred rolling median over one window, then the
   threshold that maximises the mean of point-wise and event-wise F1 on the validation part;
5. test: the chosen model at that threshold, beside the mean-level reference
   (:class:`a2.anomaly.models.MeanBaseline`) scored and thresholded by the same rule.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader

from a2.anomaly import models
from a2.anomaly import reconstruction_scores as scores
from a2.anomaly.series import Prepared, WindowDataset, prepare
from a2.parallel import run_jobs
from a2.progress import progress
from a2.training import History, TrainConfig, fit

REFERENCE = "reference"
SELECTION_RULE = "lowest reconstruction loss (value channel) on normal validation windows"


@dataclass(frozen=True)
class Recipe:
    """Every knob of the Part II recipe (the notebook's parameter cell fills it)."""

    window: int = 48
    resample: str | None = "30min"  # target step; a coarser native step is kept as it is
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
    models: tuple[str, ...] = ("dense", "conv1d", "lstm", "vae")
    epochs: int = 60
    patience: int | None = 10
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 64
    stride: int = 1  # step between training windows
    channels: tuple[int, ...] = (0,)  # features whose error is the anomaly score (0 = the value)
    smooth_steps: int = 48  # centred rolling median of the step scores over this many steps (1 = none)
    threshold_objective: str = "mean_f1"  # what the validation threshold maximises (scores.THRESHOLD_OBJECTIVES)
    bounded: bool = True  # outputs squashed into the normal training range (see models.Autoencoder)
    range_margin: float = 0.1  # that range widened by this share of it on each side
    curves: bool = True  # per-epoch accuracy/F1 at the threshold rule (one scoring pass per epoch)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.threshold_objective not in scores.THRESHOLD_OBJECTIVES:
            raise ValueError(f"threshold_objective={self.threshold_objective!r}; "
                             f"choose from {sorted(scores.THRESHOLD_OBJECTIVES)}")
        if self.smooth_steps < 1:
            raise ValueError(f"smooth_steps={self.smooth_steps}; use 1 (no smoothing) or more steps")

    @property
    def threshold_rule(self) -> str:
        """The threshold rule in words, as the notebook and results state it."""
        smoothing = (f"step scores smoothed by a centred {self.smooth_steps}-step rolling median; "
                     if self.smooth_steps > 1 else "")
        return f"{smoothing}max {scores.THRESHOLD_OBJECTIVES[self.threshold_objective]} on the validation part"

    def train_config(self, progress: bool = True) -> TrainConfig:
        return TrainConfig(epochs=self.epochs, lr=self.lr, patience=self.patience, weight_decay=self.weight_decay,
                           monitor="val_loss", mode="min", progress=progress, arithmetic="fp32")


def train_autoencoder(name: str, prep: Prepared, recipe: Recipe, *, device: torch.device | str = "cpu",
                      progress: bool = True) -> tuple[nn.Module, History]:
    """Model ``name`` trained on normal training windows; best epoch = lowest normal validation loss."""
    torch.manual_seed(recipe.seed)
    window = recipe.window
    normal_train = prep.normal_rows("train")
    bounds = models.output_range(prep.x[normal_train], recipe.range_margin) if recipe.bounded else {}
    model = models.build_model(name, window=window, n_features=prep.x.shape[1], **bounds)
    train_ds = WindowDataset(prep.x, window, stride=recipe.stride, usable=normal_train)
    val_ds = WindowDataset(prep.x, window, stride=1, usable=prep.normal_rows("val"))
    generator = torch.Generator().manual_seed(recipe.seed)
    train_loader = DataLoader(train_ds, batch_size=recipe.batch_size, shuffle=True, generator=generator)
    val_loader = DataLoader(val_ds, batch_size=512)
    epoch_end = None
    if recipe.curves:
        parts = {k: prep.parts[k] for k in ("train", "val")}
        epoch_end = scores.make_epoch_end(prep.x, prep.labels, parts, window, channels=recipe.channels, device=device,
                                          smooth_steps=recipe.smooth_steps, objective=recipe.threshold_objective)
    history = fit(model, train_loader, val_loader, loss_fn=models.reconstruction_loss(model),
                  config=recipe.train_config(progress), device=device, epoch_end=epoch_end)
    return model.eval(), history


@torch.no_grad()
def reconstruction_loss(model: nn.Module, prep: Prepared, part: str, window: int, *, normal_only: bool = False,
                        channels: Sequence[int] | None = None) -> float:
    """Mean squared reconstruction error over the stride-1 windows lying inside ``part``.

    ``normal_only`` keeps windows without a labelled row (the selection criterion); ``channels``
    restricts the error to some features (default: all, i.e. the training loss without the VAE's KL).
    """
    usable = np.zeros(len(prep.x), dtype=bool)
    usable[prep.parts[part]] = True
    if normal_only:
        usable &= ~prep.labels
    starts = WindowDataset(prep.x, window, usable=usable).starts
    x = torch.as_tensor(prep.x)
    cols = list(channels) if channels is not None else list(range(x.shape[1]))
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(starts), 1024):
        xb = torch.stack([x[s : s + window] for s in starts[i : i + 1024].tolist()])
        err = (model(xb).float() - xb)[..., cols].pow(2)
        total, count = total + float(err.sum()), count + err.numel()
    return total / count


@dataclass
class Evaluation:
    """One model (or the reference) on one series: scores per part, threshold and metrics per part."""

    name: str
    scores: dict[str, np.ndarray]
    threshold: float
    metrics: dict[str, dict[str, Any]]  # part -> detection metrics plus "loss" and "loss_normal"
    selection_loss: float  # value-channel loss on normal validation windows: what selection compares


def evaluate(name: str, model: nn.Module, prep: Prepared, recipe: Recipe,
             device: torch.device | str = "cpu") -> Evaluation:
    """Scores of every part, the validation-chosen threshold, and metrics (with losses) on every part."""
    y = prep.labels
    part_scores = {k: scores.segment_scores(model, prep.x, sl, recipe.window, smooth_steps=recipe.smooth_steps,
                                            channels=recipe.channels, device=device) for k, sl in prep.parts.items()}
    threshold, _ = scores.best_threshold(part_scores["val"], y[prep.parts["val"]], recipe.threshold_objective)
    metrics = {}
    for k, sl in prep.parts.items():
        m = scores.detection_metrics(part_scores[k], y[sl], threshold)
        m["loss"] = reconstruction_loss(model, prep, k, recipe.window)
        m["loss_normal"] = reconstruction_loss(model, prep, k, recipe.window, normal_only=True)
        metrics[k] = m
    selection = reconstruction_loss(model, prep, "val", recipe.window, normal_only=True, channels=recipe.channels)
    return Evaluation(name, part_scores, threshold, metrics, selection)


@dataclass
class SeriesRun:
    """The recipe on one series: every trained model, its evaluation, the choice and the reference."""

    prep: Prepared
    trained: dict[str, nn.Module] = field(default_factory=dict)
    histories: dict[str, History] = field(default_factory=dict)
    evaluations: dict[str, Evaluation] = field(default_factory=dict)
    best: str = ""
    seconds: float = 0.0

    @property
    def chosen(self) -> Evaluation:
        return self.evaluations[self.best]

    @property
    def reference(self) -> Evaluation:
        return self.evaluations[REFERENCE]

    def table(self, part: str = "val") -> pd.DataFrame:
        """Per model: the metrics of ``part`` plus parameters and training facts (reference last)."""
        cols = ["loss", "loss_normal", "accuracy", "precision", "recall", "f1", "event_f1", "false_alarm_events",
                "roc_auc", "pr_auc", "threshold"]
        rows = {}
        for name, ev in self.evaluations.items():
            row = {k: ev.metrics[part][k] for k in cols}
            if part == "val":
                row["selection loss"] = ev.selection_loss
            if name in self.histories:
                h = self.histories[name]
                row.update({"params": self.trained[name].n_params(), "epochs run": len(h), "best epoch": h.best_epoch,
                            "lowest val loss": min(h["val_loss"]), "train time (s)": h.train_time_s})
            rows[name if name != REFERENCE else "(reference) training mean"] = row
        return pd.DataFrame(rows).T


def select(evaluations: dict[str, Evaluation]) -> str:
    """The architecture with the lowest validation selection loss (the reference never competes)."""
    candidates = {k: v for k, v in evaluations.items() if k != REFERENCE}
    if not candidates:
        raise ValueError("no trained architecture to select from; give the recipe at least one model")
    return min(candidates, key=lambda k: candidates[k].selection_loss)


def run_series(prep: Prepared, recipe: Recipe, *, device: torch.device | str = "cpu",
               progress: bool = True) -> SeriesRun:
    """Train every architecture of the recipe on ``prep``, evaluate, select, and add the reference."""
    start = time.perf_counter()
    run = SeriesRun(prep)
    for name in recipe.models:
        run.trained[name], run.histories[name] = train_autoencoder(name, prep, recipe, device=device,
                                                                   progress=progress)
        run.evaluations[name] = evaluate(name, run.trained[name], prep, recipe, device)
    run.best = select(run.evaluations)
    run.evaluations[REFERENCE] = evaluate(REFERENCE, models.MeanBaseline(), prep, recipe, device)
    run.seconds = time.perf_counter() - start
    return run


def rule_ablation(run: SeriesRun, recipe: Recipe, smooth_steps: Sequence[int], objectives: Sequence[str], *,
                  device: torch.device | str = "cpu") -> pd.DataFrame:
    """Validation point and event F1 of the chosen model and the reference under each threshold rule.

    One row per (model, smoothing, objective). Validation only: this is the evidence a rule is chosen
    on, so the test part is not touched.
    """
    prep, val = run.prep, run.prep.parts["val"]
    y = prep.labels[val]
    rows = []
    for name in (run.best, REFERENCE):
        model = run.trained[name] if name in run.trained else models.MeanBaseline()
        raw = scores.segment_scores(model, prep.x, val, recipe.window, channels=recipe.channels, device=device)
        for steps in smooth_steps:
            smoothed = scores.smooth(raw, steps)
            for objective in objectives:
                threshold, _ = scores.best_threshold(smoothed, y, objective)
                m = scores.detection_metrics(smoothed, y, threshold)
                rows.append({"model": "chosen" if name == run.best else name, "smoothing steps": steps,
                             "objective": objective, "val point F1": m["f1"], "val event F1": m["event_f1"],
                             "false-alarm events": m["false_alarm_events"]})
    return pd.DataFrame(rows)


def resample_rule(timestamps: pd.Series, target: str | None, min_rows: int = 2000) -> str | None:
    """``target`` if it is coarser than the native step and leaves at least ``min_rows`` rows, else None.

    Never upsamples, and keeps short series (e.g. two weeks of 5-minute readings) at full resolution
    so that validation still holds whole normal windows.
    """
    if target is None:
        return None
    ts = pd.DatetimeIndex(timestamps)
    step = pd.Series(ts).diff().mode().iloc[0]
    coarse = pd.Timedelta(target)
    return target if step < coarse and (ts[-1] - ts[0]) / coarse >= min_rows else None


def prepare_for(name: str, raw: pd.DataFrame, windows: Sequence[tuple[Any, Any]], recipe: Recipe) -> Prepared:
    """:func:`prepare` with the recipe's split, off-grid readings snapped, resampling by :func:`resample_rule`."""
    prep = prepare(name, windows, raw, resample=resample_rule(raw["timestamp"], recipe.resample),
                   fractions=recipe.fractions, snap=True)
    WindowDataset(prep.x, recipe.window, usable=prep.normal_rows("val"))  # raises if validation has no normal window
    return prep


def qualifying(series: dict[str, tuple[pd.DataFrame, list[tuple[Any, Any]]]], recipe: Recipe,
               ) -> tuple[dict[str, Prepared], dict[str, str]]:
    """Series whose chronological split gives validation and test a labelled window, and why others don't."""
    ok, skipped = {}, {}
    for name, (raw, windows) in series.items():
        try:
            ok[name] = prepare_for(name, raw, windows, recipe)
        except ValueError as err:
            skipped[name] = _reason(str(err))
    return ok, skipped


def _reason(message: str) -> str:
    """A short, countable reason from a preparation error (the full message names rows and windows)."""
    for part, label in (("the val part", "no labelled window in validation"),
                        ("the test part", "no labelled window in test")):
        if message.startswith(part):
            return label
    return message.split(";")[0]


def multi_series(prepared: dict[str, Prepared], recipe: Recipe, *, device: torch.device | str = "cpu",
                 rules: tuple[Sequence[int], Sequence[str]] | None = None, show_progress: bool = True,
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The recipe on every prepared series: test point F1 and event F1 per model, one row per series.

    With ``rules = (smoothing steps, objectives)`` the second table holds :func:`rule_ablation` of every
    series (validation only); otherwise it is empty.
    """
    rows, ablations = [], []
    for name, prep in progress(prepared.items(), desc="series", total=len(prepared), disable=not show_progress):
        run = run_series(prep, recipe, device=device, progress=False)
        if rules is not None:
            ablations.append(rule_ablation(run, recipe, *rules, device=device).assign(series=name))
        row: dict[str, Any] = {"series": name, "chosen": run.best, "rows": len(prep.frame),
                               "val windows": int(_windows(prep, "val")), "test windows": int(_windows(prep, "test")),
                               "seconds": run.seconds}
        for label, ev in [("chosen", run.chosen), *run.evaluations.items()]:
            row[f"f1 {label}"] = ev.metrics["test"]["f1"]
            row[f"event_f1 {label}"] = ev.metrics["test"]["event_f1"]
        rows.append(row)
    return pd.DataFrame(rows).set_index("series"), pd.concat(ablations) if ablations else pd.DataFrame()


def _multi_series_one_seed(prepared: dict[str, Prepared], recipe: Recipe, seed: int, device: str,
                           rules: tuple[Sequence[int], Sequence[str]] | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One seed of :func:`multi_series_seeds` (module level, so that a worker process can run it)."""
    table, ablation = multi_series(prepared, replace(recipe, seed=seed), device=device, rules=rules,
                                   show_progress=False)
    return table.assign(seed=seed), ablation.assign(seed=seed)


def multi_series_seeds(prepared: dict[str, Prepared], recipe: Recipe, seeds: Sequence[int], *,
                       device: torch.device | str = "cpu", rules: tuple[Sequence[int], Sequence[str]] | None = None,
                       workers: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`multi_series` once per seed (initial weights and batch order), the tables stacked with a
    ``seed`` column; with one or two windows per part, a single seed can swing a mean by a whole window.

    ``workers > 1`` runs seeds in parallel processes (:func:`a2.parallel.run_jobs`; CPU only).
    """
    jobs = [(prepared, recipe, seed, str(device), rules) for seed in seeds]
    results = run_jobs(_multi_series_one_seed, jobs, workers=workers if str(device) == "cpu" else 1, desc="seeds")
    return pd.concat([t for t, _ in results]), pd.concat([a for _, a in results])


def seed_means(table: pd.DataFrame) -> pd.DataFrame:
    """Per series, the mean over seeds of every score column of a :func:`multi_series_seeds` table."""
    columns = [c for c in table.columns if c.startswith(("f1 ", "event_f1 "))]
    return table.groupby(level=0)[columns].mean()


def _windows(prep: Prepared, part: str) -> int:
    y = prep.labels[prep.parts[part]]
    return int(np.count_nonzero(np.diff(np.r_[0, y.astype(np.int8)]) == 1))


def multi_summary(table: pd.DataFrame) -> dict[str, Any]:
    """``{n_series, mean_f1, median_f1, mean_event_f1, median_event_f1}``, each ``{model: value}``."""
    f1 = {c.removeprefix("f1 "): c for c in table.columns if c.startswith("f1 ")}
    ev = {c.removeprefix("event_f1 "): c for c in table.columns if c.startswith("event_f1 ")}
    return {"n_series": len(table),
            "mean_f1": {k: float(table[c].mean()) for k, c in f1.items()},
            "median_f1": {k: float(table[c].median()) for k, c in f1.items()},
            "mean_event_f1": {k: float(table[c].mean()) for k, c in ev.items()},
            "median_event_f1": {k: float(table[c].median()) for k, c in ev.items()}}
