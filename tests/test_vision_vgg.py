"""VGG-13: ten 3x3 convolutions in five stages, width scaling and the canonical layout."""

from __future__ import annotations

from torch import nn

from a2.vision.vgg import VGG, VGGConfig


def test_ten_convs_and_five_pools():
    model = VGG(VGGConfig(width=0.125, hidden=16))
    layers = list(model.features)
    assert sum(isinstance(m, nn.Conv2d) for m in layers) == 10
    assert sum(isinstance(m, nn.MaxPool2d) for m in layers) == 5


def test_canonical_has_no_batch_norm_and_a_7x7_pool():
    cfg = VGGConfig.canonical()
    assert (cfg.batch_norm, cfg.pool_size, cfg.hidden, cfg.num_classes) == (False, 7, 4096, 1000)


def test_width_never_drops_below_eight_channels():
    model = VGG(VGGConfig(width=0.01, hidden=8))
    assert min(m.out_channels for m in model.features if isinstance(m, nn.Conv2d)) == 8
