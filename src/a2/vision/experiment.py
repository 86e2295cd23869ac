"""Train and evaluate one image classifier under the recipe shared by all four models.

Every model gets the same optimiser, schedule, augmentation, label smoothing, epochs and split
(:class:`Recipe`) and trains through :func:`a2.training.fit`, so differences in the comparison come
from the architectures. What to train arrives as a :class:`~a2.vision.spec.ModelSpec` (class, config,
arithmetic), so a model defined in a notebook cell trains as written there. Storing runs in
``results/bonus.json`` and reusing them is :mod:`a2.vision.store`'s job; tables are :mod:`a2.vision.tables`'s.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from a2 import runtime
from a2.evaluation import accuracy, classification_metrics, per_class_metrics
from a2.params import count_params
from a2.training import History, TrainConfig, fit, make_optimizer, measure_step_seconds, timed_steps
from a2.vision.images import AugmentConfig, Batches, ImageData, IndexSplit, Preprocess, augment_step, channel_stats
from a2.vision.models import variant_label
from a2.vision.spec import ModelSpec


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

    def train_config(self, arithmetic: str, progress: bool = True) -> TrainConfig:
        """The :class:`TrainConfig` for :func:`fit`: AdamW, keep the best epoch by validation accuracy."""
        return TrainConfig(epochs=self.epochs, lr=self.lr, weight_decay=self.weight_decay, optimizer="adamw",
                           schedule=self.schedule, warmup_frac=self.warmup_frac, monitor="val_accuracy", mode="max",
                           arithmetic=arithmetic, progress=progress)


@dataclass
class Outcome:
    """What one model run produced (or what was reloaded from a stored run)."""

    name: str
    model: nn.Module
    history: History
    entry: dict[str, Any]  # the model's block in results/bonus.json
    reused: bool = False


def signature(spec: ModelSpec, recipe: Recipe, split_checksum: str) -> str:
    """Hash of everything that determines a run: equal signatures mean a stored run may stand in for it.

    The model's source is part of it, so an edited model cell never reuses the weights of the old code.
    """
    blob = json.dumps({"model": spec.name, "config": asdict(spec.config), "source": spec.source_hash(),
                       "recipe": asdict(recipe), "split": split_checksum, "fast": runtime.is_fast(),
                       "arithmetic": spec.arithmetic}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def make_preprocess(data: ImageData, split: IndexSplit, augment: AugmentConfig | None) -> Preprocess:
    """Normalisation fit on the training split only (no test statistics leak in), plus the augmentation."""
    mean, std = channel_stats(data.images[split.train])
    return Preprocess(mean, std, augment)


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, preprocess: Preprocess, device: torch.device | str,
            arithmetic: str = "fp32", batch_size: int = 256) -> torch.Tensor:
    """Softmax probabilities ``(N, classes)`` in eval mode (no augmentation), in the model's ``arithmetic``."""
    model.eval().to(device)
    preprocess.eval().to(device)
    out = []
    for start in range(0, len(images), batch_size):
        x = images[start : start + batch_size].to(device)
        with runtime.autocast(device, arithmetic):
            out.append(model(preprocess(x)).float().softmax(dim=-1).cpu())
    return torch.cat(out) if out else torch.empty(0)


def evaluate(model: nn.Module, data: ImageData, split: IndexSplit, preprocess: Preprocess, device: torch.device | str,
             arithmetic: str = "fp32", loss_fn: nn.Module | None = None) -> dict[str, dict[str, Any]]:
    """Accuracy, macro precision/recall/F1, confusion matrix, per-class scores and loss on each split."""
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    out = {}
    for part in ("train", "val", "test"):
        idx = getattr(split, part)
        probs = predict(model, data.images[idx], preprocess, device, arithmetic)
        y = data.labels[idx]
        m = classification_metrics(y.numpy(), probs.argmax(1).numpy(), probs.numpy(), average="macro",
                                   labels=list(range(len(data.classes))))
        m["loss"] = float(loss_fn(probs.clamp_min(1e-12).log(), y))
        m["per_class"] = per_class_metrics(y.numpy(), probs.argmax(1).numpy(), data.classes)
        out[part] = m
    return out


def step_seconds(spec: ModelSpec, data: ImageData, split: IndexSplit, recipe: Recipe, device: torch.device | str,
                 arithmetics: Iterable[str] = ("fp32", "bf16"), steps: int = 3) -> dict[str, float]:
    """Median seconds of one training step of ``spec``'s model in each arithmetic, on a real batch.

    Each arithmetic gets a fresh copy of the model and one warm-up step that is left out. It shows, in
    seconds rather than hours, whether autocast pays off for a model on this machine.
    """
    step = augment_step(make_preprocess(data, split, recipe.augment).to(device))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    idx = split.train[: recipe.batch_size]
    batch = (data.images[idx].to(device), data.labels[idx].to(device))
    trainers: dict[str, tuple[nn.Module, torch.optim.Optimizer, TrainConfig]] = {}

    def run_step(arithmetic: str) -> None:  # fit's own step (timed_steps), on a model kept per arithmetic
        if arithmetic not in trainers:
            torch.manual_seed(recipe.seed)
            model = spec.build().to(device)
            cfg = recipe.train_config(arithmetic, progress=False)
            trainers[arithmetic] = model, make_optimizer(model, cfg), cfg
        model, optimizer, cfg = trainers[arithmetic]
        timed_steps(model, [batch], loss_fn, optimizer, cfg, device, step)

    return measure_step_seconds(run_step, dict.fromkeys(arithmetics), steps)


def train_model(spec: ModelSpec, data: ImageData, split: IndexSplit, recipe: Recipe, device: torch.device | str,
                progress: bool = True) -> Outcome:
    """Build ``spec``'s model, train it with :func:`fit` (best weights saved), and evaluate every split.

    The returned ``entry`` is the model's block for ``results/bonus.json``; writing it is
    :func:`a2.vision.store.record`'s job.
    """
    torch.manual_seed(recipe.seed)
    model = spec.build()
    preprocess = make_preprocess(data, split, recipe.augment)
    train_batches = Batches(data.images[split.train], data.labels[split.train], recipe.batch_size, shuffle=True,
                            seed=recipe.seed, drop_last=len(split.train) > recipe.batch_size)
    val_batches = Batches(data.images[split.val], data.labels[split.val], 256)
    weights = runtime.weights_path(f"bonus/{spec.name}.pt")
    sig = signature(spec, recipe, split.checksum(data))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    config = asdict(spec.config)
    history = fit(model, train_batches, val_batches, loss_fn=loss_fn,
                  config=recipe.train_config(spec.arithmetic, progress), device=device, step=augment_step(preprocess),
                  metrics={"accuracy": accuracy}, checkpoint=weights,
                  checkpoint_extra={"model": spec.name, "config": config, "signature": sig,
                                    "mean": preprocess.mean.flatten().tolist(),
                                    "std": preprocess.std.flatten().tolist()})
    t0 = time.perf_counter()
    metrics = evaluate(model, data, split, preprocess, device, spec.arithmetic)
    eval_s = time.perf_counter() - t0
    n_eval = len(split.train) + len(split.val) + len(split.test)
    params = count_params(model)
    entry = {
        "label": variant_label(spec.name, config, params),
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
        "config": config,
        "recipe": asdict(recipe),
        "arithmetic": spec.arithmetic,
        "source_hash": spec.source_hash(),
        "signature": sig,
        "weights": str(weights.relative_to(runtime.output_dir())),
    }
    return Outcome(spec.name, model, history, entry)
