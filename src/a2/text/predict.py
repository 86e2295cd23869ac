"""Inference: probabilities for encoded reviews, and ``python -m a2.text.predict``.

The weights file holds everything needed (state_dict, model config, vocabulary, text settings and
the decision threshold chosen on validation data), so prediction needs neither the dataset nor
word2vec. Command line::

    python -m a2.text.predict "A wonderful film."          # one review, human-readable
    python -m a2.text.predict --file reviews.txt             # one review per line
    cat reviews.txt | python -m a2.text.predict -            # the same, from stdin

With a file or stdin, each input line gives one output line ``label<TAB>p_pos<TAB>notes``.
"""

from __future__ import annotations

import math
import pickle  # only for the exception class torch.load raises; nothing here unpickles
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from a2 import cli
from a2.errors import DataError, WeightsError
from a2.runtime import weights_path
from a2.text.imdb import LABELS
from a2.text.models import TransformerClassifier, TransformerConfig
from a2.text.nb_features import NBRatios
from a2.text.preprocess import BucketBatches, TextConfig, Vocab, encode, stop_words, tokenize

OOV_WARNING = 0.3  # English reviews have a few % unknown tokens; above 30 % the text is probably not English
DEFAULT_THRESHOLD = 0.5
REQUIRED_KEYS = ("state_dict", "config", "vocab", "text_config")
_FIX = ("pass the Part IV Transformer's weights (--weights weights/part_4_transformer.pt), or rebuild them with "
        "python main.py --only part4")


@torch.no_grad()
def predict_proba(model: nn.Module, seqs: Sequence[np.ndarray], features: Sequence[np.ndarray] | None = None,
                  batch_size: int = 256) -> np.ndarray:
    """P(positive) for each sequence, in the order of ``seqs`` (batches are length-sorted internally)."""
    model.eval()
    loader = BucketBatches(seqs, np.zeros(len(seqs), dtype=np.int64), batch_size, features=features)
    device = next(model.parameters()).device
    chunks = [model(*(t.to(device) for t in batch[:-1])).float().softmax(-1)[:, 1].cpu() for batch in loader]
    out = np.empty(len(seqs))
    out[loader.order()] = torch.cat(chunks).numpy()
    return out


def bundle(model: TransformerClassifier, vocab: Vocab, text_cfg: TextConfig, head_frac: float, *,
           model_name: str = "Part IV Transformer", **extra: Any) -> dict[str, Any]:
    """What ``weights/part_4_transformer.pt`` holds: tensors and plain values only (weights_only).

    Everything prediction needs travels inside: the model's name and inputs, the vocabulary, the
    tokenizer settings and the stop-word list itself (so no NLTK data is needed to predict). Pass
    ``threshold=<float>`` (the decision threshold on P(pos), chosen on validation) in ``extra``, and
    ``nb_ratios={"unigram": tensor, "bigram": tensor}`` for a model with a naive-Bayes channel.
    """
    stops = stop_words(text_cfg.keep_negations, text_cfg.keep_contrast) if text_cfg.remove_stop_words else ()
    return {"state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "config": model.cfg.to_dict(), "vocab": list(vocab.itos), "text_config": asdict(text_cfg),
            "stop_words": sorted(stops), "model_name": model_name, "head_frac": head_frac, "labels": list(LABELS),
            **extra}


def read_bundle(path: str | Path, required: Sequence[str] = REQUIRED_KEYS, fix: str = _FIX,
                what: str = "a Part IV Transformer weights file") -> dict[str, Any]:
    """Load a weights file safely (``weights_only``); :class:`WeightsError` for anything unusable."""
    path = Path(path)
    if not path.exists():
        raise WeightsError(f"no weights at {path}", fix)
    if not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file (a device, pipe or socket)"
        raise WeightsError(f"{path} is {kind}, not a weights file", fix)
    if path.stat().st_size == 0:
        raise WeightsError(f"{path} is empty (0 bytes)", fix)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "Unsupported global" not in str(err):  # else: garbage bytes that happen to parse as a pickle
            raise WeightsError(f"{path} is not a readable weights file (truncated, or not made by torch.save)",
                               fix) from None
        raise WeightsError(f"{path} holds Python objects, not only tensors and plain values, so it is not loaded "
                           f"(weights_only: loading such a file could run code)", fix) from None
    except (RuntimeError, EOFError, ValueError, zipfile.BadZipFile, OSError, AttributeError, KeyError, IndexError,
            TypeError):
        raise WeightsError(f"{path} is not a readable weights file (truncated, or not made by torch.save)",
                           fix) from None
    if not isinstance(data, dict) or any(k not in data for k in required):
        have = sorted(data)[:8] if isinstance(data, dict) else type(data).__name__
        raise WeightsError(f"{path} is not {what}: it lacks "
                           f"{[k for k in required if not isinstance(data, dict) or k not in data]} "
                           f"; it has {have}", fix)
    return data


