"""Masked-token pretraining (a2.text.pretrain, from part_4_pretrain.ipynb) and its weights file."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from a2.errors import WeightsError
from a2.io import save_torch
from a2.text import encoder_weights
from a2.text.models import TransformerClassifier, TransformerConfig
from a2.text.preprocess import PAD_ID, UNK_ID, Vocab
from a2.text.pretrain import MaskedLanguageModel, mask_tokens, masked_accuracy, pretrain
from a2.training import TrainConfig

CFG = TransformerConfig(vocab_size=2100,  # above the adaptive softmax's first cutoff (2000)
                        d_model=16, n_heads=2, n_encoder_layers=2, n_decoder_layers=1, d_ff=32,
                        max_len=32, dropout=0.0, emb_dropout=0.0, bigram_buckets=11)
VOCAB = Vocab(["<pad>", "<unk>", *[f"w{i}" for i in range(2098)]])


def test_mask_tokens_never_touches_padding_and_follows_bert_shares():
    ids = torch.randint(2, 40, (200, 50))
    ids[:, 40:] = PAD_ID
    corrupted, chosen = mask_tokens(ids, 40, 0.15, torch.Generator().manual_seed(0))
    assert not chosen[:, 40:].any() and (corrupted[:, 40:] == PAD_ID).all()
    assert abs(chosen[:, :40].float().mean().item() - 0.15) < 0.02
    assert (corrupted[~chosen] == ids[~chosen]).all()
    masked = (corrupted[chosen] == UNK_ID).float().mean().item()
    kept = (corrupted[chosen] == ids[chosen]).float().mean().item()
    assert 0.75 < masked < 0.85 and 0.07 < kept < 0.14  # 10% kept, plus random draws that hit the same word


def _sequences(n: int, seed: int = 0) -> list[np.ndarray]:
    """A learnable language: each review repeats a short pattern, so masked words can be predicted."""
    rng = np.random.default_rng(seed)
    return [np.tile(rng.integers(2, 10, size=3), 6)[: rng.integers(8, 18)] for _ in range(n)]


def test_pretraining_lowers_the_masked_token_loss():
    torch.manual_seed(0)
    model = MaskedLanguageModel(CFG)
    before = masked_accuracy(model, _sequences(40, 1), seed=0)
    history = pretrain(model, _sequences(96), _sequences(40, 1), TrainConfig(epochs=3, lr=5e-3, progress=False),
                       prob=0.3, batch_size=16, seed=0)
    after = history.records[-1]
    assert after["val_mlm_loss"] < before["mlm_loss"] - 0.5
    assert history.best_epoch == 3 and all(np.isfinite(r["train_mlm_loss"]) for r in history.records)


def test_encoder_weights_round_trip_into_the_classifier(tmp_path):
    model = MaskedLanguageModel(CFG)
    state = model.encoder_state()
    assert state and all(k.startswith(("tokens.", "encoder.")) for k in state)
    path = save_torch(encoder_weights.bundle(state, CFG, VOCAB), tmp_path / "enc.pt")
    loaded = encoder_weights.load_state(path, CFG, VOCAB)
    clf = TransformerClassifier(CFG)
    missing, unexpected = clf.load_state_dict(loaded, strict=False)
    assert not unexpected and not any(k.startswith(("tokens.embed", "encoder.")) for k in missing)
    assert torch.equal(clf.encoder.layers[0].linear1.weight, model.encoder.layers[0].linear1.weight)


@pytest.mark.parametrize("change, message", [
    ({"vocab": Vocab(["<pad>", "<unk>", *[f"v{i}" for i in range(2098)]])}, "another vocabulary"),
    ({"cfg": TransformerConfig(**{**CFG.to_dict(), "d_model": 8, "n_heads": 2})}, "other model settings"),
])
def test_mismatched_weights_are_refused(tmp_path, change, message):
    path = save_torch(encoder_weights.bundle(MaskedLanguageModel(CFG).encoder_state(), CFG, VOCAB), tmp_path / "e.pt")
    with pytest.raises(WeightsError, match=message):
        encoder_weights.load_state(path, change.get("cfg", CFG), change.get("vocab", VOCAB))


def test_nan_weights_and_other_files_are_refused(tmp_path):
    state = MaskedLanguageModel(CFG).encoder_state()
    state["encoder.layers.0.linear1.weight"][0, 0] = float("nan")
    path = save_torch(encoder_weights.bundle(state, CFG, VOCAB), tmp_path / "nan.pt")
    with pytest.raises(WeightsError, match="NaN"):
        encoder_weights.load_state(path, CFG, VOCAB)
    other = save_torch({"state_dict": {}, "config": {}, "vocab": [], "text_config": {}}, tmp_path / "clf.pt")
    with pytest.raises(WeightsError, match="pretrained Part IV encoder"):
        encoder_weights.load_state(other, CFG, VOCAB)
    with pytest.raises(ValueError, match="outside"):
        encoder_weights.bundle({"head.weight": torch.zeros(1)}, CFG, VOCAB)
