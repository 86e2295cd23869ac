"""The streaming detector: causal end to end, scores in [0, 1], one spike per excursion, NAB layout."""

import ast
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from a2.anomaly import corpus, detector, nab_scoring
from tests.conftest import needs_dataset

CFG = detector.DetectorConfig(epochs=2, window=8, long=100)


def series(n: int = 400, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.sin(np.arange(n) * 2 * np.pi / 24) + 0.1 * rng.standard_normal(n)
    x[300:305] += 4.0  # an anomaly after the probation (P = 60)
    return x


MECHANISMS = {
    "dense": {}, "no spatial": {"spatial_tolerance": None}, "conv": {"model": "conv"}, "lstm": {"model": "lstm"},
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


def test_bad_config_is_rejected():
    with pytest.raises(ValueError, match="calibration='x'"):
        detector.DetectorConfig(calibration="x")
    with pytest.raises(ValueError, match="spatial_tolerance=-0.1"):
        detector.DetectorConfig(spatial_tolerance=-0.1)
    with pytest.raises(ValueError, match="unknown model 'gru'"):
        detector.build_model("gru", 8)
    with pytest.raises(ValueError, match="too short"):
        detector.detect_series(np.zeros(60), CFG)
    with pytest.raises(ValueError, match="error_source='ae'"):
        detector.DetectorConfig(error_source="ae")
    with pytest.raises(ValueError, match="refit_every=1"):
        detector.DetectorConfig(refit_every=1)
    with pytest.raises(ValueError, match="magnitude_gate=-1"):
        detector.DetectorConfig(magnitude_gate=-1)


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


@needs_dataset("nab")
def test_results_in_nab_layout(tmp_path):
    name = "artificialWithAnomaly/art_daily_jumpsup.csv"
    out = detector.detect_corpus(replace(CFG, epochs=1), files=[name], workers=1, progress=False)
    (path,) = detector.write_results(out, tmp_path / "ae")
    assert path == tmp_path / "ae" / "artificialWithAnomaly" / "ae_art_daily_jumpsup.csv"
    df = pd.read_csv(path)
    assert list(df.columns) == ["timestamp", "value", "anomaly_score", "label"]
    lab = nab_scoring.FileLabels.from_timestamps(name, pd.to_datetime(df["timestamp"]), corpus.load_windows()[name])
    assert lab == nab_scoring.corpus_labels()[name] and df["label"].sum() == lab.window_mask().sum()
    nab_scoring.check_scores(name, df["anomaly_score"].to_numpy(), len(df))


def test_variants_reuse_errors_and_refuse_stage_one_changes():
    x = series()
    errors, coarse, calibrated, score = detector.detect_series(x, CFG)
    ts = pd.date_range("2020", periods=len(x), freq="5min").to_numpy()
    outputs = {"toy.csv": detector.FileOutput("toy.csv", ts, x, errors, coarse, calibrated, score, 0.0)}
    out = detector.variants(outputs, {"same": CFG, "gated": replace(CFG, magnitude_gate=0.5)})
    np.testing.assert_array_equal(out["same"]["toy.csv"], score)
    assert (out["gated"]["toy.csv"] > 0).sum() <= (score > 0).sum()
    with pytest.raises(ValueError, match="changes \\['refit_every'\\]"):
        detector.variants(outputs, {"a": CFG, "b": replace(CFG, refit_every=10)})
    steps = detector.cumulative(outputs, CFG, {"base": {}, "gate": {"magnitude_gate": 0.5}, "level": {"level": 0.9}})
    np.testing.assert_array_equal(steps["gate"]["toy.csv"], out["gated"]["toy.csv"])
    np.testing.assert_array_equal(steps["level"]["toy.csv"], detector.postprocess(
        outputs, replace(CFG, magnitude_gate=0.5, level=0.9))["toy.csv"])  # steps accumulate
    with pytest.raises(ValueError, match="need new reconstruction errors"):
        detector.cumulative(outputs, CFG, {"bounded": {"bounded_output": 0.1}})


def test_postprocess_many_equals_postprocess_per_config():
    x = series()
    errors, coarse, calibrated, score = detector.detect_series(x, CFG)
    ts = pd.date_range("2020", periods=len(x), freq="5min").to_numpy()
    outputs = {"toy.csv": detector.FileOutput("toy.csv", ts, x, errors, coarse, calibrated, score, 0.0)}
    configs = {label: replace(CFG, **over) for label, over in detector.post_processing_grid(
        levels=(0.02, 0.2), refractories=(0.1, 0.5), gates=(None, 0.05), longs=(50, 500)).items()}
    many = detector.postprocess_many(outputs, configs)
    assert list(many) == list(configs)
    for label, cfg in configs.items():
        np.testing.assert_array_equal(many[label]["toy.csv"], detector.postprocess(outputs, cfg)["toy.csv"])
        np.testing.assert_array_equal(many[label]["toy.csv"], detector.detect_series(x, cfg, errors=errors)[3])
    assert len({tuple(m["toy.csv"]) for m in many.values()}) > 1  # the settings do change the alerts


def test_stage_one_label_ignores_post_processing():
    base = detector.DetectorConfig()
    stages = {"frozen": {}, "bounded": {"bounded_output": 0.1}}
    chosen = replace(base, bounded_output=0.1, level=0.05, magnitude_gate=0.1, difference_ensemble=True)
    assert detector.stage_one_label(chosen, base, stages) == "bounded"
    assert detector.stage_one_label(replace(base, magnitude_gate=0.1), base, stages) == "frozen"
    assert detector.stage_one_label(chosen, base) in detector.STAGE_ONE
    with pytest.raises(ValueError, match="no measured stage-one variant"):
        detector.stage_one_label(replace(base, masked=True, bounded_output=0.3), base, stages)


@needs_dataset("nab")
def test_measure_runs_each_stage_once_and_post_variants_on_its_errors():
    name = "artificialWithAnomaly/art_daily_jumpsup.csv"
    stage = {"ae": {}, "fd": {"error_source": "first_difference"}}
    post = {"": {}, " + gate": {"magnitude_gate": 0.05}}
    scores, outputs = detector.measure(replace(CFG, epochs=1), stage, post, files=[name], workers=1)
    assert list(scores) == ["ae", "ae + gate", "fd", "fd + gate"] and list(outputs) == ["ae", "fd"]
    assert all(s[name].shape == (4032,) for s in scores.values())
    seeds = detector.detect_seeds(replace(CFG, epochs=1), [0, 1], files=[name], workers=1)
    assert list(seeds) == [0, 1] and not np.array_equal(seeds[0][name].errors, seeds[1][name].errors, equal_nan=True)


@needs_dataset("nab")
def test_an_ensemble_run_also_gives_each_member_alone():
    name = "artificialWithAnomaly/art_daily_jumpsup.csv"
    cfg = replace(CFG, epochs=1, members=2, seed=1)
    ensemble = detector.detect_corpus(cfg, files=[name], workers=1, progress=False)[name]
    assert ensemble.member_errors.shape == (2, 4032)
    np.testing.assert_allclose(ensemble.errors, ensemble.member_errors.mean(axis=0))
    alone = detector.members_alone({name: ensemble}, cfg)
    assert list(alone) == [2, 3]
    single = detector.detect_corpus(replace(cfg, members=1, seed=3), files=[name], workers=1, progress=False)[name]
    assert single.member_errors is None
    np.testing.assert_array_equal(alone[3][name].errors, single.errors)
    np.testing.assert_array_equal(detector.postprocess(alone[3], replace(cfg, members=1, seed=3))[name],
                                  single.anomaly_score)
    np.testing.assert_array_equal(detector.member_scores({1: {name: ensemble}}, cfg)[3][name], single.anomaly_score)
    with pytest.raises(ValueError, match="no per-member errors"):
        detector.members_alone({name: single}, cfg)
    # the same members regrouped: pairs reproduce the ensemble, singles each member, one group of all four
    second = detector.detect_corpus(replace(cfg, seed=2), files=[name], workers=1, progress=False)
    runs = {1: {name: ensemble}, 2: second}
    pairs = detector.regrouped(runs, cfg, 2)
    assert list(pairs) == [(2, 3), (4, 5)]
    np.testing.assert_allclose(pairs[(2, 3)][name].errors, ensemble.errors)
    np.testing.assert_array_equal(detector.regrouped(runs, cfg, 1)[(3,)][name].errors, single.errors)
    (four,) = detector.regrouped(runs, cfg, 4).values()
    np.testing.assert_allclose(four[name].errors, np.concatenate([ensemble.member_errors,
                                                                  second[name].member_errors]).mean(axis=0))
    assert list(detector.regrouped(runs, cfg, 3)) == [(2, 3, 4)]  # member 5 left out
    with pytest.raises(ValueError, match="use 1 to 4"):
        detector.regrouped(runs, cfg, 5)


def test_reported_configuration_is_the_notebooks_and_its_results():
    root = Path(__file__).resolve().parents[1]
    cells = json.loads((root / "nab_benchmark.ipynb").read_text())["cells"]
    params = next(c for c in cells if c["cell_type"] == "code")
    assigned = {node.targets[0].id: node.value for node in ast.parse("".join(params["source"])).body
                if isinstance(node, ast.Assign)}
    assert ast.literal_eval(assigned["CONFIG"]) == detector.REPORTED
    results = json.loads((root / "results" / "nab.json").read_text())
    assert {k: results["detector_config"][k] for k in detector.REPORTED} == detector.REPORTED
    assert sorted(detector.REPORTED) == results["chosen_on_corpus"]


def test_post_processing_grid_sets_every_searched_setting():
    grid = detector.post_processing_grid(levels=(0.02, 0.05), refractories=(0.25,), gates=(None, 0.1))
    assert len(grid) == 2 * 1 * 2 * 2 * 2 and len(detector.post_processing_grid()) == 144
    searched = {"level", "refractory", "magnitude_gate", "difference_ensemble", "long"}
    assert all(set(v) == searched for v in grid.values())
    assert not set().union(*grid.values()) & set(detector.STAGE_ONE_FIELDS)  # post-processing only: cached errors do