def _threshold(data: dict[str, Any], path: Path) -> float | None:
    value = data.get("threshold")
    if value is None:
        return None
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 < value < 1:
        raise WeightsError(f"{path}: 'threshold' is {value!r}, not a probability strictly between 0 and 1", _FIX)
    return float(value)


def _nb_ratios(data: dict[str, Any], cfg: TransformerConfig, path: Path) -> NBRatios | None:
    """The stored naive-Bayes ratios when the model has an NB channel (checked against the vocabulary)."""
    if not cfg.nb_channels:
        return None
    stored = data.get("nb_ratios")
    if not isinstance(stored, dict) or not all(isinstance(stored.get(k), torch.Tensor) for k in ("unigram", "bigram")):
        raise WeightsError(f"{path}: the model has a naive-Bayes channel but the file holds no 'nb_ratios'", _FIX)
    if stored["unigram"].shape != (cfg.vocab_size,):
        raise WeightsError(f"{path}: 'nb_ratios' has {stored['unigram'].shape[0]} unigram entries, expected "
                           f"{cfg.vocab_size}", _FIX)
    return NBRatios(stored["unigram"].double().numpy(), stored["bigram"].double().numpy())


@dataclass
class Predictor:
    model: TransformerClassifier
    vocab: Vocab
    text_cfg: TextConfig
    head_frac: float = 0.25
    threshold: float = DEFAULT_THRESHOLD  # on P(pos); stored in the weights file
    threshold_stored: bool = True  # False: the file had no threshold and DEFAULT_THRESHOLD is used
    nb: NBRatios | None = None  # naive-Bayes ratios, for a model with an NB input channel
    stops: frozenset[str] | None = None  # the stop words stored in the file (None: read NLTK's list)
    model_name: str = "Part IV Transformer"  # what the file says it holds

    @classmethod
    def load(cls, path: str | Path) -> Predictor:
        """Build the model from a weights file, checking that every part fits the others."""
        path = Path(path)
        data = read_bundle(path)
        try:
            cfg = TransformerConfig(**data["config"])
            text_cfg = TextConfig(**data["text_config"])
            vocab = Vocab([str(t) for t in data["vocab"]])
        except (TypeError, ValueError) as err:
            raise WeightsError(f"{path}: its config, text settings or vocabulary are malformed ({err})", _FIX) from None
        if len(vocab) != cfg.vocab_size:
            raise WeightsError(f"{path}: the vocabulary has {len(vocab)} tokens but the model expects "
                               f"{cfg.vocab_size} (config vocab_size); the file is damaged or mixed up", _FIX)
        embed = data["state_dict"].get("tokens.embed.weight") if isinstance(data["state_dict"], dict) else None
        if embed is None or embed.shape[0] != len(vocab):
            rows = "no embedding table" if embed is None else f"an embedding table of {embed.shape[0]} rows"
            raise WeightsError(f"{path}: the vocabulary has {len(vocab)} tokens but the weights hold {rows}", _FIX)
        try:
            model = TransformerClassifier(cfg)
            model.load_state_dict(data["state_dict"])
        except (RuntimeError, TypeError, ValueError) as err:
            first = str(err).strip().splitlines()[0]
            raise WeightsError(f"{path}: the weights do not fit the model its config describes ({first})",
                               _FIX) from None
        model.eval()
        head_frac = data.get("head_frac", 0.25)
        if not isinstance(head_frac, (int, float)) or not 0 <= head_frac <= 1:
            raise WeightsError(f"{path}: 'head_frac' is {head_frac!r}, not a fraction in [0, 1]", _FIX)
        threshold = _threshold(data, path)
        stops, name = data.get("stop_words"), data.get("model_name", "Part IV Transformer (file without a name)")
        if stops is not None and (not isinstance(stops, list) or not all(isinstance(w, str) for w in stops)):
            raise WeightsError(f"{path}: 'stop_words' is not a list of words", _FIX)
        if not isinstance(name, str):
            raise WeightsError(f"{path}: 'model_name' is {name!r}, not text", _FIX)
        return cls(model, vocab, text_cfg, float(head_frac), DEFAULT_THRESHOLD if threshold is None else threshold,
                   threshold is not None, _nb_ratios(data, cfg, path), None if stops is None else frozenset(stops),
                   name)

    def predict(self, texts: Sequence[str], batch_size: int = 256) -> list[dict[str, Any]]:
        """One result per text: label (None for an empty text), P(pos), tokens, OOV rate and notes."""
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise DataError("predict takes a list of reviews (strings)",
                            'pass [review, ...]; for one review call the predictor: predictor("A wonderful film.")')
        tokens = [tokenize(t, self.text_cfg, self.stops) if t.strip() else [] for t in texts]
        max_len = self.model.cfg.max_len
        filled = [i for i, t in enumerate(texts) if t.strip()]
        p_pos = np.full(len(texts), np.nan)
        if filled:
            seqs = encode([tokens[i] for i in filled], self.vocab, max_len, self.head_frac)
            feats = [self.nb.features(s) for s in seqs] if self.nb is not None else None
            p_pos[filled] = predict_proba(self.model, seqs, feats, batch_size)
            if not np.isfinite(p_pos[filled]).all():
                raise WeightsError("the model gave a probability that is not a number (NaN or infinite): "
                                   "its weights are damaged", _FIX)
        out = []
        for text, toks, p in zip(texts, tokens, p_pos, strict=True):
            if not text.strip():
                out.append({"label": None, "probability": None, "p_pos": None, "tokens": 0, "oov_rate": 1.0,
                            "notes": ["empty review; no prediction"]})
                continue
            label = int(p > self.threshold)  # the rule the threshold was calibrated with
            oov = self.vocab.oov_rate(toks)
            notes = []
            if len(toks) > max_len:
                head = int(round(max_len * self.head_frac))
                notes.append(f"long review: {len(toks)} tokens; read the first {head} and the last {max_len - head}")
            if not toks:
                notes.append("no English words left after cleaning; the prediction is a guess")
            elif oov > OOV_WARNING:
                notes.append(f"{oov:.0%} of the words are unknown to the vocabulary (non-English text?); "
                             "the prediction is unreliable")
            out.append({"label": LABELS[label], "probability": float(p if label else 1 - p), "p_pos": float(p),
                        "tokens": len(toks), "oov_rate": oov, "notes": notes})
        return out

    def __call__(self, text: str) -> dict[str, Any]:
        """Label, its probability and notes; raises :class:`DataError` (a ``ValueError``) for empty input."""
        if not isinstance(text, str):
            raise DataError(f"a review must be text, got {type(text).__name__}",
                            'pass a string, e.g. predictor("A wonderful film.")')
        if not text.strip():
            raise DataError("the review is empty or only whitespace",
                            'pass some text, e.g. python -m a2.text.predict "A wonderful film."')
        return self.predict([text])[0]


