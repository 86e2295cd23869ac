"""Inference: probabilities for encoded reviews, and ``python -m a2.text.predict "text"``.

The weights file holds everything needed (state_dict, model config, vocabulary, text settings), so
prediction needs neither the dataset nor word2vec.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from a2.text.imdb import LABELS
from a2.text.models import TransformerClassifier, TransformerConfig
from a2.text.preprocess import BucketBatches, TextConfig, Vocab, encode, tokenize

OOV_WARNING = 0.3  # English reviews have a few % unknown tokens; above 30 % the text is probably not English


@torch.no_grad()
def predict_proba(model: nn.Module, seqs: Sequence[np.ndarray], batch_size: int = 256) -> np.ndarray:
    """Class probabilities ``(n, classes)`` in the order of ``seqs`` (batches are length-sorted)."""
    model.eval()
    loader = BucketBatches(seqs, np.zeros(len(seqs), dtype=np.int64), batch_size)
    order = loader.order()
    device = next(model.parameters()).device
    probs = torch.cat([model(ids.to(device)).float().softmax(-1).cpu() for ids, _ in loader]).numpy()
    out = np.empty_like(probs)
    out[order] = probs
    return out


def log_loss(probs: np.ndarray, labels: Sequence[int]) -> float:
    """Mean cross-entropy of the true class."""
    p = probs[np.arange(len(probs)), np.asarray(labels)]
    return float(-np.log(np.clip(p, 1e-12, 1.0)).mean())


def bundle(model: TransformerClassifier, vocab: Vocab, text_cfg: TextConfig, head_frac: float,
           **extra: Any) -> dict[str, Any]:
    """What ``weights/part_4_transformer.pt`` holds: tensors and plain values only (weights_only)."""
    return {"state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "config": model.cfg.to_dict(), "vocab": list(vocab.itos), "text_config": asdict(text_cfg),
            "head_frac": head_frac, "labels": list(LABELS), **extra}


@dataclass
class Predictor:
    model: TransformerClassifier
    vocab: Vocab
    text_cfg: TextConfig
    head_frac: float = 0.25

    @classmethod
    def load(cls, path: str | Path) -> Predictor:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no weights at {path}; run part_4_transformer.ipynb (python main.py --only "
                                    f"part4) or pass --weights")
        data = torch.load(path, map_location="cpu", weights_only=True)
        model = TransformerClassifier(TransformerConfig(**data["config"]))
        model.load_state_dict(data["state_dict"])
        model.eval()
        return cls(model, Vocab(list(data["vocab"])), TextConfig(**data["text_config"]), data.get("head_frac", 0.25))

    def __call__(self, text: str) -> dict[str, Any]:
        """Label, its probability and notes; raises ``ValueError`` for empty or whitespace input."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError("the review is empty or only whitespace; pass some text, e.g. "
                             "python -m a2.text.predict \"A wonderful film.\"")
        tokens = tokenize(text, self.text_cfg)
        oov = self.vocab.oov_rate(tokens)
        max_len = self.model.cfg.max_len
        seq = encode([tokens], self.vocab, max_len, self.head_frac)[0]
        probs = predict_proba(self.model, [seq])[0]
        label = int(probs.argmax())
        notes = []
        if len(tokens) > max_len:
            head = int(round(max_len * self.head_frac))
            notes.append(f"long review: {len(tokens)} tokens; read the first {head} and the last {max_len - head}")
        if not tokens:
            notes.append("no English words left after cleaning; the prediction is a guess")
        elif oov > OOV_WARNING:
            notes.append(f"{oov:.0%} of the words are unknown to the vocabulary (non-English text?); "
                         "the prediction is unreliable")
        return {"label": LABELS[label], "probability": float(probs[label]), "p_pos": float(probs[1]),
                "tokens": len(tokens), "oov_rate": oov, "notes": notes}


def main(argv: Sequence[str] | None = None) -> int:
    from a2.runtime import weights_path

    parser = argparse.ArgumentParser(prog="python -m a2.text.predict", description="IMDB sentiment of a review")
    parser.add_argument("text", nargs="+", help="the review (quote it)")
    parser.add_argument("--weights", default=None, help="default: weights/part_4_transformer.pt")
    args = parser.parse_args(argv)
    text = " ".join(args.text)
    try:
        predictor = Predictor.load(args.weights or weights_path("part_4_transformer.pt"))
        result = predictor(text)
    except (ValueError, FileNotFoundError, LookupError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{result['label']} (probability {result['probability']:.3f})")
    for note in result["notes"]:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
