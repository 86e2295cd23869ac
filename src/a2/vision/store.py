"""``results/bonus.json`` and ``weights/bonus/``: record each model's run, and reuse one on request.

Both bonus notebooks compare their model with VGG-13 and ResNet-18. A notebook trains what it
reports unless its parameters ask to reuse stored runs (``reuse=True``): then a stored run stands in
for a new one only when its *signature* (model source and config, arithmetic, recipe, split checksum,
FAST) matches and its weights file carries the same signature. A weights file that cannot be read, or
does not fit the model, is a one-line :class:`~a2.errors.WeightsError`, not a traceback.
"""

from __future__ import annotations

import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from a2 import runtime
from a2.errors import WeightsError
from a2.results import read_results_file, write_results
from a2.training import History
from a2.vision.experiment import Outcome, Recipe, signature, train_model
from a2.vision.images import ImageData, IndexSplit
from a2.vision.models import DISPLAY_NAMES
from a2.vision.spec import ModelSpec

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
    return write_results(RESULTS_NAME, {**payload, "models": models, "split": split_info,
                                        "device_kind": runtime.device_kind(device)}, device=device)


def read_weights(path: Path) -> dict[str, Any]:
    """A stored run's weights file as a dict holding ``state_dict`` and ``signature``; else :class:`WeightsError`."""
    fix = f"delete {path} so that the model is trained again, or restore it with git checkout"
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError, zipfile.BadZipFile, KeyError,
            AttributeError, IndexError, TypeError):
        raise WeightsError(f"{path} is not a readable weights file (truncated, or not made by torch.save)",
                           fix) from None
    if not isinstance(state, Mapping) or not isinstance(state.get("state_dict"), Mapping):
        raise WeightsError(f"{path} holds no state_dict, so it is not a stored bonus run", fix)
    return dict(state)


def load_stored(spec: ModelSpec, data: ImageData, split: IndexSplit, recipe: Recipe) -> Outcome | None:
    """The stored run of ``spec`` if its signature matches this setting and its weights exist, else ``None``."""
    sig = signature(spec, recipe, split.checksum(data))
    entry = load_bonus_results().get("models", {}).get(spec.name)
    weights = runtime.weights_path(f"bonus/{spec.name}.pt")
    if not (isinstance(entry, Mapping) and entry.get("signature") == sig and weights.is_file()):
        return None
    state = read_weights(weights)
    if state.get("signature") != sig:
        return None
    model = spec.build()
    try:
        model.load_state_dict(state["state_dict"])
    except (RuntimeError, TypeError, AttributeError) as err:  # a state_dict of another model or size
        detail = " ".join(str(err).split())[:200]
        raise WeightsError(f"{weights} does not fit {DISPLAY_NAMES.get(spec.name, spec.name)} as configured: {detail}",
                           f"delete {weights} so that the model is trained again") from None
    history = History(records=entry["history"], best_epoch=entry.get("best_epoch"), train_time_s=entry["train_s"])
    return Outcome(spec.name, model, history, dict(entry), reused=True)


def train_or_reuse(spec: ModelSpec, data: ImageData, split: IndexSplit, recipe: Recipe, device: torch.device | str,
                   *, reuse: bool = False, progress: bool = True) -> Outcome:
    """Train ``spec``'s model and record it; with ``reuse=True`` a matching stored run is loaded instead."""
    if reuse:
        stored = load_stored(spec, data, split, recipe)
        if stored is not None:
            return stored
    outcome = train_model(spec, data, split, recipe, device, progress)
    record(spec.name, outcome.entry, data, split, device)
    return outcome
