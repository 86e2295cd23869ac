"""Running the detector over files: NAB's CSV layout, and post-processing cached errors again."""

from dataclasses import replace

import numpy as np
import pandas as pd

from a2.anomaly import corpus, detector, detector_run, detector_study, nab_scoring
from tests.conftest import needs_dataset
from tests.test_anomaly_detector import CFG, series


def toy_outputs(cfg=CFG) -> tuple[np.ndarray, dict[str, detector_run.FileOutput]]:
    """A synthetic series and the detector's output for it, as ``detect_corpus`` would cache it."""
    x = series()
    errors, coarse, calibrated, score = detector.detect_series(x, cfg)
    ts = pd.date_range("2020", periods=len(x), freq="5min").to_numpy()
    return x, {"toy.csv": detector_run.FileOutput("toy.csv", ts, x, errors, coarse, calibrated, score, 0.0)}


@needs_dataset("nab")
def test_results_in_nab_layout(tmp_path):
    name = "artificialWithAnomaly/art_daily_jumpsup.csv"
    out = detector_run.detect_corpus(replace(CFG, epochs=1), files=[name], workers=1, progress=False)
    (path,) = detector_run.write_nab_csvs(out, tmp_path / "ae")
    assert path == tmp_path / "ae" / "artificialWithAnomaly" / "ae_art_daily_jumpsup.csv"
    df = pd.read_csv(path)
    assert list(df.columns) == ["timestamp", "value", "anomaly_score", "label"]
    lab = nab_scoring.FileLabels.from_timestamps(name, pd.to_datetime(df["timestamp"]), corpus.load_windows()[name])
    assert lab == nab_scoring.corpus_labels()[name] and df["label"].sum() == lab.window_mask().sum()
    nab_scoring.check_scores(name, df["anomaly_score"].to_numpy(), len(df))


def test_postprocess_many_equals_postprocess_per_config():
    x, outputs = toy_outputs()
    errors = outputs["toy.csv"].errors
    configs = {label: replace(CFG, **over) for label, over in detector_study.post_processing_grid(
        levels=(0.02, 0.2), refractories=(0.1, 0.5), gates=(None, 0.05), longs=(50, 500)).items()}
    many = detector_run.postprocess_many(outputs, configs)
    assert list(many) == list(configs)
    for label, cfg in configs.items():
        np.testing.assert_array_equal(many[label]["toy.csv"], detector_run.postprocess(outputs, cfg)["toy.csv"])
        np.testing.assert_array_equal(many[label]["toy.csv"], detector.detect_series(x, cfg, errors=errors)[3])
    assert len({tuple(m["toy.csv"]) for m in many.values()}) > 1  # the settings do change the alerts
