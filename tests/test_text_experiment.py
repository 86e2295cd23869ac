import numpy as np
import pytest
import torch

from a2.text import experiment
from a2.text.models import TransformerConfig
from a2.text.predict import predict_proba
from a2.training import TrainConfig


def test_calibrate_threshold_maximises_accuracy_and_prefers_half():
    p = np.array([0.1, 0.2, 0.3, 0.35, 0.6, 0.7])
    y = np.array([0, 0, 1, 1, 1, 1])
    t = experiment.calibrate_threshold(p, y)
    assert 0.2 < t < 0.3 and ((p > t) == y).all()
    perfect = np.array([0.1, 0.9])
    assert experiment.calibrate_threshold(perfect, np.array([0, 1])) == 0.5  # already right at 0.5
    with pytest.raises(ValueError):
        experiment.calibrate_threshold(np.array([0.5]), np.array([0, 1]))


def test_split_scores_and_cross_entropy():
    s = experiment.split_scores(np.array([0.9, 0.2, 0.6]), np.array([1, 0, 0]))
    assert s["accuracy"] == pytest.approx(2 / 3) and s["roc_auc"] == 1.0
    assert experiment.cross_entropy(np.array([0.5, 0.5]), np.array([0, 1])) == pytest.approx(np.log(2))


def _toy_data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    seqs, labels = [], []
    for i in range(n):
        y = i % 2
        seqs.append(rng.integers(4, 20, size=rng.integers(3, 9)).astype(np.int64))
        seqs[-1][0] = 2 + y  # the first token gives the label away
        labels.append(y)
    return seqs, np.array(labels)


def test_train_classifier_learns_and_selects_on_validation_cross_entropy():
    x, y = _toy_data()
    data = experiment.Data(x[:80], y[:80], x[80:], y[80:])
    cfg = TransformerConfig(vocab_size=20, d_model=16, n_heads=2, d_ff=32, max_len=16, dropout=0.0, emb_dropout=0.0,
                            mean_pool=True)
    model, hist = experiment.train_classifier(data, cfg, TrainConfig(epochs=6, lr=1e-2, progress=False,
                                                                     monitor="val_ce", mixed_precision=False),
                                              embedding=None, batch_size=16, seed=0)
    assert {"train_loss", "val_ce", "val_accuracy", "val_roc_auc"} <= set(hist.keys())
    assert hist.best()["val_ce"] == min(hist["val_ce"]) and hist.best()["val_accuracy"] > 0.9
    p = predict_proba(model, data.x_val)
    assert p.shape == (40,) and experiment.split_scores(p, data.y_val)["accuracy"] > 0.9
    assert data.subset(10).x_train.__len__() == 10 and data.train_tokens() == sum(len(s) for s in x[:80])


def test_tfidf_baseline_runs():
    texts = ["good great fine"] * 10 + ["bad awful poor"] * 10
    y = np.array([1] * 10 + [0] * 10)
    out = experiment.tfidf_baseline(texts, y, texts, y, C=1.0)
    assert out["test_accuracy"] == 1.0 and out["score"].shape == (20,)


def test_time_training_steps_reports_both_modes(monkeypatch):
    monkeypatch.setattr(torch, "compile", lambda model: model)  # the timing logic, not the compiler
    x, y = _toy_data(40)
    data = experiment.Data(x, y, x, y)
    cfg = TransformerConfig(vocab_size=20, d_model=16, n_heads=2, d_ff=32, max_len=16)
    out = experiment.time_training_steps(data, cfg, TrainConfig(), embedding=None, steps=3, batch_size=8)
    assert set(out) == {"eager", "torch.compile"} and out["eager"]["steps"] == 3
    assert out["eager"]["total_s"] >= out["eager"]["first_step_s"] > 0


def test_ema_decay_spans_the_requested_epochs():
    decay = experiment.ema_decay(1.5, n_train=6400, batch_size=64)  # 100 steps per epoch
    assert 1 / (1 - decay) == pytest.approx(150)
    assert 0 < experiment.ema_decay(1.0, n_train=3, batch_size=64) < 1
