"""The pretrained-encoder weights file: written by ``part_4_pretrain.ipynb``, read by Part IV.

It holds the token embedding and ``nn.TransformerEncoder`` weights after masked-token pretraining,
with the vocabulary and the settings that shape them. Part IV's classifier starts from it only when
the vocabulary and those settings agree exactly; anything else is a one-line error that says how to
rebuild the file, never a silently mismatched model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from a2.errors import WeightsError
from a2.text.models import TransformerConfig
from a2.text.predict import read_bundle
from a2.text.preprocess import Vocab

KIND = "part4-pretrained-encoder"
FILE_NAME = "part_4_pretrained_encoder.pt"
PREFIXES = ("tokens.", "encoder.")  # the classifier's parts that pretraining trains
SHAPING = ("vocab_size", "d_model", "n_heads", "n_encoder_layers", "d_ff", "bigram_buckets", "nb_channels")
_FIX = ("rebuild it with `python main.py --only pretrain` (part_4_pretrain.ipynb), with the same vocabulary and model "
        "settings as Part IV, or set PRETRAINED = False in part_4_transformer.ipynb")


def bundle(state: dict[str, torch.Tensor], cfg: TransformerConfig, vocab: Vocab, **extra: Any) -> dict[str, Any]:
    """Tensors and plain values only, so that it loads with ``weights_only=True``."""
    stray = sorted(k for k in state if not k.startswith(PREFIXES))
    if stray:
        raise ValueError(f"the pretrained state holds parts outside {PREFIXES}: {stray[:3]}")
    return {"kind": KIND, "state_dict": state, "config": cfg.to_dict(), "vocab": list(vocab.itos), **extra}


def load_state(path: str | Path, cfg: TransformerConfig, vocab: Vocab) -> dict[str, torch.Tensor]:
    """The ``tokens.*`` and ``encoder.*`` weights for a classifier of ``cfg`` over ``vocab``."""
    data = read_bundle(path, ("kind", "state_dict", "config", "vocab"), _FIX, "a pretrained Part IV encoder")
    if data["kind"] != KIND:
        raise WeightsError(f"{path} holds {data['kind']!r}, not {KIND!r}", _FIX)
    stored = data["config"]
    differ = {k: (stored.get(k), getattr(cfg, k)) for k in SHAPING if stored.get(k) != getattr(cfg, k)}
    if differ:
        shown = ", ".join(f"{k} {a} (file) vs {b} (notebook)" for k, (a, b) in differ.items())
        raise WeightsError(f"{path} was pretrained with other model settings: {shown}", _FIX)
    if list(data["vocab"]) != list(vocab.itos):
        diff = next((i for i, (a, b) in enumerate(zip(data["vocab"], vocab.itos, strict=False)) if a != b),
                    min(len(data["vocab"]), len(vocab.itos)))
        raise WeightsError(f"{path} was pretrained over another vocabulary ({len(data['vocab']):,} vs "
                           f"{len(vocab):,} words; first difference at id {diff})", _FIX)
    state = data["state_dict"]
    if not state or not all(isinstance(v, torch.Tensor) for v in state.values()) \
            or not all(k.startswith(PREFIXES) for k in state):
        raise WeightsError(f"{path}: 'state_dict' must map {PREFIXES} parameter names to tensors", _FIX)
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise WeightsError(f"{path}: {bad[0]} holds NaN or infinite values", _FIX)
    return state
