"""EfficientNet: channel rounding, compound scaling and the batch-norm momentum switch."""

from __future__ import annotations

from torch import nn

from a2.params import count_params
from a2.vision.efficientnet import EfficientNet, EfficientNetConfig, make_divisible


def test_make_divisible_rounds_to_eight_without_losing_more_than_ten_percent():
    assert make_divisible(32 * 0.25) == 8 and make_divisible(1280) == 1280
    assert make_divisible(20) == 24 and make_divisible(3) == 8


def test_compound_scaling_grows_the_model():
    base = count_params(EfficientNet(EfficientNetConfig(width_mult=0.25, depth_mult=0.25)))
    assert count_params(EfficientNet(EfficientNetConfig(width_mult=0.5, depth_mult=0.5))) > base


def test_bn_momentum_reaches_every_batchnorm():
    norms = [m for m in EfficientNet(EfficientNetConfig(bn_momentum=0.1)).modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and all(m.momentum == 0.1 for m in norms)
    default = EfficientNet(EfficientNetConfig())
    assert all(m.momentum == 0.01 for m in default.modules() if isinstance(m, nn.BatchNorm2d))
