"""Small training helpers every loop uses, and ``fit``, a generic loop built from them.

The graded models (Parts II and IV) are trained by loops written out in their notebooks; those loops
use the pieces here: :func:`param_groups`/:func:`make_optimizer`, :func:`make_scheduler`,
:func:`make_ema`, :class:`EarlyStopping` (keep-best), :func:`measure_step_seconds` (which arithmetic
is faster), with ``a2.runtime.autocast`` and ``a2.runtime.grad_scaler`` for mixed precision.
:func:`fit` is the same loop for the models the package trains itself (the NAB detector, the vision
baselines). Model-agnostic in the spirit of minGPT's Trainer: it sees batches, a loss function and optional
metric callbacks, never a specific architecture. Per epoch it records train/validation loss, any
metrics, the learning rate and the wall time; it keeps the best weights in memory (restored at the
end), saves them atomically when asked, and stops early when the monitored value stalls.

Batch convention: a batch is a tuple ``(*inputs, target)``; the model is called as
``model(*inputs)`` and the loss as ``loss_fn(output, target)``. An autoencoder's dataset simply
yields ``(x, x)``. Anything else can pass its own ``step`` function.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from a2.io import save_torch
from a2.progress import progress
from a2.runtime import autocast, grad_scaler, pick_device, resolve_arithmetic

Batch = Any
StepFn = Callable[[nn.Module, Batch], tuple[torch.Tensor, torch.Tensor]]
BatchMetric = Callable[[torch.Tensor, torch.Tensor], float]


@dataclass
class TrainConfig:
    """Optimisation settings; every field has a sensible default."""

    epochs: int = 10
    lr: float = 1e-3
    weight_decay: float = 0.0
    optimizer: Literal["adamw", "adam", "sgd"] = "adamw"
    schedule: Literal["constant", "cosine"] = "constant"
    warmup_frac: float = 0.0  # fraction of all steps spent in linear warm-up
    lr_mult: dict[str, float] = field(default_factory=dict)  # parameter-name prefix -> learning-rate factor
    ema: float | None = None  # decay of an exponential moving average of the weights (e.g. 0.999)
    grad_clip: float | None = 1.0
    patience: int | None = None  # early stopping: epochs without improvement before stopping; None = never
    monitor: str = "val_loss"
    mode: Literal["min", "max"] = "min"
    arithmetic: str = "auto"  # "auto" (runtime's choice, A2_PRECISION), "fp32", "bf16" or "fp16" (loss-scaled)
    progress: bool = True


@dataclass
class History:
    """Per-epoch records plus the best epoch, as returned by :func:`fit`."""

    records: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None
    best_score: float | None = None
    stopped_early: bool = False
    train_time_s: float = 0.0

    def __getitem__(self, key: str) -> list[float]:
        return [r[key] for r in self.records if key in r]

    def __len__(self) -> int:
        return len(self.records)

    def keys(self) -> list[str]:
        return list(dict.fromkeys(k for r in self.records for k in r))

    def best(self) -> dict[str, float]:
        """The record of the best epoch (the weights the model ends with)."""
        return next(r for r in self.records if r["epoch"] == self.best_epoch)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_frame(self):  # pandas is imported lazily: the loop itself doesn't need it
        import pandas as pd

        return pd.DataFrame(self.records).set_index("epoch")


def to_device(batch: Batch, device: torch.device) -> Batch:
    """Move tensors (possibly nested in tuples, lists or dicts) to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(b, device) for b in batch)
    if isinstance(batch, Mapping):
        return {k: to_device(v, device) for k, v in batch.items()}
    return batch


