"""The subword vocabulary: learned on training tokens only, pieces usable by the word pipeline."""

import pytest

from a2.text import preprocess, subwords

CORPUS = [["unwatchable", "movie", "watching", "watched", "rewatch"]] * 4 + [["great", "movie"], []]


@pytest.fixture(scope="module")
def bpe():
    return subwords.train_bpe(CORPUS, vocab_size=60, min_freq=1)


def test_specials_take_the_ids_the_word_vocabulary_uses(bpe):
    assert bpe.token_to_id(preprocess.PAD) == preprocess.PAD_ID
    assert bpe.token_to_id(preprocess.UNK) == preprocess.UNK_ID
    assert bpe.get_vocab_size() <= 60


def test_an_unseen_word_is_cut_into_known_pieces_instead_of_unk(bpe):
    (pieces,) = subwords.split_words(bpe, [["unwatched"]])
    assert len(pieces) > 1 and preprocess.UNK not in pieces
    assert "".join(p.removeprefix(subwords.CONTINUATION) for p in pieces) == "unwatched"
    assert all(p.startswith(subwords.CONTINUATION) for p in pieces[1:])


def test_empty_reviews_stay_empty_and_order_is_kept(bpe):
    out = subwords.split_words(bpe, [[], ["movie"], [], ["great"]])
    assert out[0] == [] and out[2] == []
    assert "".join(out[1]) == "movie" and "".join(out[3]) == "great"


def test_pieces_feed_the_word_pipeline(bpe):
    pieces = subwords.split_words(bpe, CORPUS)
    vocab = preprocess.Vocab.build(pieces, min_freq=1)
    ids = preprocess.encode(pieces, vocab, max_len=8)
    assert len(ids) == len(CORPUS) and all(0 < len(x) <= 8 for x in ids)


def test_a_vocabulary_too_small_is_refused():
    with pytest.raises(ValueError, match="vocab_size"):
        subwords.train_bpe(CORPUS, vocab_size=2)
