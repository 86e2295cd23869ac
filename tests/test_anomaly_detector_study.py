"""The notebook's study: variants on cached errors, stage-one bookkeeping, members alone and regrouped."""

import inspect
import itertools
from dataclasses import replace

import numpy as np
import pytest

from a2.anomaly import detector_config, detector_run, detector_study
from a2.anomaly.detector_config import DetectorConfig
from tests.conftest import needs_dataset
from tests.test_anomaly_detector import CFG
from tests.test_anomaly_detector_run import toy_outputs


def test_variants_reuse_errors_and_refuse_stage_one_changes():
    _, outputs = toy_outputs()
    score = outputs["toy.csv"].anomaly_score
    out = detector_study.variants(outputs, {"same": CFG, "gated": replace(CFG, magnitude_gate=0.5)})
    np.testing.assert_array_equal(out["same"]["toy.csv"], score)
    assert (out["gated"]["toy.csv"] > 0).sum() <= (score > 0).sum()
    with pytest.raises(ValueError, match="changes \\['refit_every'\\]"):
        detector_study.variants(outputs, {"a": CFG, "b": replace(CFG, refit_every=10)})
    steps = detector_study.cumulative(outputs, CFG, {"base": {}, "gate": {"magnitude_gate": 0.5},
                                                     "level": {"level": 0.9}})
    np.testing.assert_array_equal(steps["gate"]["toy.csv"], out["gated"]["toy.csv"])
    np.testing.assert_array_equal(steps["level"]["toy.csv"], detector_run.postprocess(
        outputs, replace(CFG, magnitude_gate=0.5, level=0.9))["toy.csv"])  # steps accumulate
    with pytest.raises(ValueError, match="need new reconstruction errors"):
        detector_study.cumulative(outputs, CFG, {"bounded": {"bounded_output": 0.1}})


def test_stage_one_label_ignores_post_processing():
    base = detector_config.DetectorConfig()
    stages = {"frozen": {}, "bounded": {"bounded_output": 0.1}}
    chosen = replace(base, bounded_output=0.1, level=0.05, magnitude_gate=0.1, difference_ensemble=True)
    assert detector_study.stage_one_label(chosen, base, stages) == "bounded"
    assert detector_study.stage_one_label(replace(base, magnitude_gate=0.1), base, stages) == "frozen"
    assert detector_study.stage_one_label(chosen, base) in detector_study.STAGE_ONE
    with pytest.raises(ValueError, match="no measured stage-one variant"):
        detector_study.stage_one_label(replace(base, masked=True, bounded_output=0.3), base, stages)


@needs_dataset("nab")
def test_measure_runs_each_stage_once_and_post_variants_on_its_errors():
    name = "artificialWithAnomaly/art_daily_jumpsup.csv"
    stage = {"ae": {}, "fd": {"error_source": "first_difference"}}
    post = {"": {}, " + gate": {"magnitude_gate": 0.05}}
    scores, outputs = detector_study.measure(replace(CFG, epochs=1), stage, post, files=[name], workers=1)
    assert list(scores) == ["ae", "ae + gate", "fd", "fd + gate"] and list(outputs) == ["ae", "fd"]
    assert all(s[name].shape == (4032,) for s in scores.values())
    seeds = detector_run.detect_seeds(replace(CFG, epochs=1), [0, 1], files=[name], workers=1)
    assert list(seeds) == [0, 1] and not np.array_equal(seeds[0][name].errors, seeds[1][name].errors, equal_nan=True)


@needs_dataset("nab")
def test_an_ensemble_run_also_gives_each_member_alone():
    name = "artificialWithAnomaly/art_daily_jumpsup.csv"
    cfg = replace(CFG, epochs=1, members=2, seed=1)
    ensemble = detector_run.detect_corpus(cfg, files=[name], workers=1, progress=False)[name]
    assert ensemble.member_errors.shape == (2, 4032)
    np.testing.assert_allclose(ensemble.errors, ensemble.member_errors.mean(axis=0))
    alone = detector_study.members_alone({name: ensemble}, cfg)
    assert list(alone) == [2, 3]
    single = detector_run.detect_corpus(replace(cfg, members=1, seed=3), files=[name], workers=1, progress=False)[name]
    assert single.member_errors is None
    np.testing.assert_array_equal(alone[3][name].errors, single.errors)
    np.testing.assert_array_equal(detector_run.postprocess(alone[3], replace(cfg, members=1, seed=3))[name],
                                  single.anomaly_score)
    np.testing.assert_array_equal(detector_study.member_scores({1: {name: ensemble}}, cfg)[3][name],
                                  single.anomaly_score)
    with pytest.raises(ValueError, match="no per-member errors"):
        detector_study.members_alone({name: single}, cfg)
    # the same members regrouped: pairs reproduce the ensemble, singles each member, one group of all four
    second = detector_run.detect_corpus(replace(cfg, seed=2), files=[name], workers=1, progress=False)
    runs = {1: {name: ensemble}, 2: second}
    pairs = detector_study.regrouped(runs, cfg, 2)
    assert list(pairs) == [(2, 3), (4, 5)]
    np.testing.assert_allclose(pairs[(2, 3)][name].errors, ensemble.errors)
    np.testing.assert_array_equal(detector_study.regrouped(runs, cfg, 1)[(3,)][name].errors, single.errors)
    (four,) = detector_study.regrouped(runs, cfg, 4).values()
    np.testing.assert_allclose(four[name].errors, np.concatenate([ensemble.member_errors,
                                                                  second[name].member_errors]).mean(axis=0))
    assert list(detector_study.regrouped(runs, cfg, 3)) == [(2, 3, 4)]  # member 5 left out
    with pytest.raises(ValueError, match="use 1 to 4"):
        detector_study.regrouped(runs, cfg, 5)


@pytest.mark.parametrize("axes", [{}, {"levels": (0.02, 0.05), "refractories": (0.25,), "gates": (None, 0.1)}])
def test_post_processing_grid_is_every_combination_once_and_post_processing_only(axes):
    grid = detector_study.post_processing_grid(**axes)
    searched = {"level": "levels", "refractory": "refractories", "magnitude_gate": "gates",
                "difference_ensemble": "ensembles", "long": "longs"}
    defaults = inspect.signature(detector_study.post_processing_grid).parameters
    values = {field: axes.get(arg, defaults[arg].default) for field, arg in searched.items()}
    combos = {tuple(v[f] for f in searched) for v in grid.values()}
    assert all(set(v) == set(searched) for v in grid.values())  # each sets all five, so it replaces a base's
    assert combos == set(itertools.product(*values.values()))  # every combination, each once
    assert len(combos) == len(grid)
    assert not set(searched) & set(detector_config.STAGE_ONE_FIELDS)  # post-processing only: cached errors do
    for overrides in grid.values():
        replace(DetectorConfig(), **overrides)  # every point is a valid configuration