def default_step(model: nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """``(*inputs, target)`` → ``(model(*inputs), target)``."""
    *inputs, target = batch
    return model(*inputs), target


def param_groups(model: nn.Module, cfg: TrainConfig) -> list[dict[str, Any]]:
    """Split trainable parameters into optimizer groups.

    Weight decay applies to weight matrices and convolution kernels only: biases, norm scales (all
    1-D) and embedding tables are exempt, because shrinking them towards zero is not a useful prior
    (an embedding row is only updated when its token occurs, so decay would mostly erase rare words).
    ``cfg.lr_mult`` scales the learning rate of parameters whose name starts with a given prefix,
    e.g. ``{"embed.": 0.1}`` to move a word2vec-initialised table more slowly than the rest.
    """
    embedding_params = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    groups: dict[tuple[bool, float], list[nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        decays = p.ndim >= 2 and id(p) not in embedding_params
        mult = next((m for prefix, m in cfg.lr_mult.items() if name.startswith(prefix)), 1.0)
        groups.setdefault((decays, mult), []).append(p)
    return [{"params": ps, "weight_decay": cfg.weight_decay if decays else 0.0, "lr": cfg.lr * mult}
            for (decays, mult), ps in groups.items()]


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW, Adam (classic L2 added to the gradient) or SGD with Nesterov momentum, over :func:`param_groups`."""
    groups = param_groups(model, cfg)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.lr)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(groups, lr=cfg.lr)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=0.9, nesterov=True)
    raise ValueError(f"Unknown optimizer {cfg.optimizer!r}; use 'adamw', 'adam' or 'sgd'")


def make_scheduler(optimizer: torch.optim.Optimizer, cfg: TrainConfig, total_steps: int):
    """Linear warm-up, then constant or cosine decay to 0; stepped once per batch."""
    if cfg.schedule not in ("constant", "cosine"):
        raise ValueError(f"Unknown schedule {cfg.schedule!r}; use 'constant' or 'cosine'")
    sched = torch.optim.lr_scheduler
    warmup = min(max(0, int(cfg.warmup_frac * total_steps)), max(0, total_steps - 1))
    main_steps = max(1, total_steps - warmup)
    after = (sched.CosineAnnealingLR(optimizer, T_max=main_steps) if cfg.schedule == "cosine"
             else sched.ConstantLR(optimizer, factor=1.0, total_iters=0))
    if warmup == 0:
        return after
    ramp = sched.LinearLR(optimizer, start_factor=1.0 / warmup, end_factor=1.0, total_iters=warmup - 1)
    return sched.SequentialLR(optimizer, [ramp, after], milestones=[warmup])


def make_ema(model: nn.Module, decay: float | None) -> AveragedModel | None:
    """An exponential moving average of ``model``'s weights (and buffers), or None when ``decay`` is falsy.

    Call ``ema.update_parameters(model)`` after each optimizer step; evaluate ``ema.module``.
    """
    if not decay:
        return None
    if not 0.0 < decay < 1.0:
        raise ValueError(f"EMA decay must lie in (0, 1), got {decay}")
    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


class EarlyStopping:
    """Keep-best and early stopping on one monitored value per epoch.

    ``step(score, epoch, model)`` returns True when ``score`` is the best so far, in which case a CPU copy
    of ``model``'s state is kept; ``should_stop`` turns True after ``patience`` epochs without improvement
    (never, with ``patience=None``); ``restore(model)`` loads the best weights back.
    """

    def __init__(self, patience: int | None = None, mode: Literal["min", "max"] = "min") -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.patience, self.mode = patience, mode
        self.best_score: float | None = None
        self.best_epoch: int | None = None
        self.best_state: dict[str, torch.Tensor] | None = None
        self.since_best = 0

    def step(self, score: float, epoch: int, model: nn.Module) -> bool:
        if not _is_better(score, self.best_score, self.mode):
            self.since_best += 1
            return False
        self.best_score, self.best_epoch, self.since_best = float(score), epoch, 0
        self.best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        return True

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.since_best >= self.patience

    def restore(self, model: nn.Module) -> None:
        if self.best_state is None:
            raise RuntimeError("no epoch has been recorded yet, so there are no best weights to restore")
        model.load_state_dict(self.best_state)


def optimizer_step(model: nn.Module, loss: torch.Tensor, optimizer: torch.optim.Optimizer, cfg: TrainConfig,
                   scaler: torch.amp.GradScaler | None = None) -> None:
    """Backward pass, gradient clipping (``cfg.grad_clip``) and one optimizer update: the step of :func:`fit`.

    With an enabled ``scaler`` (fp16) the loss is scaled before ``backward``, the gradients are unscaled
    before clipping, and a step whose gradients overflowed is skipped while the scale shrinks.
    """
    scaler = scaler or torch.amp.GradScaler(enabled=False)
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    if cfg.grad_clip:
        scaler.unscale_(optimizer)
        nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
    scaler.step(optimizer)
    scaler.update()


def measure_step_seconds(run_step: Callable[[str], None], arithmetics: Iterable[str] = ("fp32", "bf16"),
                         steps: int = 3) -> dict[str, float]:
    """Median wall seconds of ``run_step(arithmetic)`` for each arithmetic, after one warm-up call each.

    ``run_step`` should do one real training step (forward, loss, backward, update) of a throw-away copy
    of the model, so that choosing the faster arithmetic costs seconds and changes no trained weights.
    """
    seconds = {}
    for arithmetic in arithmetics:
        run_step(arithmetic)  # warm-up: kernel selection, allocator
        times = []
        for _ in range(max(1, steps)):
            start = time.perf_counter()
            run_step(arithmetic)
            times.append(time.perf_counter() - start)
        seconds[arithmetic] = float(sorted(times)[len(times) // 2])
    return seconds


def timed_steps(
    model: nn.Module,
    batches: Iterable[Batch],
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    cfg: TrainConfig,
    device: torch.device | str,
    step: StepFn = default_step,
) -> list[float]:
    """Wall seconds of each training step :func:`fit` would take on ``batches`` (move, forward, loss, update).

    For speed measurements outside a training run (e.g. eager vs ``torch.compile``, bf16 vs fp32):
    the timed step is fit's own, so what is measured is what training will cost.
    """
    device = torch.device(device)
    arithmetic = resolve_arithmetic(device, cfg.arithmetic)
    scaler = grad_scaler(device, arithmetic)
    model.train()
    times = []
    for batch in batches:
        start = time.perf_counter()
        batch = to_device(batch, device)
        with autocast(device, arithmetic):
            output, target = step(model, batch)
            loss = loss_fn(output, target)
        optimizer_step(model, loss, optimizer, cfg, scaler)
        times.append(time.perf_counter() - start)
    return times


def _run_epoch(
    model: nn.Module,
    loader: Iterable[Batch],
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    step: StepFn,
    device: torch.device,
    cfg: TrainConfig,
    metrics: Mapping[str, BatchMetric],
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any = None,
    averaged: AveragedModel | None = None,
    scaler: torch.amp.GradScaler | None = None,
    desc: str = "",
) -> dict[str, float]:
    """One pass over ``loader``; trains when an optimizer is given. Returns sample-weighted means."""
    training = optimizer is not None
    model.train(training)
    sums: dict[str, float] = {"loss": 0.0, **{k: 0.0 for k in metrics}}
    seen = 0
    bar = progress(loader, desc=desc, inner=True, disable=not cfg.progress)
    with torch.set_grad_enabled(training):
        for batch in bar:
            batch = to_device(batch, device)
            with autocast(device, resolve_arithmetic(device, cfg.arithmetic)):
                output, target = step(model, batch)
                loss = loss_fn(output, target)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss became {loss.item()} ({desc}); lower the learning rate")
            if training:
                optimizer_step(model, loss, optimizer, cfg, scaler)
                if scheduler is not None:
                    scheduler.step()
                if averaged is not None:
                    averaged.update_parameters(model)
            n = len(target) if hasattr(target, "__len__") else 1
            seen += n
            sums["loss"] += loss.item() * n
            for name, fn in metrics.items():
                sums[name] += float(fn(output.detach().float(), target)) * n
            bar.set_postfix(loss=f"{sums['loss'] / seen:.4f}")
    if seen == 0:
        raise ValueError(f"{desc or 'loader'} yielded no batches; is the dataset empty?")
    return {k: v / seen for k, v in sums.items()}


def _is_better(score: float, best: float | None, mode: str) -> bool:
    return best is None or (score < best if mode == "min" else score > best)


def fit(
    model: nn.Module,
    train_loader: Iterable[Batch],
    val_loader: Iterable[Batch] | None = None,
    *,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    config: TrainConfig | None = None,
    device: torch.device | str | None = None,
    step: StepFn = default_step,
    metrics: Mapping[str, BatchMetric] | None = None,
    epoch_end: Callable[[nn.Module], Mapping[str, float]] | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    checkpoint: str | Path | None = None,
    checkpoint_extra: Mapping[str, Any] | None = None,
    restore_best: bool = True,
) -> History:
    """Train ``model`` and return its :class:`History`.

    * ``metrics``: ``name -> fn(output, target)`` batch means, logged as ``train_<name>``/``val_<name>``.
    * ``epoch_end``: called with the model (in eval mode) after each epoch; its dict is logged as is,
      e.g. validation accuracy at a threshold rule.
    * keep-best: ``config.monitor`` (default ``val_loss``) picks the best epoch, whose weights the model
      ends with; early stopping: ``config.patience`` epochs without improvement end the run.
    * ``config.ema``: validation, keep-best and the returned weights use the moving average of the weights.
    * ``checkpoint``: the best state_dict (plus ``checkpoint_extra``) is saved there atomically.
    """
    cfg = config or TrainConfig()
    device = torch.device(device) if device is not None else pick_device()
    metrics = dict(metrics or {})
    model.to(device)
    optimizer = optimizer or make_optimizer(model, cfg)
    steps_per_epoch = len(train_loader) if hasattr(train_loader, "__len__") else 1
    scheduler = make_scheduler(optimizer, cfg, cfg.epochs * steps_per_epoch)
    scaler = grad_scaler(device, resolve_arithmetic(device, cfg.arithmetic))
    averaged = make_ema(model, cfg.ema)
    evaluated = averaged.module if averaged is not None else model
    history = History()
    stopper = EarlyStopping(cfg.patience, cfg.mode)
    start = time.perf_counter()

    epochs = progress(range(1, cfg.epochs + 1), desc=f"fit {type(model).__name__}", disable=not cfg.progress)
    for epoch in epochs:
        t0 = time.perf_counter()
        record: dict[str, float] = {"epoch": epoch, "lr": optimizer.param_groups[0]["lr"]}
        train = _run_epoch(model, train_loader, loss_fn, step, device, cfg, metrics, optimizer, scheduler,
                           averaged, scaler, desc=f"epoch {epoch} train")
        record.update({f"train_{k}": v for k, v in train.items()})
        if val_loader is not None:
            val = _run_epoch(evaluated, val_loader, loss_fn, step, device, cfg, metrics, desc=f"epoch {epoch} val")
            record.update({f"val_{k}": v for k, v in val.items()})
        if epoch_end is not None:
            evaluated.eval()
            with torch.no_grad():
                record.update({k: float(v) for k, v in epoch_end(evaluated).items()})
        record["epoch_s"] = time.perf_counter() - t0
        history.records.append(record)

        if cfg.monitor not in record:
            raise KeyError(f"monitor {cfg.monitor!r} not in the epoch record; available: {sorted(record)}")
        if stopper.step(record[cfg.monitor], epoch, evaluated) and checkpoint is not None:
            payload = {"state_dict": stopper.best_state, "epoch": epoch, cfg.monitor: stopper.best_score,
                       **(checkpoint_extra or {})}
            save_torch(payload, checkpoint)
        history.best_epoch, history.best_score = stopper.best_epoch, stopper.best_score
        epochs.set_postfix({k: f"{record[k]:.4f}" for k in ("train_loss", "val_loss", cfg.monitor) if k in record})
        if stopper.should_stop:
            history.stopped_early = True
            break

    history.train_time_s = time.perf_counter() - start
    if restore_best and stopper.best_state is not None:
        stopper.restore(model)
    elif averaged is not None:
        model.load_state_dict(averaged.module.state_dict())
    return history
