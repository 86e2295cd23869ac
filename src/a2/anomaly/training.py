# Generated from part_2_autoencoder.ipynb by `make export` (python -m a2.notebooks export): edit the
# notebook's '#@save a2.anomaly.training' cells, not this file; tests/test_exports.py checks they agree.
"""The Part II training loop: forward, loss, backward, update; validation, early stopping, keep-best.

Written out in ``part_2_autoencoder.ipynb``, where it trains every reported model (through
``a2.anomaly.experiment.Trainer``); the package copy serves the unit tests. The small helpers it
uses (optimizer with parameter groups, scheduler, early-stopping tracker, arithmetic, loss scaler,
progress) are tested in :mod:`a2.training` and :mod:`a2.runtime`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn

from a2.progress import progress
from a2.runtime import autocast, grad_scaler, resolve_arithmetic
from a2.training import EarlyStopping, History, TrainConfig, make_optimizer, make_scheduler


@torch.no_grad()
def validate(model: nn.Module, loader: Iterable, channels: Sequence[int], device: torch.device) -> dict[str, float]:
    """Validation loss (the training objective) and validation value MSE, in eval mode and fp32.

    fp32 whatever the training arithmetic, so that the value MSE is the same number as the selection
    criterion computed later on the same windows.
    """
    model.eval()
    sums, seen = {"val_loss": 0.0, "val_value_mse": 0.0}, 0
    for x, target in loader:
        x, target = x.to(device), target.to(device)
        output = model(x)
        sums["val_loss"] += model.loss(output, target).item() * len(x)
        sums["val_value_mse"] += (output - target)[..., list(channels)].pow(2).mean().item() * len(x)
        seen += len(x)
    return {k: v / seen for k, v in sums.items()}


def train(model: nn.Module, data: tuple[Iterable, Iterable], cfg: TrainConfig, *, channels: Sequence[int] = (0,),
          device: torch.device | str = "cpu", epoch_end: Callable[[nn.Module], dict] | None = None) -> History:
    """Train ``model`` on ``data = (train_loader, val_loader)`` of ``(x, x)`` windows; returns its History.

    The model ends with the weights of its best epoch (lowest validation value MSE).
    """
    train_loader, val_loader = data
    device = torch.device(device)
    model.to(device)
    arithmetic = resolve_arithmetic(device, cfg.arithmetic)  # "fp32", "bf16" or "fp16"
    optimizer = make_optimizer(model, cfg)  # AdamW; weight decay on weight matrices only
    scheduler = make_scheduler(optimizer, cfg, cfg.epochs * len(train_loader))
    scaler = grad_scaler(device, arithmetic)  # loss scaling for fp16; a pass-through otherwise
    stopper = EarlyStopping(cfg.patience, mode="min")  # keeps a copy of the best weights
    history, start = History(), time.perf_counter()
    epochs = progress(range(1, cfg.epochs + 1), desc=f"train {type(model).__name__}", disable=not cfg.progress)
    for epoch in epochs:
        model.train()
        total, seen = 0.0, 0
        for x, target in train_loader:
            x, target = x.to(device), target.to(device)
            with autocast(device, arithmetic):
                output = model(x)  # forward pass
                loss = model.loss(output, target)  # MSE (+ KL for the VAE)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()  # backward pass (on the scaled loss in fp16)
            if cfg.grad_clip:
                scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            scaler.step(optimizer)  # the update (skipped if fp16 gradients overflowed)
            scaler.update()
            scheduler.step()
            total, seen = total + loss.item() * len(x), seen + len(x)
        record = {"epoch": epoch, "lr": scheduler.get_last_lr()[0], "train_loss": total / seen,
                  **validate(model, val_loader, channels, device)}
        if epoch_end is not None:  # accuracy and F1 at the threshold rule, for the curves only
            record.update(epoch_end(model))
        history.records.append(record)
        stopper.step(record["val_value_mse"], epoch, model)
        epochs.set_postfix(train_loss=f"{record['train_loss']:.4f}", val_value_mse=f"{record['val_value_mse']:.4f}")
        if stopper.should_stop:  # no improvement for cfg.patience epochs
            history.stopped_early = True
            break
    stopper.restore(model)  # keep the best epoch's weights
    history.best_epoch, history.best_score = stopper.best_epoch, stopper.best_score
    history.train_time_s = time.perf_counter() - start
    return history
