from __future__ import annotations

import pytest
import torch

from a2.params import count_params
from a2.text.models import TransformerClassifier, TransformerConfig, sinusoidal_positions
from a2.text.preprocess import PAD_ID


def tiny(**kw) -> TransformerClassifier:
    torch.manual_seed(0)
    return TransformerClassifier(TransformerConfig(vocab_size=50, d_model=16, n_heads=2, d_ff=32, n_queries=2,
                                                   max_len=20, dropout=0.0, emb_dropout=0.0, **kw)).eval()


def test_shapes_and_params():
    m = tiny()
    assert m(torch.randint(2, 50, (3, 7))).shape == (3, 2)
    assert count_params(m) > 0
    assert sinusoidal_positions(10, 16).shape == (10, 16)


def test_padding_does_not_change_prediction():
    m = tiny()
    ids = torch.randint(2, 50, (1, 6))
    padded = torch.cat([ids, torch.full((1, 5), PAD_ID)], dim=1)
    torch.testing.assert_close(m(ids), m(padded), atol=1e-5, rtol=1e-5)


def test_bad_inputs():
    m = tiny()
    with pytest.raises(ValueError, match="max_len"):
        m(torch.ones(1, 21, dtype=torch.long))
    with pytest.raises(ValueError, match="batch"):
        m(torch.ones(5, dtype=torch.long))
    with pytest.raises(ValueError, match="divisible"):
        TransformerClassifier(TransformerConfig(d_model=10, n_heads=3))
    with pytest.raises(ValueError, match="shape"):
        TransformerClassifier(TransformerConfig(vocab_size=50, d_model=16, n_heads=2), torch.zeros(3, 16))


def test_embedding_init_is_copied():
    w = torch.randn(50, 16)
    m = TransformerClassifier(TransformerConfig(vocab_size=50, d_model=16, n_heads=2, d_ff=32), w)
    torch.testing.assert_close(m.tokens.embed.weight.detach(), w)


def test_attention_dropout_is_separate_and_reaches_every_attention():
    m = TransformerClassifier(TransformerConfig(vocab_size=50, d_model=16, n_heads=2, d_ff=32, n_encoder_layers=2,
                                                n_decoder_layers=2, dropout=0.3, attn_dropout=0.1))
    attentions = [mod for mod in m.modules() if isinstance(mod, torch.nn.MultiheadAttention)]
    assert len(attentions) == 2 + 2 * 2  # one per encoder layer, two per decoder layer
    assert all(a.dropout == 0.1 for a in attentions)
    assert m.encoder.layers[0].dropout1.p == 0.3  # residual dropout unchanged
    assert TransformerConfig().attn_dropout == 0.0


def test_bigram_ids_hash_pairs_and_skip_padding():
    from a2.text.models import bigram_ids

    ids = torch.tensor([[5, 6, 7, PAD_ID], [5, 6, PAD_ID, PAD_ID]])
    b = bigram_ids(ids, 97)
    assert b[0, 0] == 0 and b[0, 3] == 0 and b[1, 2] == 0  # no previous token / padding
    assert b[0, 1] == b[1, 1] and b[0, 1] != b[0, 2] and (b[:, 1:3][ids[:, 1:3] != PAD_ID] > 0).all()


def test_optional_parts_keep_padding_invariance_and_shapes():
    m = tiny(bigram_buckets=31, mean_pool=True, nb_channels=2, n_encoder_layers=2, n_decoder_layers=2)
    ids = torch.randint(2, 50, (1, 6))
    nb = torch.randn(1, 6, 2)
    padded = torch.cat([ids, torch.full((1, 3), PAD_ID)], dim=1)
    nb_padded = torch.cat([nb, torch.zeros(1, 3, 2)], dim=1)
    torch.testing.assert_close(m(ids, nb), m(padded, nb_padded), atol=1e-5, rtol=1e-5)
    assert m.head.in_features == 2 * 16 and len(m.decoder.layers) == 2 and m.tokens.nb_proj is not None
    with pytest.raises(ValueError, match="naive-Bayes"):
        m(ids)
    with pytest.raises(ValueError, match="nb must be"):
        m(ids, torch.randn(1, 5, 2))


def test_word_dropout_only_while_training():
    m = tiny(word_dropout=0.5)
    ids = torch.randint(2, 50, (4, 12))
    torch.testing.assert_close(m.eval()(ids), m(ids))  # deterministic in eval mode
    m.train()
    torch.manual_seed(0)
    a = m(ids)
    torch.manual_seed(1)
    assert not torch.allclose(a, m(ids))


def test_forward_is_classify_of_the_embedded_review():
    torch.manual_seed(0)
    model = TransformerClassifier(TransformerConfig(vocab_size=30, d_model=16, n_heads=2, d_ff=32, max_len=12,
                                                    bigram_buckets=11, mean_pool=True)).eval()
    ids = torch.tensor([[5, 6, 7, 0], [8, 9, 0, 0]])
    with torch.no_grad():
        assert torch.equal(model(ids), model.classify(ids, model.tokens(ids)))
