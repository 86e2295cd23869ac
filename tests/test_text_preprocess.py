from __future__ import annotations

import numpy as np
import pytest
import torch

from a2.text import preprocess as pp
from tests.conftest import needs_dataset


def test_clean_strips_html_punctuation_and_case():
    assert pp.clean("Great<br /><br />MOVIE!!! Don't miss &amp; it.").split() == ["great", "movie", "don't", "miss",
                                                                                 "it"]


@needs_dataset("nltk_data")
def test_stop_words_keep_negations():
    full, kept = pp.stop_words(False), pp.stop_words(True)
    assert "the" in kept and "not" not in kept and "don't" not in kept and "didn" not in kept
    assert {"not", "no", "nor", "don't"} <= full - kept


@needs_dataset("nltk_data")
@pytest.mark.parametrize("name", pp.TOKENIZERS)
def test_tokenize_every_tokenizer(name):
    tokens = pp.tokenize("This is <b>not</b> a good film, really!", pp.TextConfig(tokenizer=name))
    assert "not" in tokens and "good" in tokens and "film" in tokens
    assert "this" not in tokens and "," not in tokens


def test_unknown_tokenizer():
    with pytest.raises(ValueError, match="unknown tokenizer"):
        pp._tokenizer("nope")


@needs_dataset("nltk_data")
def test_tokenize_corpus_cache_is_json_and_survives_corruption(tmp_path):
    a = pp.tokenize_corpus(["Good film.", "Bad film."], cache_dir=tmp_path, progress=False)
    (cache,) = tmp_path.glob("tokens_*.json.gz")
    assert pp.tokenize_corpus(["Good film.", "Bad film."], cache_dir=tmp_path, progress=False) == a
    cache.write_bytes(b"not gzip at all")  # a damaged cache is rebuilt, never trusted
    assert pp.tokenize_corpus(["Good film.", "Bad film."], cache_dir=tmp_path, progress=False) == a
    other = pp.tokenize_corpus(["Good film.", "Bad film."], pp.TextConfig(keep_contrast=True), cache_dir=tmp_path,
                               progress=False)
    assert other == a and len(list(tmp_path.glob("tokens_*.json.gz"))) == 2  # settings are part of the key


@needs_dataset("nltk_data")
def test_contrast_and_intensity_words_can_be_kept():
    assert {"but", "very", "too", "most"} <= pp.stop_words(True, False)
    kept = pp.stop_words(True, True)
    assert not {"but", "very", "too", "most", "not"} & kept and "the" in kept
    assert pp.tokenize("Good but too long", pp.TextConfig(keep_contrast=True)) == ["good", "but", "too", "long"]


def test_vocab_build_order_and_cap():
    v = pp.Vocab.build([["a", "b", "a"], ["c", "a", "b"], ["d"]], min_freq=2, max_size=3)
    assert v.itos == [pp.PAD, pp.UNK, "a"]
    assert v.ids(["a", "zzz"]) == [2, pp.UNK_ID]
    assert v.oov_rate(["a", "zzz"]) == 0.5 and v.oov_rate([]) == 1.0
    with pytest.raises(ValueError):
        pp.Vocab(["x", "y"])


def test_truncate_and_encode():
    assert pp.truncate(list(range(10)), 4, head_frac=0.25) == [0, 7, 8, 9]
    assert pp.truncate([1, 2], 4) == [1, 2]
    v = pp.Vocab.build([["a"]], min_freq=1)
    enc = pp.encode([["a", "a"], []], v, 8)
    assert enc[0].tolist() == [2, 2] and enc[1].tolist() == [pp.UNK_ID]


def test_bucket_batches_cover_everything_once():
    seqs = [np.arange(1, n + 1) for n in [5, 1, 3, 8, 2, 7, 4]]
    loader = pp.BucketBatches(seqs, list(range(7)), batch_size=3, shuffle=True, pool=2, seed=1)
    seen = []
    for ids, y in loader:
        assert ids.shape[1] == max(int((row != pp.PAD_ID).sum()) for row in ids)
        seen += y.tolist()
    assert sorted(seen) == list(range(7)) and len(loader) == 3
    ev = pp.BucketBatches(seqs, list(range(7)), batch_size=3)
    assert sorted(ev.order().tolist()) == list(range(7))
    with pytest.raises(ValueError):
        pp.BucketBatches(seqs, [0], 2)


def test_bucket_batches_carry_per_token_features_aligned_with_ids():
    seqs = [np.arange(2, n + 2) for n in [3, 1, 4]]
    feats = [np.stack([s, -s], axis=1).astype(np.float32) for s in seqs]
    for ids, f, _ in pp.BucketBatches(seqs, [0, 1, 0], batch_size=2, features=feats):
        assert f.shape == (*ids.shape, 2)
        real = ids != pp.PAD_ID
        assert torch.equal(f[..., 0][real], ids[real].float()) and torch.all(f[~real] == 0)
    with pytest.raises(ValueError, match="features"):
        pp.BucketBatches(seqs, [0, 1, 0], features=feats[:2])


def test_word2vec_matrix_aligned_with_vocab():
    corpus = [["good", "great", "fine"], ["bad", "awful", "poor"]] * 20
    v = pp.Vocab.build(corpus, min_freq=1)
    w, cover = pp.train_word2vec(corpus, v, pp.Word2VecConfig(dim=8, workers=1, epochs=1))
    assert w.shape == (len(v), 8) and cover == 1.0
    assert torch.all(w[pp.PAD_ID] == 0)


def test_unsafe_for_nltk_detects_group_writable(tmp_path):
    f = tmp_path / "corpora" / "stopwords" / "english"
    f.parent.mkdir(parents=True)
    f.write_text("the\n")
    f.chmod(0o644)
    assert not pp._unsafe_for_nltk(tmp_path)
    f.chmod(0o664)
    assert pp._unsafe_for_nltk(tmp_path)
