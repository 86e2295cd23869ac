"""Published detectors on the held-out halves: in-sample parity with the scoreboard, the held-out threshold,
the headline rows, and a one-line error for a missing results file."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from a2.anomaly import corpus, holdout, nab_scoring
from tests.conftest import has_dataset, needs_dataset

STD = nab_scoring.Profile("standard", tp=1.0, fn=1.0, fp=0.11)


def _labels(n: int = 4) -> dict[str, nab_scoring.FileLabels]:
    names = [f"{c}/f{i}.csv" for c in "ab" for i in range(n)]
    return {name: nab_scoring.FileLabels(name, 1000, ((300, 399),)) for name in names}


def test_held_out_is_perfect_for_a_perfect_detector_and_halves_for_a_lucky_one():
    labels = _labels()
    early = {k: np.where(np.arange(1000) == 300, 1.0, 0.0) for k in labels}
    perfect = holdout.held_out(early, labels, STD, seeds=[0, 1])
    assert perfect["in_sample"] == pytest.approx(100.0) and perfect["held_out"] == pytest.approx(100.0)
    assert set(perfect["held_out_seeds"]) == {0, 1}
    # scores 1.0 on half 0 and 0.5 on half 1: the threshold fitted on half 1 (0.5) flags half 0 too, but the one
    # fitted on half 0 (1.0) misses every window of half 1, so the held-out score falls below the in-sample one
    halves = nab_scoring.file_halves(labels, seed=0)
    uneven = {k: early[k] * (1.0 if k in halves[0] else 0.5) for k in labels}
    got = holdout.held_out(uneven, labels, STD, seeds=[0])
    assert got["in_sample"] == pytest.approx(100.0)
    assert got["held_out"] == pytest.approx(50.0)
    with pytest.raises(nab_scoring.NABScoreError, match="no seeds"):
        holdout.held_out(early, labels, STD, seeds=[])


def test_headline_puts_ours_first_with_both_figures():
    refs = {"numenta": {"in_sample": 70.1, "held_out": 68.0, "held_out_seeds": {0: 68.0}}}
    rows = holdout.headline(70.0, 64.7, refs)
    assert list(rows) == ["ours", "numenta"]
    assert rows["ours"] == {"in_sample": 70.0, "held_out": 64.7} and rows["numenta"]["held_out"] == 68.0


REF = Path(corpus.corpus_root() if has_dataset("nab") else ".") / "reference_results"


@needs_dataset("nab")
def test_published_detectors_reproduce_the_scoreboard_in_sample():
    labels = nab_scoring.corpus_labels()
    got = holdout.references_held_out(REF, labels, nab_scoring.load_profiles()["standard"], seeds=[0])
    official = json.loads((REF / "final_results_subset.json").read_text())
    for folder in holdout.REFERENCE_DETECTORS:
        assert got[folder]["in_sample"] == pytest.approx(official[folder]["standard"], abs=1e-6)
        assert 0.0 < got[folder]["held_out"] < got[folder]["in_sample"]  # a threshold fitted elsewhere costs


@needs_dataset("nab")
def test_missing_reference_file_is_one_line(tmp_path):
    det = tmp_path / "numenta"
    shutil.copytree(REF / "numenta", det)
    victim = next(det.glob("realKnownCause/numenta_*.csv"))
    victim.unlink()
    with pytest.raises(nab_scoring.NABScoreError, match="is missing"):
        holdout.reference_scores(det, list(nab_scoring.corpus_labels()))
