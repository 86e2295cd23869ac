import numpy as np
import pytest
from scipy import sparse

from a2.text import baselines, significance


def _corpus(n=60, seed=0):
    """Reviews whose label is carried by 'good'/'bad' and by the bigram 'not good' (which is negative)."""
    rng = np.random.default_rng(seed)
    filler = ["film", "plot", "actor", "scene", "story", "music", "time", "end"]
    texts, labels = [], []
    for i in range(n):
        y = i % 2
        words = list(rng.choice(filler, 6))
        cue = ["good", "great"] if y else (["bad"] if i % 4 == 0 else ["not", "good"])
        words[2:2] = cue
        texts.append(" ".join(words))
        labels.append(y)
    return texts, np.array(labels)


@pytest.mark.parametrize("fit", [baselines.tfidf_lr, baselines.nbsvm])
def test_baselines_choose_C_on_validation_and_score_test_once(fit):
    tr, ytr = _corpus(80, 0)
    va, yva = _corpus(40, 1)
    te, yte = _corpus(40, 2)
    r = fit(tr, ytr, va, yva, te, yte, grid=(0.1, 1.0, 10.0))
    assert r.C in r.C_grid and set(r.val_accuracy_by_C) == {"0.1", "1", "10"}
    assert r.val_accuracy == max(r.val_accuracy_by_C.values())
    assert r.test_accuracy == 1.0 and r.roc_auc == 1.0  # 'not good' must be read as a bigram
    assert r.test_score.shape == (40,) and "test_score" not in r.summary()


def test_c_choice_ignores_the_test_labels():
    tr, ytr = _corpus(80, 0)
    va, yva = _corpus(40, 1)
    te, yte = _corpus(40, 2)
    a = baselines.tfidf_lr(tr, ytr, va, yva, te, yte, grid=(0.1, 1.0, 10.0))
    b = baselines.tfidf_lr(tr, ytr, va, yva, te, 1 - yte, grid=(0.1, 1.0, 10.0))
    assert (a.C, a.threshold) == (b.C, b.threshold) and b.test_accuracy == 1 - a.test_accuracy


def test_nb_ratios_follow_wang_and_manning():
    x = sparse.csr_matrix(np.array([[1, 0], [1, 1], [0, 1]], dtype=float))
    r = baselines.nb_ratios(x, np.array([1, 1, 0]), alpha=1.0)
    p, q = np.array([3, 2]), np.array([1, 2])
    assert r == pytest.approx(np.log(p / p.sum()) - np.log(q / q.sum()))
    with pytest.raises(ValueError, match="both classes"):
        baselines.nb_ratios(x, np.array([1, 1, 1]))


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="one label per text"):
        baselines.tfidf_lr(["a b"], [1, 0], ["a"], [1], ["a"], [1])
    tr, ytr = _corpus(20)
    with pytest.raises(ValueError, match="grid is empty"):
        baselines.nbsvm(tr, ytr, tr, ytr, tr, ytr, grid=())


def test_mcnemar_and_bootstrap_on_known_counts():
    y = np.ones(100, dtype=int)
    a = np.ones(100, dtype=int)
    b = a.copy()
    b[:20] = 0  # B is wrong on 20 reviews A gets right, never the other way round
    mc = significance.mcnemar_exact(a, b, y)
    assert (mc["only_a_right"], mc["only_b_right"]) == (20, 0)
    assert mc["p_value"] == pytest.approx(2 * 0.5 ** 20) and mc["accuracy_diff"] == pytest.approx(0.2)
    boot = significance.paired_bootstrap(a, b, y, n_boot=500)
    assert 0 < boot["ci95"][0] < 0.2 < boot["ci95"][1]
    row = significance.compare("A", a, "B", b, y, n_boot=500)
    assert row["verdict"] == "above" and row["a"] == "A" and "p_value" in row
    assert significance.compare("A", a, "A again", a, y, n_boot=200)["verdict"] == "tie"
    assert significance.mcnemar_exact(a, a, y)["p_value"] == 1.0
    with pytest.raises(ValueError, match="one length"):
        significance.mcnemar_exact(a, b[:5], y)


def test_ensemble_weight_and_threshold_come_from_validation():
    rng = np.random.default_rng(0)
    y_val, y_test = rng.integers(0, 2, 200), rng.integers(0, 2, 200)
    good = {"val": (2 * y_val - 1) + rng.normal(0, 0.5, 200), "test": (2 * y_test - 1) + rng.normal(0, 0.5, 200)}
    noise = {"val": rng.normal(0, 1, 200), "test": rng.normal(0, 1, 200)}
    out = baselines.ensemble({"good": good["val"], "noise": noise["val"]},
                             {"good": good["test"], "noise": noise["test"]}, y_val)
    assert out["weights"]["good"] >= 0.8 and out["weights"]["good"] + out["weights"]["noise"] == pytest.approx(1)
    assert out["val_accuracy"] == max(out["val_accuracy_by_weight"].values())
    assert (out["test_pred"] == y_test).mean() > 0.9
    with pytest.raises(ValueError, match="exactly two"):
        baselines.ensemble({"a": good["val"]}, {"a": good["test"]}, y_val)


def test_logit_is_finite_at_the_ends():
    assert np.isfinite(baselines.logit(np.array([0.0, 0.5, 1.0]))).all() and baselines.logit(np.array([0.5]))[0] == 0


def test_accuracy_interval_brackets_the_accuracy():
    y = np.ones(400, dtype=int)
    pred = np.where(np.arange(400) < 300, 1, 0)  # 75 % right
    lo, hi = significance.accuracy_interval(pred, y, n_boot=500)
    assert lo < 0.75 < hi and hi - lo < 0.12
