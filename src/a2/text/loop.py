# Generated from part_4_transformer.ipynb by `make export` (python -m a2.notebooks export): edit the
# notebook's '#@save a2.text.loop' cells, not this file; tests/test_exports.py checks they agree.
"""The training loop of Part IV (generated from ``part_4_transformer.ipynb``; edit the notebook cell)."""

from __future__ import annotations

import time

import torch
from torch import nn

from a2 import runtime
from a2.progress import progress
from a2.text.experiment import Data, evaluate
from a2.text.preprocess import BucketBatches
from a2.training import EarlyStopping, History, TrainConfig, make_ema, make_optimizer, make_scheduler


def fgm_perturbation(embedded: torch.Tensor, grad: torch.Tensor, size: float) -> torch.Tensor:
    """The fast-gradient perturbation of Miyato et al. (2017): for each review, the step along the gradient of
    the loss with respect to its embedded tokens, with an L2 norm of ``size`` times that review's embedded norm
    (a relative size suits any embedding scale)."""
    dims = tuple(range(1, embedded.ndim))
    return size * embedded.norm(dim=dims, keepdim=True) * grad / grad.norm(dim=dims, keepdim=True).clamp_min(1e-12)


def train(model: nn.Module, data: Data, cfg: TrainConfig, *, batch_size: int = 64, label_smoothing: float = 0.0,
          adversarial: float = 0.0, seed: int = 0, device: torch.device | str = "cpu") -> History:
    """Train ``model`` in place; it ends with the weights of the best epoch on ``cfg.monitor``.

    ``adversarial > 0`` adds adversarial training: each step also minimises the loss of the same batch with its
    embedded reviews moved by :func:`fgm_perturbation` (the model needs ``tokens`` and ``classify``).
    """
    device = torch.device(device)
    arithmetic = runtime.resolve_arithmetic(device, cfg.arithmetic)
    model.to(device)
    loader = BucketBatches(data.x_train, data.y_train, batch_size, shuffle=True, seed=seed, features=data.f_train)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    optimizer = make_optimizer(model, cfg)  # AdamW; no weight decay on embeddings, biases, norms
    scheduler = make_scheduler(optimizer, cfg, cfg.epochs * len(loader))  # warm-up, then cosine decay
    scaler = runtime.grad_scaler(device, arithmetic)  # loss scaling for fp16; a pass-through otherwise
    ema = make_ema(model, cfg.ema)  # moving average of the weights: what is evaluated and kept
    evaluated = ema.module if ema is not None else model
    stopper, history, start = EarlyStopping(cfg.patience, cfg.mode), History(), time.perf_counter()
    for epoch in progress(range(1, cfg.epochs + 1), desc="epochs", disable=not cfg.progress):
        t0, lr, sums = time.perf_counter(), optimizer.param_groups[0]["lr"], {"loss": 0.0, "correct": 0, "n": 0}
        model.train()
        for *inputs, target in progress(loader, desc=f"epoch {epoch}", inner=True, disable=not cfg.progress):
            inputs, target = [t.to(device) for t in inputs], target.to(device)
            with runtime.autocast(device, arithmetic):
                embedded = model.tokens(*inputs) if adversarial else None
                if embedded is not None:
                    embedded.retain_grad()  # its gradient gives the adversarial direction
                logits = model(*inputs) if embedded is None else model.classify(inputs[0], embedded)  # forward pass
            loss = loss_fn(logits.float(), target)  # label-smoothed cross-entropy
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss became {loss.item()} in epoch {epoch}; lower the learning rate")
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()  # backward pass
            if embedded is not None:  # adversarial step: the same batch, embedded and then pushed uphill
                shift = fgm_perturbation(embedded.detach(), embedded.grad, adversarial)
                with runtime.autocast(device, arithmetic):
                    adv_logits = model.classify(inputs[0], model.tokens(*inputs) + shift)
                scaler.scale(loss_fn(adv_logits.float(), target)).backward()  # gradients add to the clean ones
            scaler.unscale_(optimizer)  # true gradients before clipping
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip or float("inf"))
            scaler.step(optimizer)  # update (skipped if an fp16 gradient overflowed)
            scaler.update()
            scheduler.step()
            if ema is not None:
                ema.update_parameters(model)
            sums["loss"] += loss.item() * len(target)
            sums["correct"] += int((logits.argmax(-1) == target).sum())
            sums["n"] += len(target)
        val = evaluate(evaluated, data.x_val, data.y_val, data.f_val)  # validation after every epoch
        record = {"epoch": epoch, "lr": lr, "train_loss": sums["loss"] / sums["n"],
                  "train_accuracy": sums["correct"] / sums["n"], **{f"val_{k}": v for k, v in val.items()},
                  "epoch_s": time.perf_counter() - t0}
        history.records.append(record)
        if stopper.step(record[cfg.monitor], epoch, evaluated):  # keeps a copy of the best weights
            history.best_epoch, history.best_score = epoch, stopper.best_score
        if stopper.should_stop:  # early stopping
            history.stopped_early = True
            break
    history.train_time_s = time.perf_counter() - start
    stopper.restore(model)
    return history
