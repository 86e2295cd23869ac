"""``results/bonus.json`` and ``weights/bonus/``: record each model's run, and reuse one on request.

Both bonus notebooks compare their model with VGG-13 and ResNet-18. A notebook trains what it
reports unless its parameters ask to reuse stored runs (``reuse=True``): then a stored run stands in
for a new one only when its *signature* (model config + recipe + split checksum + FAST) matches and
its weights file carries the same signature.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from a2 import runtime
from a2.results import read_results_file, write_results
from a2.training import History
from a2.vision.experiment import Outcome, Recipe, build_trainable, signature, train_model
from a2.vision.images import ImageData, IndexSplit
from a2.vision.models import DISPLAY_NAMES, make_config

RESULTS_NAME = "bonus"


def load_bonus_results() -> dict[str, Any]:
    """``results/bonus.json`` of the current output folder, or ``{}`` before the first run."""
    path = runtime.results_path(f"{RESULTS_NAME}.json")
    return read_results_file(path) if path.is_file() else {}


def stored_train_times() -> dict[str, float]:
    """Training seconds of every model with a run in ``results/bonus.json``, in display order.

    Trained and reused runs alike are recorded there, so this is the whole budget's bill.
    """
    models = load_bonus_results().get("models", {})
    return {name: models[name]["train_s"] for name in DISPLAY_NAMES if name in models}


def record(name: str, entry: dict[str, Any], data: ImageData, split: IndexSplit, device: Any) -> Path:
    """Merge one model's entry into ``results/bonus.json`` (keeping the other models' entries)."""
    payload = load_bonus_results()
    models = {**payload.get("models", {}), name: entry}
    split_info = {**split.sizes(), "seed": split.seed, "checksum": split.checksum(data),
                  "duplicates_removed": len(data.duplicates), "classes": data.classes}
    payload = {k: v for k, v in payload.items() if k not in {"device", "git_commit", "created", "fast"}}
    return write_results(RESULTS_NAME, {**payload, "models": models, "split": split_info}, device=device)


def load_stored(name: str, data: ImageData, split: IndexSplit, recipe: Recipe, mixed_precision: bool = True,
                **model_overrides: Any) -> Outcome | None:
    """The stored run of ``name`` if its signature matches this setting and its weights exist, else ``None``."""
    cfg = make_config(name, num_classes=len(data.classes), **model_overrides)
    sig = signature(name, cfg, recipe, split.checksum(data), mixed_precision)
    entry = load_bonus_results().get("models", {}).get(name)
    weights = runtime.weights_path(f"bonus/{name}.pt")
    if not (entry and entry.get("signature") == sig and weights.is_file()):
        return None
    state = torch.load(weights, weights_only=True)
    if state.get("signature") != sig:
        return None
    model = build_trainable(name, len(data.classes), **model_overrides)
    model.load_state_dict(state["state_dict"])
    history = History(records=entry["history"], best_epoch=entry.get("best_epoch"), train_time_s=entry["train_s"])
    return Outcome(name, model, history, entry, reused=True)


def train_or_reuse(name: str, data: ImageData, split: IndexSplit, recipe: Recipe, device: torch.device | str, *,
                   reuse: bool = False, progress: bool = True, mixed_precision: bool = True,
                   **model_overrides: Any) -> Outcome:
    """Train ``name`` and record it; with ``reuse=True`` a matching stored run is loaded instead."""
    if reuse:
        stored = load_stored(name, data, split, recipe, mixed_precision, **model_overrides)
        if stored is not None:
            return stored
    outcome = train_model(name, data, split, recipe, device, progress, mixed_precision, **model_overrides)
    record(name, outcome.entry, data, split, device)
    return outcome
