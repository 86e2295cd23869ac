"""What to train: a spec builds its class from its config, and each model gets one arithmetic."""

from __future__ import annotations

import pytest
import torch

from a2.errors import A2Error
from a2.vision.spec import model_arithmetic, package_spec
from a2.vision.vgg import VGG


def test_package_spec_resolves_a_name_to_class_and_config_once():
    spec = package_spec("vgg13", {"width": 0.125, "hidden": 16}, "bf16", num_classes=5)
    assert spec.model_cls is VGG and spec.config.width == 0.125 and spec.config.num_classes == 5
    model = spec.build()
    assert model(torch.zeros(2, 3, 64, 64)).shape == (2, 5)


def test_a_models_own_arithmetic_holds_under_auto_and_a_forced_one_wins(monkeypatch):
    monkeypatch.delenv("A2_PRECISION", raising=False)
    assert model_arithmetic("cpu", "auto", "fp32") == "fp32"
    assert model_arithmetic("cpu", "auto", "bf16") == "bf16"
    assert model_arithmetic("cpu", "bf16", "fp32") == "bf16"
    monkeypatch.setenv("A2_PRECISION", "fp16")
    assert model_arithmetic("cpu", "auto", "fp32") == "fp16"


def test_an_unknown_precision_is_a_one_line_error():
    with pytest.raises(A2Error, match="precision 'fast'"):
        model_arithmetic("cpu", "fast")
