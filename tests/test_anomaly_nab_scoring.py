"""The NAB scorer: the unit checks of spec §8.4, parity with official results, sweep rules, bad input."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from a2.anomaly import corpus, nab_scoring
from tests.conftest import has_dataset, needs_dataset

STD = nab_scoring.Profile("standard", tp=1.0, fn=1.0, fp=0.11)
LOW_FN = nab_scoring.Profile("reward_low_FN_rate", tp=1.0, fn=2.0, fp=0.11)
# 1000 rows -> probation 150; windows at rows 300..399 and 700..749
LAB = nab_scoring.FileLabels("cat/toy.csv", 1000, ((300, 399), (700, 749)))


def flags(*rows: int, n: int = 1000) -> dict[str, np.ndarray]:
    s = np.zeros(n)
    s[list(rows)] = 1.0
    return {LAB.name: s}


def raw(*rows: int, profile: nab_scoring.Profile = STD) -> float:
    return nab_scoring.raw_score(flags(*rows), {LAB.name: LAB}, profile, 0.5)


def test_scaled_sigmoid_values():
    assert nab_scoring.scaled_sigmoid(-1.0) == pytest.approx(0.986614, abs=1e-6)
    assert nab_scoring.scaled_sigmoid(-0.5) == pytest.approx(0.848283, abs=1e-6)
    assert nab_scoring.scaled_sigmoid(0.0) == 0.0 and nab_scoring.scaled_sigmoid(3.01) == -1.0
    assert nab_scoring.scaled_sigmoid(1.0) == pytest.approx(-0.986614, abs=1e-6)


def test_left_edge_flag_is_exactly_a_tp_and_second_flag_changes_nothing():
    base = -2.0  # two windows missed
    assert raw() == base
    assert raw(300) == pytest.approx(base + 1.0 + 1.0, abs=1e-12)  # (a) missed -> +A_TP
    assert raw(300, 350) == raw(300)  # (b)
    assert raw(399) == pytest.approx(base + 1.0 + nab_scoring.scaled_sigmoid(-1 / 100) / nab_scoring.MAX_TP)


def test_false_positives():
    assert raw(200) == pytest.approx(-2.0 - 0.11)  # (c) before any window: exactly -A_FP
    assert raw(200, 201) == pytest.approx(-2.0 - 0.22)  # every FP row counts
    near, far = raw(401), raw(600)
    assert near > far  # (d) just after a window costs less
    assert raw(401) == pytest.approx(-2.0 + 0.11 * nab_scoring.scaled_sigmoid(2 / 99))
    assert raw(399 + 3 * 99 + 1) == pytest.approx(-2.0 - 0.11)  # beyond 3(W-1): exactly -A_FP


def test_probation_and_nothing_flagged():
    assert raw(0, 10, 149) == raw()  # (e)
    assert raw(150) == pytest.approx(-2.11)
    s = {LAB.name: np.zeros(1000)}
    res = nab_scoring.nab_score(s, {LAB.name: LAB}, {"standard": STD, "reward_low_FN_rate": LOW_FN})
    assert res["standard"]["score"] == 0.0 and res["reward_low_FN_rate"]["raw"] == -4.0  # (f)
    assert res["standard"]["threshold"] == nab_scoring.NOTHING_FLAGGED


def test_sweep_matches_brute_force_and_ties_go_to_highest_threshold():
    rng = np.random.default_rng(0)
    s = {LAB.name: rng.choice([0.0, 0.2, 0.4, 0.6, 0.8, 1.0], size=1000, p=[0.9, 0.02, 0.02, 0.02, 0.02, 0.02])}
    thresholds, totals = nab_scoring.threshold_curve(s, {LAB.name: LAB}, STD)
    for t, total in zip(thresholds, totals, strict=True):
        assert total == pytest.approx(nab_scoring.raw_score(s, {LAB.name: LAB}, STD, t))
    # ties: a single early flag scored 1.0, everything else 0.5 inside the window -> 1.0 and 0.5 tie
    t = np.zeros(1000)
    t[300], t[301:310] = 1.0, 0.5
    best, _ = nab_scoring.sweep({LAB.name: t}, {LAB.name: LAB}, STD)
    assert best == 1.0


def test_bad_scores_are_rejected():
    for bad in (np.full(1000, np.nan), np.full(1000, 1.5), np.full(1000, -0.1), np.zeros(10)):
        with pytest.raises(nab_scoring.NABScoreError, match="cat/toy.csv"):
            nab_scoring.raw_score({LAB.name: bad}, {LAB.name: LAB}, STD, 0.5)
    with pytest.raises(nab_scoring.NABScoreError, match="no anomaly scores for corpus file cat/toy.csv"):
        nab_scoring.raw_score({}, {LAB.name: LAB}, STD, 0.5)


def test_out_of_sample_and_categories():
    labels = {f"{c}/f{i}.csv": nab_scoring.FileLabels(f"{c}/f{i}.csv", 1000, ((300, 399),))
              for c in "ab" for i in range(2)}
    s = {k: np.where(np.arange(1000) == 300, 1.0, 0.0) for k in labels}
    oos = nab_scoring.out_of_sample(s, labels, STD)
    assert oos["score"] == pytest.approx(100.0)
    cats = nab_scoring.category_scores(s, labels, STD, 1.0)
    assert list(cats.index) == ["a", "b"] and (cats["score"] == 100.0).all()
    y, sc = nab_scoring.scored_rows(s, labels)
    assert len(y) == 4 * 850 and y.sum() == 400 and sc.sum() == 4


def test_selection_out_of_sample_chooses_on_one_half_and_scores_the_other():
    labels = {f"{c}/f{i}.csv": nab_scoring.FileLabels(f"{c}/f{i}.csv", 1000, ((300, 399),))
              for c in "ab" for i in range(4)}
    halves = nab_scoring.file_halves(labels, seed=3)
    assert sorted(halves[0] + halves[1]) == sorted(labels) and len(halves[0]) == len(halves[1]) == 4
    assert {n.split("/")[0] for n in halves[0]} == {"a", "b"}  # stratified by category
    early = {k: np.where(np.arange(1000) == 300, 1.0, 0.0) for k in labels}  # catches every window at its start
    # "lucky" is perfect on the first half and blind on the second: chosen there, it fails where it was not chosen
    lucky = {k: early[k] if k in halves[0] else np.zeros(1000) for k in labels}
    both = nab_scoring.selection_out_of_sample({"early": early}, labels, STD, seed=3)
    assert both["score"] == pytest.approx(100.0) and both["chosen_fold0"] == both["chosen_fold1"] == "early"
    picked = nab_scoring.selection_out_of_sample({"lucky": lucky, "early": early}, labels, STD, seed=3)
    assert picked["chosen_fold0"] == "lucky" and picked["chosen_fold1"] == "early"  # ties go to the first variant
    assert picked["score"] == pytest.approx(50.0)  # "lucky", chosen on half 0, misses every window of half 1
    assert nab_scoring.out_of_sample(early, labels, STD, seed=3)["score"] == pytest.approx(100.0)
    with pytest.raises(nab_scoring.NABScoreError, match="no variants"):
        nab_scoring.selection_out_of_sample({}, labels, STD)


REF = Path(corpus.corpus_root() if has_dataset("nab") else ".") / "reference_results"


@needs_dataset("nab")
@pytest.mark.parametrize(("detector", "expected"),
                         [("windowedGaussian", (39.65, 20.87, 47.41)), ("null", (0.0, 0.0, 0.0))])
def test_parity_with_reference_results(detector, expected):
    scores, labels = nab_scoring.read_results(REF / detector)
    thresholds = {p: float(pd.read_csv(REF / detector / f"{detector}_{p}_scores.csv")["Threshold"].iloc[0])
                  for p in nab_scoring.PROFILES}
    result = nab_scoring.nab_score(scores, labels, thresholds=thresholds)
    got = tuple(round(result[p]["score"], 2) for p in nab_scoring.PROFILES)
    assert got == expected
    official = json.loads((REF / "final_results_subset.json").read_text())[detector]
    for p in nab_scoring.PROFILES:
        assert result[p]["score"] == pytest.approx(official[p], abs=1e-6)


def _copy_results(src: Path, dst: Path) -> None:
    for path in src.glob("*/*.csv"):
        (dst / path.parent.name).mkdir(parents=True, exist_ok=True)
        (dst / path.parent.name / path.name).write_text(path.read_text())


def _victim(det: Path, name: str) -> Path:
    cat, fname = name.split("/")
    return det / cat / f"{det.name}_{fname}"


@needs_dataset("nab")
def test_bad_results_folder(tmp_path):
    det = tmp_path / "null"
    _copy_results(REF / "null", det)
    victim = _victim(det, "artificialNoAnomaly/art_daily_no_noise.csv")
    victim.unlink()
    with pytest.raises(nab_scoring.NABScoreError, match="null_art_daily_no_noise.csv is missing"):
        nab_scoring.read_results(det)
    with pytest.raises(nab_scoring.NABScoreError, match="does not exist"):
        nab_scoring.read_results(tmp_path / "nope")


NAME = "artificialWithAnomaly/art_daily_flatmiddle.csv"


def _tamper(df: pd.DataFrame, how: str) -> pd.DataFrame:
    if how == "missing":
        return df.drop(index=500)
    if how == "extra":
        return pd.concat([df, df.tail(1)])
    if how == "shuffled":
        out = df.copy()
        out.iloc[[800, 801]] = out.iloc[[801, 800]].to_numpy()
        return out
    if how == "shifted":
        return df.assign(timestamp=df["timestamp"].shift(-1).fillna("2014-04-15 00:00:00"))
    if how == "truncated":
        return df.head(0)
    return df.iloc[:-3]  # "short": rows cut at the end


@needs_dataset("nab")
@pytest.mark.parametrize(("how", "match"), [
    ("missing", r"row 500 \(line 502\) has timestamp .* but the corpus series has"),
    ("extra", "has extra rows: 4033 rows for a corpus series of 4032, first difference at row 4032"),
    ("shuffled", r"row 800 \(line 802\)"),
    ("shifted", r"row 0 \(line 2\)"),
    ("truncated", "is missing rows: 0 rows for a corpus series of 4032"),
    ("short", "is missing rows: 4029 rows"),
])
def test_results_must_match_the_corpus_row_for_row(tmp_path, how, match):
    det = tmp_path / "null"
    _copy_results(REF / "null", det)
    victim = _victim(det, NAME)
    _tamper(pd.read_csv(victim), how).to_csv(victim, index=False)
    with pytest.raises(nab_scoring.NABScoreError, match=match) as err:
        nab_scoring.read_results(det)
    assert "null_art_daily_flatmiddle.csv" in str(err.value)


def test_check_rows_accepts_identical_timestamps():
    ts = pd.Series(pd.date_range("2020", periods=5, freq="h"))
    nab_scoring.check_rows("x.csv", ts, ts.copy())


def test_score_table_and_seed_summary():
    table = nab_scoring.score_table({"perfect": flags(300, 700), "nothing": flags()}, {LAB.name: LAB},
                                {"standard": STD, "reward_low_FN_rate": LOW_FN})
    assert list(table.columns) == ["standard", "reward_low_FN_rate"] and table.loc["perfect", "standard"] == 100.0
    assert table.loc["nothing"].tolist() == [0.0, 0.0]
    summary = nab_scoring.seed_summary(pd.DataFrame({"standard": [60.0, 62.0, 64.0]}, index=[0, 1, 2]))
    assert summary.loc["mean", "standard"] == 62.0 and summary.loc["sd", "standard"] == pytest.approx(2.0)
    with pytest.raises(ValueError, match="at least two seeds"):
        nab_scoring.seed_summary(pd.DataFrame({"standard": [60.0]}))


def test_records_store_missing_scores_as_null():
    import pandas as pd

    frame = pd.DataFrame({"category": ["a", "b"], "score": [float("nan"), 61.5]}).set_index("category")
    assert nab_scoring.records(frame) == [{"category": "a", "score": None}, {"category": "b", "score": 61.5}]
