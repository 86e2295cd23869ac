"""Train and evaluate one image classifier under the recipe shared by all four models.

Every model gets the same optimiser, schedule, augmentation, label smoothing, epochs and split
(:class:`Recipe`) and trains through :func:`a2.training.fit`, so differences in the comparison come
from the architectures. Storing runs in ``results/bonus.json`` and reusing them is
:mod:`a2.vision.store`'s job; tables are :mod:`a2.vision.tables`'s.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from a2 import runtime
from a2.evaluation import accuracy, classification_metrics, per_class_metrics
from a2.params import count_params
from a2.training import History, TrainConfig, fit, make_optimizer, timed_steps
from a2.vision.images import AugmentConfig, Batches, ImageData, IndexSplit, Preprocess, augment_step, channel_stats
from a2.vision.models import build, make_config, variant_label


@dataclass
class Recipe:
    """The training recipe shared by all four models."""

    epochs: int = 10
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 0.05
    label_smoothing: float = 0.1
    warmup_frac: float = 0.05
    schedule: str = "cosine"
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    seed: int = 0

    def train_config(self, progress: bool = True, mixed_precision: bool = True) -> TrainConfig:
        """The :class:`TrainConfig` for :func:`fit`: AdamW, keep the best epoch by validation accuracy."""
        return TrainConfig(epochs=self.epochs, lr=self.lr, weight_decay=self.weight_decay, optimizer="adamw",
                           schedule=self.schedule, warmup_frac=self.warmup_frac, monitor="val_accuracy", mode="max",
                           arithmetic="auto" if mixed_precision else "fp32", progress=progress)


@dataclass
class Outcome:
    """What one model run produced (or what was reloaded from a stored run)."""

    name: str
    model: nn.Module
    history: History
    entry: dict[str, Any]  # the model's block in results/bonus.json
    reused: bool = False


def signature(name: str, model_cfg: Any, recipe: Recipe, split_checksum: str, mixed_precision: bool = True) -> str:
    """Hash of everything that determines a run: equal signatures mean a stored run may stand in for it."""
    blob = json.dumps({"model": name, "config": asdict(model_cfg), "recipe": asdict(recipe), "split": split_checksum,
                       "fast": runtime.is_fast(), "mixed_precision": mixed_precision}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def make_preprocess(data: ImageData, split: IndexSplit, augment: AugmentConfig | None) -> Preprocess:
    """Normalisation fit on the training split only (no test statistics leak in), plus the augmentation."""
    mean, std = channel_stats(data.images[split.train])
    return Preprocess(mean, std, augment)


def build_trainable(name: str, num_classes: int, **model_overrides: Any) -> nn.Module:
    """Model ``name`` in channels-last memory layout, which CPU and GPU convolutions run faster in."""
    return build(name, num_classes=num_classes, **model_overrides).to(memory_format=torch.channels_last)


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, preprocess: Preprocess, device: torch.device | str,
            batch_size: int = 256, mixed_precision: bool = True) -> torch.Tensor:
    """Softmax probabilities ``(N, classes)`` in eval mode (no augmentation), in the precision it trained in."""
    model.eval().to(device)
    preprocess.eval().to(device)
    out = []
    for start in range(0, len(images), batch_size):
        x = images[start : start + batch_size].to(device)
        with runtime.autocast(device, runtime.resolve_arithmetic(device, "auto" if mixed_precision else "fp32")):
            out.append(model(preprocess(x)).float().softmax(dim=-1).cpu())
    return torch.cat(out) if out else torch.empty(0)


def evaluate(model: nn.Module, data: ImageData, split: IndexSplit, preprocess: Preprocess, device: torch.device | str,
             loss_fn: nn.Module | None = None, mixed_precision: bool = True) -> dict[str, dict[str, Any]]:
    """Accuracy, macro precision/recall/F1, confusion matrix, per-class scores and loss on each split."""
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    out = {}
    for part in ("train", "val", "test"):
        idx = getattr(split, part)
        probs = predict(model, data.images[idx], preprocess, device, mixed_precision=mixed_precision)
        y = data.labels[idx]
        m = classification_metrics(y.numpy(), probs.argmax(1).numpy(), probs.numpy(), average="macro",
                                   labels=list(range(len(data.classes))))
        m["loss"] = float(loss_fn(probs.clamp_min(1e-12).log(), y))
        m["per_class"] = per_class_metrics(y.numpy(), probs.argmax(1).numpy(), data.classes)
        out[part] = m
    return out


def step_seconds(name: str, data: ImageData, split: IndexSplit, recipe: Recipe, device: torch.device | str, *,
                 mixed_precision: bool, steps: int = 3, **model_overrides: Any) -> float:
    """Median seconds of one training step of ``name`` (augment, forward, backward, update) on a real batch.

    One warm-up step is left out. It shows, in seconds rather than hours, whether autocast pays off
    for a model on this machine before the model trains with it.
    """
    torch.manual_seed(recipe.seed)
    model = build_trainable(name, len(data.classes), **model_overrides).to(device)
    step = augment_step(make_preprocess(data, split, recipe.augment).to(device))
    cfg = recipe.train_config(progress=False, mixed_precision=mixed_precision)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    idx = split.train[: recipe.batch_size]
    batch = (data.images[idx].to(device), data.labels[idx].to(device))
    times = timed_steps(model, [batch] * (steps + 1), loss_fn, make_optimizer(model, cfg), cfg, device, step)
    return float(np.median(times[1:]))


def train_model(name: str, data: ImageData, split: IndexSplit, recipe: Recipe, device: torch.device | str,
                progress: bool = True, mixed_precision: bool = True, **model_overrides: Any) -> Outcome:
    """Build model ``name``, train it with :func:`fit` (best weights saved), and evaluate every split.

    ``mixed_precision=False`` keeps a model in fp32 where autocast would slow it down (on CPUs,
    bf16 depthwise convolutions are slower than fp32 ones, which matters for EfficientNet).

    The returned ``entry`` is the model's block for ``results/bonus.json``; writing it is
    :func:`a2.vision.store.record`'s job.
    """
    torch.manual_seed(recipe.seed)
    cfg = make_config(name, num_classes=len(data.classes), **model_overrides)
    model = build_trainable(name, len(data.classes), **model_overrides)
    preprocess = make_preprocess(data, split, recipe.augment)
    train_batches = Batches(data.images[split.train], data.labels[split.train], recipe.batch_size, shuffle=True,
                            seed=recipe.seed, drop_last=len(split.train) > recipe.batch_size)
    val_batches = Batches(data.images[split.val], data.labels[split.val], 256)
    weights = runtime.weights_path(f"bonus/{name}.pt")
    sig = signature(name, cfg, recipe, split.checksum(data), mixed_precision)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    history = fit(model, train_batches, val_batches, loss_fn=loss_fn,
                  config=recipe.train_config(progress, mixed_precision), device=device, step=augment_step(preprocess),
                  metrics={"accuracy": accuracy}, checkpoint=weights,
                  checkpoint_extra={"model": name, "config": asdict(cfg), "signature": sig,
                                    "mean": preprocess.mean.flatten().tolist(),
                                    "std": preprocess.std.flatten().tolist()})
    t0 = time.perf_counter()
    metrics = evaluate(model, data, split, preprocess, device, mixed_precision=mixed_precision)
    eval_s = time.perf_counter() - t0
    n_eval = len(split.train) + len(split.val) + len(split.test)
    params = count_params(model)
    entry = {
        "label": variant_label(name, asdict(cfg), params),
        "test_accuracy": metrics["test"]["accuracy"],
        "test_f1": metrics["test"]["f1"],
        "params": params,
        "train_s": history.train_time_s,
        "train_images_per_s": len(train_batches) * recipe.batch_size * len(history) / history.train_time_s,
        "eval_images_per_s": n_eval / eval_s,
        "epochs_run": len(history),
        "best_epoch": history.best_epoch,
        "metrics": metrics,
        "history": history.records,
        "config": asdict(cfg),
        "recipe": asdict(recipe),
        "precision": runtime.resolve_arithmetic(device, "auto" if mixed_precision else "fp32"),
        "signature": sig,
        "weights": str(weights.relative_to(runtime.output_dir())),
    }
    return Outcome(name, model, history, entry)
