"""ResNet-18: stems, shortcuts and width scaling."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from a2.vision.resnet import BasicBlock, ResNet, ResNetConfig


def test_unknown_stem_is_named():
    with pytest.raises(ValueError, match="unknown stem 'huge'"):
        ResNet(ResNetConfig(stem="huge"))


def test_basic_block_projects_only_when_the_shape_changes():
    assert isinstance(BasicBlock(8, 8).shortcut, nn.Identity)
    block = BasicBlock(8, 16, stride=2)
    assert isinstance(block.shortcut, nn.Sequential)
    assert block(torch.randn(1, 8, 8, 8)).shape == (1, 16, 4, 4)


def test_width_scales_every_stage():
    model = ResNet(ResNetConfig(width=0.25))
    assert model.head.in_features == 128 and model.stem[0].out_channels == 16
