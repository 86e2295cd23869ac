"""The detector's settings: bad values are refused with the fix, and the reported overrides are valid."""

from dataclasses import fields, replace

import pytest

from a2.anomaly import models
from a2.anomaly.detector_config import MODEL_SIZES, REPORTED, STAGE_ONE_FIELDS, SUPPRESSION_FIELDS, DetectorConfig


@pytest.mark.parametrize(("overrides", "message"), [
    ({"calibration": "x"}, "calibration='x'"),
    ({"spatial_tolerance": -0.1}, "spatial_tolerance=-0.1"),
    ({"model": "gru"}, "unknown model 'gru'"),
    ({"error_source": "ae"}, "error_source='ae'"),
    ({"refit_every": 1}, "refit_every=1"),
    ({"magnitude_gate": -1}, "magnitude_gate=-1"),
    ({"members": 0}, "members=0"),
])
def test_bad_config_is_rejected(overrides, message):
    with pytest.raises(ValueError, match=message):
        DetectorConfig(**overrides)


def test_models_are_named_as_in_the_models_module():
    assert set(MODEL_SIZES) <= set(models.MODELS)
    assert all(DetectorConfig(model=name).model == name for name in MODEL_SIZES)


def test_reported_overrides_are_valid_settings_of_the_detector():
    names = {f.name for f in fields(DetectorConfig)}
    assert set(REPORTED) <= names
    reported = replace(DetectorConfig(), **REPORTED)
    assert all(getattr(reported, k) == v for k, v in REPORTED.items())
    assert set(STAGE_ONE_FIELDS) <= names and set(SUPPRESSION_FIELDS) <= names
    assert not set(STAGE_ONE_FIELDS) & set(SUPPRESSION_FIELDS)
