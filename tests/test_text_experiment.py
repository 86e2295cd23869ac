from dataclasses import replace

import numpy as np
import pytest
import torch

from a2.text import experiment
from a2.text.loop import fgm_perturbation, train
from a2.text.models import TransformerClassifier, TransformerConfig
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


def _tiny_model(**kw):
    torch.manual_seed(0)
    return TransformerClassifier(TransformerConfig(vocab_size=20, d_model=16, n_heads=2, d_ff=32, max_len=16,
                                                   dropout=0.0, emb_dropout=0.0, mean_pool=True, **kw))


def test_train_learns_and_keeps_the_epoch_with_the_lowest_validation_cross_entropy():
    x, y = _toy_data()
    data = experiment.Data(x[:80], y[:80], x[80:], y[80:])
    model = _tiny_model()
    hist = train(model, data, TrainConfig(epochs=6, lr=1e-2, progress=False, monitor="val_ce", ema=0.9,
                                          arithmetic="fp32"), batch_size=16, seed=0)
    assert {"train_loss", "train_accuracy", "val_ce", "val_accuracy", "val_roc_auc", "epoch_s"} <= set(hist.keys())
    assert hist.best()["val_ce"] == min(hist["val_ce"]) and hist["train_loss"][-1] < hist["train_loss"][0]
    p = predict_proba(model, data.x_val)
    assert p.shape == (40,) and experiment.split_scores(p, data.y_val)["accuracy"] > 0.9
    # the model ends with the kept epoch's weights: its validation score is the kept record's
    assert experiment.evaluate(model, data.x_val, data.y_val)["ce"] == pytest.approx(hist.best()["val_ce"], rel=1e-4)


def test_train_with_loss_scaled_fp16_reduces_the_loss():
    x, y = _toy_data(60)
    data = experiment.Data(x[:40], y[:40], x[40:], y[40:])
    model = _tiny_model()
    hist = train(model, data, TrainConfig(epochs=3, lr=1e-2, progress=False, monitor="val_ce", arithmetic="fp16"),
                 batch_size=20)
    assert hist["train_loss"][-1] < hist["train_loss"][0]
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_train_stops_early_when_validation_stalls():
    x, y = _toy_data()
    data = experiment.Data(x[:80], y[:80], x[80:], y[80:])
    hist = train(_tiny_model(), data, TrainConfig(epochs=30, lr=3e-2, progress=False, monitor="val_ce", patience=1,
                                                  arithmetic="fp32"), batch_size=16)
    assert hist.stopped_early and len(hist) < 30 and hist.best_epoch == len(hist) - 1


def test_subset_drops_label_features_and_nb_features_refit_on_the_subset():
    x, y = _toy_data()
    data = experiment.Data(x[:80], y[:80], x[80:], y[80:], [np.zeros((len(s), 2)) for s in x[:80]],
                           [np.zeros((len(s), 2)) for s in x[80:]])
    small = data.subset(20)
    assert len(small.x_train) == 20 and small.f_train is None and small.f_val is None
    assert data.subset(1000).f_train is None and data.train_tokens() == sum(len(s) for s in x[:80])
    refit, ratios = experiment.with_nb_features(small, vocab_size=20)
    assert len(refit.f_train) == 20 and len(refit.f_val) == 40 and ratios.unigram.shape == (20,)
    # the ratios come from the subset's labels only: flipping a review outside the subset changes nothing
    inside = np.random.default_rng(0).choice(80, 20, replace=False)  # the rows subset(20) keeps
    other = replace(data, y_train=np.where(np.isin(np.arange(80), inside), data.y_train, 1 - data.y_train))
    again, _ = experiment.with_nb_features(other.subset(20), vocab_size=20)
    assert all(np.array_equal(a, b) for a, b in zip(again.f_val, refit.f_val, strict=True))
    model = _tiny_model(nb_channels=2)
    hist = train(model, refit, TrainConfig(epochs=1, progress=False, monitor="val_ce", arithmetic="fp32"),
                 batch_size=16)
    assert len(hist) == 1


def test_ema_decay_spans_the_requested_epochs():
    decay = experiment.ema_decay(1.5, n_train=6400, batch_size=64)  # 100 steps per epoch
    assert 1 / (1 - decay) == pytest.approx(150)
    assert 0 < experiment.ema_decay(1.0, n_train=3, batch_size=64) < 1


def test_fgm_perturbation_has_the_relative_size_and_follows_the_gradient_per_review():
    embedded, grad = torch.randn(3, 5, 4), torch.randn(3, 5, 4)
    shift = fgm_perturbation(embedded, grad, 0.01)
    for e, g, s in zip(embedded, grad, shift, strict=True):
        assert float(s.norm()) == pytest.approx(0.01 * float(e.norm()), rel=1e-5)
        cosine = torch.nn.functional.cosine_similarity(s.flatten(), g.flatten(), dim=0)
        assert float(cosine) == pytest.approx(1.0, abs=1e-5)
    assert torch.equal(fgm_perturbation(embedded, torch.zeros_like(grad), 0.01), torch.zeros_like(grad))


def test_adversarial_training_learns_and_costs_a_second_pass():
    x, y = _toy_data()
    data = experiment.Data(x[:80], y[:80], x[80:], y[80:])
    model, calls = _tiny_model(), []
    model.encoder.register_forward_hook(lambda *_: calls.append(1))
    hist = train(model, data, TrainConfig(epochs=4, lr=1e-2, progress=False, monitor="val_ce", arithmetic="fp32"),
                 batch_size=16, adversarial=0.01, seed=0)
    assert hist["train_loss"][-1] < hist["train_loss"][0]
    assert experiment.split_scores(predict_proba(model, data.x_val), data.y_val)["accuracy"] > 0.9
    assert len(calls) >= 2 * 4 * 5  # 4 epochs of 5 batches (80 reviews by 16): every step ran the encoder twice
