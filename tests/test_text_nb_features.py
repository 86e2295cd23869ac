import numpy as np

from a2.text import nb_features as nb


def test_bigram_keys_match_the_model_hash():
    import torch

    from a2.text.models import bigram_ids

    ids = np.array([5, 9, 3, 7])
    torch_keys = bigram_ids(torch.from_numpy(ids)[None], 101)[0].numpy()
    assert nb.bigram_keys(ids, 101).tolist() == torch_keys.tolist()


def test_ratios_point_the_right_way_and_ignore_padding():
    docs = [np.array([2, 3]), np.array([2, 3]), np.array([4, 3]), np.array([4])]
    r = nb.fit_ratios(docs, [1, 1, 0, 0], vocab_size=5, bigram_buckets=11)
    assert r.unigram[2] > 0 > r.unigram[4] and r.unigram[0] == 0.0
    assert abs(r.unigram[3]) < r.unigram[2]  # in both classes: weaker evidence
    f = r.features(np.array([2, 3]))
    assert f.shape == (2, 2) and f.dtype == np.float32 and f[0, 1] == 0.0


def test_cross_fitting_never_uses_a_reviews_own_label():
    # every review has a unique token that only it contains: in-sample ratios would reveal its label,
    # out-of-fold ratios know nothing about it: every unseen token gets the same fold-level constant
    docs = [np.array([10 + i]) for i in range(20)]
    labels = np.array([i % 2 for i in range(20)])
    train_f, other, full = nb.cross_fitted_features(docs, labels, {"val": docs[:2]}, vocab_size=40, folds=4,
                                                    bigram_buckets=13)
    assert len({round(float(f[0, 0]), 9) for f in train_f}) <= 4  # one value per fold, whatever the label
    # the averaged fold ratios do know them (3 of 4 folds saw each review)
    assert other["val"][1][0, 0] > 0 > other["val"][0][0, 0]
    assert full.unigram.shape == (40,)
