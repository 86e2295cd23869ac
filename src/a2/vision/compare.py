"""Train, evaluate and record the four image classifiers under one shared recipe.

Every model gets the same optimiser, schedule, augmentation, label smoothing, epochs and split
(:class:`Recipe`), and trains through :func:`a2.training.fit`. Results go to ``results/bonus.json``
(one entry per model) and weights to ``weights/bonus/<model>.pt``. :func:`load_or_train` reuses a
stored entry when its *signature* (model config + recipe + split checksum) matches, so the VGG-13
and ResNet-18 baselines are trained once and shared by both bonus notebooks.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from a2 import runtime
from a2.evaluation import accuracy, classification_metrics, per_class_metrics, write_results
from a2.training import History, TrainConfig, fit
from a2.vision.images import AugmentConfig, Batches, ImageData, Preprocess, Split, augment_step, channel_stats
from a2.vision.models import build, count_params, make_config

RESULTS_NAME = "bonus"


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

    def train_config(self, progress: bool = True) -> TrainConfig:
        return TrainConfig(epochs=self.epochs, lr=self.lr, weight_decay=self.weight_decay, optimizer="adamw",
                           schedule=self.schedule, warmup_frac=self.warmup_frac, monitor="val_accuracy", mode="max",
                           progress=progress)


@dataclass
class Outcome:
    """What one model run produced (or what was reloaded from a previous run)."""

    name: str
    model: nn.Module
    history: History
    entry: dict[str, Any]  # the model's block in results/bonus.json
    reused: bool = False


def signature(name: str, model_cfg: Any, recipe: Recipe, split_checksum: str) -> str:
    """Hash of everything that determines a run: equal signatures mean the stored run can be reused."""
    blob = json.dumps({"model": name, "config": asdict(model_cfg), "recipe": asdict(recipe), "split": split_checksum,
                       "fast": runtime.is_fast()}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def make_preprocess(data: ImageData, split: Split, augment: AugmentConfig | None) -> Preprocess:
    """Normalisation fit on the training split only, plus the augmentation policy."""
    mean, std = channel_stats(data.images[split.train])
    return Preprocess(mean, std, augment)


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, preprocess: Preprocess, device: torch.device | str,
            batch_size: int = 256) -> torch.Tensor:
    """Softmax probabilities ``(N, classes)`` in eval mode (no augmentation)."""
    model.eval().to(device)
    preprocess.eval().to(device)
    out = []
    for start in range(0, len(images), batch_size):
        x = images[start : start + batch_size].to(device)
        with runtime.autocast(device):
            out.append(model(preprocess(x)).float().softmax(dim=-1).cpu())
    return torch.cat(out) if out else torch.empty(0)


def evaluate(model: nn.Module, data: ImageData, split: Split, preprocess: Preprocess, device: torch.device | str,
             loss_fn: nn.Module | None = None) -> dict[str, dict[str, Any]]:
    """Accuracy, macro precision/recall/F1, confusion matrix, per-class scores and loss on each split."""
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    out = {}
    for part in ("train", "val", "test"):
        idx = getattr(split, part)
        probs = predict(model, data.images[idx], preprocess, device)
        y = data.labels[idx]
        m = classification_metrics(y.numpy(), probs.argmax(1).numpy(), probs.numpy(), average="macro",
                                   labels=list(range(len(data.classes))))
        m["loss"] = float(loss_fn(probs.clamp_min(1e-12).log(), y))
        m["per_class"] = per_class_metrics(y.numpy(), probs.argmax(1).numpy(), data.classes)
        out[part] = m
    return out


def train(name: str, data: ImageData, split: Split, recipe: Recipe, device: torch.device | str,
          progress: bool = True, **model_overrides: Any) -> Outcome:
    """Build model ``name``, train it with :func:`fit`, evaluate every split, save weights and results."""
    torch.manual_seed(recipe.seed)
    cfg = make_config(name, num_classes=len(data.classes), **model_overrides)
    model = build(name, num_classes=len(data.classes), **model_overrides).to(memory_format=torch.channels_last)
    preprocess = make_preprocess(data, split, recipe.augment)
    train_batches = Batches(data.images[split.train], data.labels[split.train], recipe.batch_size, shuffle=True,
                            seed=recipe.seed, drop_last=len(split.train) > recipe.batch_size)
    val_batches = Batches(data.images[split.val], data.labels[split.val], 256)
    weights = runtime.weights_path(f"bonus/{name}.pt")
    sig = signature(name, cfg, recipe, split.checksum(data))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    history = fit(model, train_batches, val_batches, loss_fn=loss_fn,
                  config=recipe.train_config(progress), device=device, step=augment_step(preprocess),
                  metrics={"accuracy": accuracy}, checkpoint=weights,
                  checkpoint_extra={"model": name, "config": asdict(cfg), "signature": sig,
                                    "mean": preprocess.mean.flatten().tolist(),
                                    "std": preprocess.std.flatten().tolist()})
    t0 = time.perf_counter()
    metrics = evaluate(model, data, split, preprocess, device)
    eval_s = time.perf_counter() - t0
    n_eval = len(split.train) + len(split.val) + len(split.test)
    entry = {
        "test_accuracy": metrics["test"]["accuracy"],
        "test_f1": metrics["test"]["f1"],
        "params": count_params(model),
        "train_s": history.train_time_s,
        "train_images_per_s": len(train_batches) * recipe.batch_size * len(history) / history.train_time_s,
        "eval_images_per_s": n_eval / eval_s,
        "epochs_run": len(history),
        "best_epoch": history.best_epoch,
        "metrics": metrics,
        "history": history.records,
        "config": asdict(cfg),
        "recipe": asdict(recipe),
        "signature": sig,
        "weights": str(weights.relative_to(runtime.output_dir())),
    }
    record(name, entry, data, split, device)
    return Outcome(name, model, history, entry)


def load_results() -> dict[str, Any]:
    path = runtime.results_path(f"{RESULTS_NAME}.json")
    return json.loads(path.read_text()) if path.is_file() else {}


def stored_train_times() -> dict[str, float]:
    """Training seconds of every model with a run in ``results/bonus.json``, in display order.

    Trained and reused runs alike are recorded there, so this is the whole budget's bill.
    """
    from a2.vision.models import DISPLAY_NAMES

    models = load_results().get("models", {})
    return {name: models[name]["train_s"] for name in DISPLAY_NAMES if name in models}


def record(name: str, entry: dict[str, Any], data: ImageData, split: Split, device: Any) -> Path:
    """Merge one model's entry into ``results/bonus.json`` (keeping the other models' entries)."""
    payload = load_results()
    models = {**payload.get("models", {}), name: entry}
    split_info = {**split.sizes(), "seed": split.seed, "checksum": split.checksum(data),
                  "duplicates_removed": len(data.duplicates), "classes": data.classes}
    payload = {k: v for k, v in payload.items() if k not in {"device", "git_commit", "created", "fast"}}
    return write_results(RESULTS_NAME, {**payload, "models": models, "split": split_info}, device=device)


def load_or_train(name: str, data: ImageData, split: Split, recipe: Recipe, device: torch.device | str,
                  progress: bool = True, **model_overrides: Any) -> Outcome:
    """Reuse the stored run of ``name`` if its signature matches and its weights exist; else train it."""
    cfg = make_config(name, num_classes=len(data.classes), **model_overrides)
    sig = signature(name, cfg, recipe, split.checksum(data))
    entry = load_results().get("models", {}).get(name)
    weights = runtime.weights_path(f"bonus/{name}.pt")
    if entry and entry.get("signature") == sig and weights.is_file():
        state = torch.load(weights, weights_only=True)
        if state.get("signature") == sig:
            model = build(name, num_classes=len(data.classes), **model_overrides).to(memory_format=torch.channels_last)
            model.load_state_dict(state["state_dict"])
            history = History(records=entry["history"], best_epoch=entry.get("best_epoch"),
                              train_time_s=entry["train_s"])
            return Outcome(name, model, history, entry, reused=True)
    return train(name, data, split, recipe, device, progress, **model_overrides)


def comparison_table(outcomes: dict[str, Outcome] | dict[str, dict[str, Any]]):
    """One row per model: accuracy/loss per split, macro F1, parameters, time and throughput."""
    import pandas as pd

    from a2.vision.models import DISPLAY_NAMES

    rows = {}
    for name, item in outcomes.items():
        e = item.entry if isinstance(item, Outcome) else item
        m = e["metrics"]
        rows[DISPLAY_NAMES.get(name, name)] = {
            "params": e["params"], "train acc": m["train"]["accuracy"], "val acc": m["val"]["accuracy"],
            "test acc": m["test"]["accuracy"], "test loss": m["test"]["loss"], "test macro F1": e["test_f1"],
            "epochs": e["epochs_run"], "train s": e["train_s"], "train img/s": e["train_images_per_s"],
            "eval img/s": e["eval_images_per_s"],
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def misclassified(model: nn.Module, data: ImageData, split: Split, preprocess: Preprocess, device: Any,
                  limit: int = 16) -> tuple[np.ndarray, list[str]]:
    """Indices (into ``data``) of up to ``limit`` wrongly classified test images, with 'true -> pred (p)' titles."""
    probs = predict(model, data.images[split.test], preprocess, device)
    pred = probs.argmax(1)
    truth = data.labels[split.test]
    wrong = torch.nonzero(pred != truth).flatten()
    wrong = wrong[probs[wrong, pred[wrong]].argsort(descending=True)][:limit]  # most confident mistakes first
    titles = [f"{data.classes[truth[i]]} -> {data.classes[pred[i]]} ({probs[i, pred[i]]:.0%})" for i in wrong.tolist()]
    return split.test[wrong.numpy()], titles


def attention_maps(model: nn.Module, images: torch.Tensor, preprocess: Preprocess, device: Any) -> torch.Tensor:
    """ViT attention rollout ``(N, grid, grid)`` for uint8 images, preprocessed as for evaluation."""
    from a2.vision.vit import attention_rollout

    preprocess.eval().to(device)
    return attention_rollout(model.to(device), preprocess(images.to(device))).cpu()
