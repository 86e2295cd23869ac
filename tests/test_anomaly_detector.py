"""The detector's three stages on one series: causal end to end, scores in [0, 1], one spike per excursion."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from a2.anomaly import corpus, detector
from a2.anomaly.detector_config import DetectorConfig

CFG = DetectorConfig(epochs=2, window=8, long=100)


def series(n: int = 400, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.sin(np.arange(n) * 2 * np.pi / 24) + 0.1 * rng.standard_normal(n)
    x[300:305] += 4.0  # an anomaly after the probation (P = 60)
    return x


MECHANISMS = {
    "dense": {}, "no spatial": {"spatial_tolerance": None}, "conv1d": {"model": "conv1d"}, "lstm": {"model": "lstm"},
    "first difference": {"error_source": "first_difference"}, "holdout": {"holdout": True},
    "refit": {"refit_every": 50, "refit_buffer": 80, "refit_epochs": 1},
    "coarse": {"coarse": 2, "window": 4}, "gates": {"magnitude_gate": 0.05, "seasonal_gate": 24, "gate_rows": 48},
    "bounded": {"bounded_output": 0.1}, "masked": {"masked": True},
    "masked refit": {"masked": True, "refit_every": 50, "refit_buffer": 80, "refit_epochs": 1},
    "difference ensemble": {"difference_ensemble": True, "magnitude_gate": 0.1, "level": 0.05},
    "ensemble": {"members": 2, "bounded_output": 0.1},
}


def test_bounded_output_caps_reconstructions_at_the_widened_probation_range():
    x = series()
    _, model = detector.reconstruction_errors(x, replace(CFG, bounded_output=0.1), probation=60)
    low, high = model.cfg.out_low[0], model.cfg.out_high[0]
    assert low < high
    far = torch.full((1, CFG.window, 1), 1e3)
    assert float(model(far).detach().max()) <= high


def test_ensemble_error_is_the_mean_of_its_members_each_a_single_autoencoder_with_its_own_seed():
    cfg = replace(CFG, members=3, seed=1)
    assert detector.member_seeds(cfg) == [3, 4, 5] and detector.member_seeds(replace(cfg, seed=0)) == [0, 1, 2]
    assert detector.member_seeds(replace(CFG, seed=7)) == [7]  # a single autoencoder keeps its seed
    x = series()
    members, _ = detector.member_errors(x, cfg, probation=60)
    assert members.shape == (3, len(x))
    for row, seed in zip(members, [3, 4, 5], strict=True):
        alone, _ = detector.reconstruction_errors(x, replace(CFG, seed=seed), probation=60)
        np.testing.assert_array_equal(row, alone)
    assert not np.array_equal(members[0], members[1], equal_nan=True)
    mean, _ = detector.reconstruction_errors(x, cfg, probation=60)
    np.testing.assert_allclose(mean, members.mean(axis=0))
    fd = [detector.reconstruction_errors(x, replace(c, error_source="first_difference"), 60)[0] for c in (cfg, CFG)]
    np.testing.assert_array_equal(*fd)  # the first difference has no members to average
    with pytest.raises(ValueError, match="members=0"):
        replace(CFG, members=0)


def test_masked_error_of_row_t_sees_x_t_only_as_the_target():
    cfg = replace(CFG, masked=True)
    x = series()
    errors, model = detector.reconstruction_errors(x, cfg, probation=60)
    w = torch.from_numpy(detector.sliding_windows(detector._standardise(x, 60), cfg.window).copy()).unsqueeze(-1)
    moved = w.clone()
    moved[:, -1] += 3.0  # change the newest row of every window
    with torch.no_grad():
        pred, pred_moved = model(detector._inputs(w, cfg)), model(detector._inputs(moved, cfg))
    torch.testing.assert_close(pred, pred_moved, rtol=0, atol=0)  # the prediction of x_t ignores x_t
    np.testing.assert_allclose(errors[cfg.window - 1 :], (pred - w)[:, -1, 0].pow(2).numpy(), rtol=1e-5, atol=1e-7)
    assert not torch.equal(pred, model(detector._inputs(moved, replace(cfg, masked=False))).detach())


@pytest.mark.parametrize("variant", MECHANISMS)
def test_causal_every_score_up_to_t_ignores_later_rows(variant):
    cfg = replace(CFG, **MECHANISMS[variant])
    x = series()
    *_, base = detector.detect_series(x, cfg)
    assert base.shape == x.shape and ((base >= 0) & (base <= 1)).all()
    assert (base[: corpus.probationary_length(len(x))] == 0).all()
    for t in (40, 298):  # inside the probation, after it, just before the anomaly
        y = x.copy()
        y[t + 1 :] = np.random.default_rng(t).normal(5, 3, len(x) - t - 1)
        *_, changed = detector.detect_series(y, cfg)
        np.testing.assert_array_equal(changed[: t + 1], base[: t + 1])


def test_detector_finds_the_spike_and_emits_sparse_alerts():
    errors, _, calibrated, out = detector.detect_series(series(), replace(CFG, epochs=20, spatial_tolerance=None))
    assert np.isnan(errors[: CFG.window - 1]).all() and not np.isnan(errors[CFG.window - 1 :]).any()
    assert calibrated[300:306].max() > calibrated[60:295].max()
    assert 300 <= np.flatnonzero(out > 0)[np.argmax(out[out > 0])] <= 305
    assert (out > 0).sum() <= 5


def test_calibration_and_suppression_are_causal_and_bounded():
    rng = np.random.default_rng(1)
    e = rng.gamma(2.0, 1.0, 1000)
    e[700] = 50.0
    for cal, ref in (("likelihood", "mean"), ("probation", "mean"), ("both", "mean"), ("both", "max")):
        cfg = replace(CFG, calibration=cal, probation_ref=ref)
        s = detector.calibrate(e, 150, cfg)
        assert ((s >= 0) & (s <= 1)).all() and (s[:150] == 0).all() and s[700 : 700 + cfg.short].max() == s.max()
        f = e.copy()
        f[600:] = 0.0
        np.testing.assert_array_equal(detector.calibrate(f, 150, cfg)[:600], s[:600])
        for sup in ("refractory", "peak"):
            out = detector.suppress(s, 150, replace(cfg, suppression=sup))
            changed = detector.suppress(np.r_[s[:600], np.ones(400)], 150, replace(cfg, suppression=sup))
            np.testing.assert_array_equal(changed[:600], out[:600])


def test_spatial_score_flags_new_extremes_causally():
    v = np.r_[np.tile([0.0, 10.0], 50), 10.05, 10.5, 10.6, -2.0, 5.0]  # probation = first 100 rows
    cfg = replace(CFG, spatial_tolerance=0.02)  # a value must leave [min, max] by more than 2% of the range
    s = detector.spatial_score(v, 100, cfg)
    assert s.tolist() == [0.0] * 100 + [0.0, 1.0, 0.0, 1.0, 0.0]  # 10.6 is within 2% of the new max 10.5
    assert (detector.spatial_score(v, 100, replace(cfg, spatial_tolerance=None)) == 0).all()
    for t in range(len(v)):
        w = v.copy()
        w[t + 1 :] = 100.0
        assert detector.spatial_score(w, 100, cfg)[: t + 1].tolist() == s[: t + 1].tolist()
    e = np.ones(len(v))
    both = detector.combined_score(e, v, 100, cfg)
    np.testing.assert_array_equal(both, np.maximum(detector.calibrate(e, 100, cfg), s))


def test_refractory_keeps_one_spike_per_excursion():
    s = np.zeros(1000)
    s[300:320] = 0.5
    s[330] = 0.9
    s[600] = 0.4
    out = detector.suppress(s, 200, replace(CFG, level=0.1, refractory=0.25))  # gap of 50 rows
    assert np.flatnonzero(out).tolist() == [300, 600] and out[300] == 0.5


def test_gates_block_small_and_recurring_excursions():
    t = np.arange(2000)
    v = np.sin(2 * np.pi * t / 100)
    v[1500] += 0.01  # tiny against the range seen so far
    v[1700] += 3.0
    ok = detector.gates(v, np.ones(2000), replace(CFG, magnitude_gate=0.05, gate_rows=100))
    assert not ok[1500] and ok[1700]
    e = np.where(t % 100 == 10, 5.0, 0.1)  # the same error at the same phase every period
    e[1750] = 9.0
    ok = detector.gates(v, e, replace(CFG, seasonal_gate=100, short=1))
    assert ok[10] and not ok[1510] and ok[1750]


def test_difference_ensemble_keeps_the_larger_calibrated_score_causally():
    x = series()
    errors, _ = detector.reconstruction_errors(x, CFG, 60)
    diff, _ = detector.reconstruction_errors(x, replace(CFG, error_source="first_difference"), 60)
    cfg = replace(CFG, difference_ensemble=True)
    both = detector.combined_score(errors, x, 60, cfg)
    expected = np.maximum.reduce([detector.calibrate(errors, 60, CFG), detector.calibrate(diff, 60, CFG),
                                  detector.spatial_score(x, 60, CFG)])
    np.testing.assert_array_equal(both, expected)
    assert (both >= detector.combined_score(errors, x, 60, CFG)).all()
    assert (both > detector.combined_score(errors, x, 60, CFG)).any()  # the difference adds alerts here
    # for the first-difference reference the ensemble is the max of a score with itself: no change
    ref = replace(cfg, error_source="first_difference")
    np.testing.assert_array_equal(detector.combined_score(diff, x, 60, ref),
                                  detector.combined_score(diff, x, 60, replace(ref, difference_ensemble=False)))
    for t in (100, 298):  # stage 2 alone is causal too (the difference is computed from values <= t)
        y = x.copy()
        y[t + 1 :] = np.random.default_rng(t).normal(5, 3, len(x) - t - 1)
        np.testing.assert_array_equal(detector.combined_score(errors, y, 60, cfg)[: t + 1], both[: t + 1])


def test_first_difference_reference_and_coarse_errors():
    x = series()
    errors, _ = detector.reconstruction_errors(x, replace(CFG, error_source="first_difference"), 60)
    z = (x - x[:60].mean()) / x[:60].std()
    np.testing.assert_allclose(errors[1:], np.diff(z) ** 2, rtol=1e-4, atol=1e-6)
    coarse = detector.coarse_errors(x, replace(CFG, coarse=2, window=4), 60)
    assert np.isnan(coarse[:7]).all() and not np.isnan(coarse[8:]).any()
    assert np.isnan(detector.coarse_errors(x, replace(CFG, coarse=10), 60)).all()  # too few probation blocks


def test_an_unknown_model_or_a_short_probation_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown model 'gru'"):
        detector.build_autoencoder("gru", 8)
    with pytest.raises(ValueError, match="too short"):
        detector.detect_series(np.zeros(60), CFG)
