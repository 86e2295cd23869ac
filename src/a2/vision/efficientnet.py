# Generated from bonus/efficientnet.ipynb by `make export` (python -m a2.notebooks export): edit the
# notebook's '#@save a2.vision.efficientnet' cells, not this file; tests/test_exports.py checks they agree.
"""EfficientNet (Tan & Le, 2019): MBConv blocks with squeeze-excitation and compound scaling.

The B0 baseline is a table of seven stages of inverted-residual (MBConv) blocks. Compound scaling
multiplies every stage's channels by ``width_mult`` and its number of blocks by ``depth_mult``
(rounded up), and the input resolution by a third factor; B0 is (1.0, 1.0, 224 px), with
5,288,548 parameters for 1000 classes. For 64x64 images the small setting uses a stride-1 stem so
the final map is 4x4 rather than 2x2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from a2.vision.layers import DropPath

# B0: (expand ratio, kernel, stride, out channels, repeats)
B0_STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
             (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round channels to a multiple of 8, never down by more than 10% (as in the reference code)."""
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * value else new


@dataclass
class EfficientNetConfig:
    num_classes: int = 3
    width_mult: float = 1.0  # compound-scaling coefficients (B0 = 1.0, 1.0)
    depth_mult: float = 1.0
    dropout: float = 0.2
    drop_path: float = 0.2  # stochastic depth, linearly increasing over the blocks
    stem_stride: int = 1  # 2 in the paper (224 px); 1 keeps more resolution for 64 px
    se_ratio: float = 0.25
    bn_momentum: float = 0.01  # the paper's (TF decay 0.99); 0.1 (PyTorch's default) adapts faster in short runs

    @classmethod
    def canonical(cls) -> EfficientNetConfig:
        return cls(num_classes=1000, stem_stride=2)


def conv_bn_act(in_ch: int, out_ch: int, k: int, stride: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(in_ch, out_ch, k, stride, k // 2, groups=groups, bias=False),
                               nn.BatchNorm2d(out_ch, eps=1e-3, momentum=0.01)]
    if act:
        layers.append(nn.SiLU(inplace=True))
    return nn.Sequential(*layers)


class SqueezeExcite(nn.Module):
    """Channel gates from the global average: reduce -> SiLU -> expand -> sigmoid."""

    def __init__(self, channels: int, squeeze: int):
        super().__init__()
        self.reduce = nn.Conv2d(channels, squeeze, 1)
        self.expand = nn.Conv2d(squeeze, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = nn.functional.adaptive_avg_pool2d(x, 1)
        return x * torch.sigmoid(self.expand(nn.functional.silu(self.reduce(s))))


class MBConv(nn.Module):
    """1x1 expand -> kxk depthwise -> SE -> 1x1 project (linear), residual when shapes match."""

    def __init__(self, in_ch: int, out_ch: int, expand: int, k: int, stride: int, se_ratio: float, drop_path: float):
        super().__init__()
        mid = in_ch * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(conv_bn_act(in_ch, mid, 1))
        layers += [conv_bn_act(mid, mid, k, stride, groups=mid),
                   SqueezeExcite(mid, max(1, int(in_ch * se_ratio))),
                   conv_bn_act(mid, out_ch, 1, act=False)]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and in_ch == out_ch
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block(x)
        return x + self.drop_path(out) if self.residual else out


class EfficientNet(nn.Module):
    def __init__(self, cfg: EfficientNetConfig):
        super().__init__()
        self.cfg = cfg
        ch = lambda c: make_divisible(c * cfg.width_mult)  # noqa: E731
        stem = ch(32)
        self.stem = conv_bn_act(3, stem, 3, cfg.stem_stride)
        repeats = [math.ceil(r * cfg.depth_mult) for *_, r in B0_STAGES]
        total, done, blocks, in_ch = sum(repeats), 0, [], stem
        for (expand, k, stride, out, _), n in zip(B0_STAGES, repeats, strict=True):
            for j in range(n):
                blocks.append(MBConv(in_ch, ch(out), expand, k, stride if j == 0 else 1, cfg.se_ratio,
                                     cfg.drop_path * done / total))
                in_ch, done = ch(out), done + 1
        self.blocks = nn.Sequential(*blocks)
        head = ch(1280)
        self.head = conv_bn_act(in_ch, head, 1)
        self.dropout = nn.Dropout(cfg.dropout)
        self.classifier = nn.Linear(head, cfg.num_classes)
        for m in self.modules():  # how fast the eval-mode running statistics follow the training batches
            if isinstance(m, nn.BatchNorm2d):
                m.momentum = cfg.bn_momentum

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.head(self.blocks(self.stem(x)))
        return self.classifier(self.dropout(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)))