def read_lines(source: str) -> list[str]:
    """Reviews, one per line, from a file or ``-`` (stdin); :class:`DataError` names the file and line."""
    name = "stdin" if source == "-" else source
    if source == "-":
        if sys.stdin is None or sys.stdin.closed:
            raise DataError("stdin is closed, so there are no reviews to read", "pipe reviews in, or use --file PATH")
        raw = sys.stdin.buffer.read()
    else:
        path = Path(source)
        if not path.is_file():
            kind = ("is a folder" if path.is_dir() else "is not a regular file (a device, pipe or socket)"
                    if path.exists() else "does not exist")
            raise DataError(f"{path} {kind}", "pass a text file with one review per line, or - to read stdin")
        try:
            raw = path.read_bytes()
        except OSError as err:
            raise DataError(f"cannot read {path}: {err.strerror}", "check the file's permissions") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataError(f"{name}, line {line}: not UTF-8 text", "save the reviews as UTF-8 plain text") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def tsv_line(result: dict[str, Any]) -> str:
    """``label<TAB>p_pos<TAB>notes`` (``-`` and an empty probability for an empty review)."""
    notes = "; ".join(result["notes"])
    if result["label"] is None:
        return f"-\t\t{notes}"
    return f"{result['label']}\t{result['p_pos']:.4f}\t{notes}"


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit code (2 with a one-line ``error:`` for bad input)."""
    return cli.run(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = cli.ArgumentParser(prog="python -m a2.text.predict", description="IMDB sentiment of reviews")
    parser.add_argument("text", nargs="*", help="one review (quote it), or - to read reviews from stdin")
    parser.add_argument("--file", metavar="PATH", help="reviews, one per line (- for stdin); prints label, "
                        "P(positive) and notes, tab-separated, one line per review")
    parser.add_argument("--weights", default=None, help="default: weights/part_4_transformer.pt")
    args = parser.parse_args(argv)
    source = args.file or ("-" if args.text == ["-"] else None)
    if source is not None and args.text and args.text != ["-"]:
        parser.error("give either a review or --file, not both")
    if source is None and not args.text:
        parser.error("give a review, --file PATH, or - to read reviews from stdin")
    texts = read_lines(source) if source is not None else None
    weights = Path(args.weights) if args.weights else weights_path("part_4_transformer.pt")
    predictor = Predictor.load(weights)
    try:
        results = predictor.predict(texts) if texts is not None else [predictor(" ".join(args.text))]
    except LookupError:  # raised by nltk_data_dir() when the stop words cannot be found or downloaded
        raise DataError("the NLTK data (stop words) that tokenisation needs were not found",
                        "set A2_DATA_DIR to a folder holding nltk_data/, e.g. export A2_DATA_DIR=../shared/data") \
            from None
    if not predictor.threshold_stored:
        print(f"note: {weights} stores no decision threshold; using {DEFAULT_THRESHOLD}", file=sys.stderr)
    print(f"model: {predictor.model_name} ({weights})", file=sys.stderr if texts is not None else sys.stdout)
    if texts is not None:
        for result in results:
            print(tsv_line(result))
        return 0
    result = results[0]
    print(f"{result['label']} (probability {result['probability']:.3f}, P(pos) {result['p_pos']:.3f}, "
          f"threshold {predictor.threshold:g})")
    for note in result["notes"]:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
