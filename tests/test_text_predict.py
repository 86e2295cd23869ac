from __future__ import annotations

import numpy as np
import pytest
import torch

from a2.io import save_torch
from a2.text import predict
from a2.text.models import TransformerClassifier, TransformerConfig
from a2.text.preprocess import TextConfig, Vocab
from tests.conftest import needs_dataset

pytestmark = needs_dataset("nltk_data")


@pytest.fixture()
def weights(tmp_path):
    torch.manual_seed(0)
    vocab = Vocab.build([["good", "film", "bad", "plot", "great"]], min_freq=1)
    model = TransformerClassifier(TransformerConfig(vocab_size=len(vocab), d_model=16, n_heads=2, d_ff=32,
                                                    max_len=12))
    return save_torch(predict.bundle(model, vocab, TextConfig(), 0.25), tmp_path / "w.pt")


def test_bundle_loads_weights_only(weights):
    data = torch.load(weights, weights_only=True)
    assert set(data) >= {"state_dict", "config", "vocab", "text_config"}


def test_predict_normal_long_and_foreign(weights):
    p = predict.Predictor.load(weights)
    out = p("A good film with a great plot.")
    assert out["label"] in ("neg", "pos") and 0.5 <= out["probability"] <= 1 and out["notes"] == []
    long = p("good film " * 500)
    assert any("long review" in n for n in long["notes"])
    foreign = p("Dieser Streifen war wirklich wunderschön und großartig")
    assert any("unknown" in n for n in foreign["notes"])
    cjk = p("这部电影非常好")
    assert cjk["tokens"] == 0 and cjk["notes"]


@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_empty_is_an_error(weights, text):
    with pytest.raises(ValueError, match="empty"):
        predict.Predictor.load(weights)(text)


def test_cli(weights, capsys):
    assert predict.main(["A", "great", "film", "--weights", str(weights)]) == 0
    assert "probability" in capsys.readouterr().out
    assert predict.main(["  ", "--weights", str(weights)]) == 2
    assert "empty" in capsys.readouterr().err
    assert predict.main(["good", "--weights", "/nonexistent.pt"]) == 2


def test_predict_proba_keeps_order():
    torch.manual_seed(0)
    m = TransformerClassifier(TransformerConfig(vocab_size=20, d_model=8, n_heads=2, d_ff=16, max_len=10)).eval()
    seqs = [np.array([2, 3, 4, 5, 6]), np.array([7]), np.array([8, 9])]
    together = predict.predict_proba(m, seqs, batch_size=2)
    alone = np.concatenate([predict.predict_proba(m, [s]) for s in seqs])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert predict.log_loss(np.array([[0.5, 0.5]]), [1]) == pytest.approx(np.log(2))
