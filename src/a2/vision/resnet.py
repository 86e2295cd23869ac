"""ResNet-18 (He et al., 2016) with a hand-written basic block.

Four stages of two basic blocks (two 3x3 convs plus an identity or 1x1 projection shortcut). The
canonical stem (7x7 stride-2 conv and max-pool, for 224 px) gives 11,689,512 parameters with 1000
classes. For 64x64 images the small setting uses a 3x3 stride-1 stem followed by the max-pool, so
the first stage sees 32x32 maps instead of 16x16, and can narrow every stage with ``width``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class ResNetConfig:
    num_classes: int = 3
    width: float = 1.0  # channel multiplier on (64, 128, 256, 512)
    blocks: tuple[int, ...] = (2, 2, 2, 2)
    stem: str = "small"  # "imagenet": 7x7/2 conv + max-pool; "small": 3x3/1 conv + max-pool

    @classmethod
    def canonical(cls) -> ResNetConfig:
        return cls(num_classes=1000, stem="imagenet")


class BasicBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN, plus the shortcut, then ReLU."""

    def __init__(self, in_ch: int, out_ch: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_ch != out_ch:  # projection when the shape changes
            self.shortcut = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(out_ch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, cfg: ResNetConfig):
        super().__init__()
        self.cfg = cfg
        widths = [max(8, int(c * cfg.width)) for c in (64, 128, 256, 512)]
        if cfg.stem == "imagenet":
            conv = nn.Conv2d(3, widths[0], 7, stride=2, padding=3, bias=False)
        elif cfg.stem == "small":
            conv = nn.Conv2d(3, widths[0], 3, stride=1, padding=1, bias=False)
        else:
            raise ValueError(f"unknown stem {cfg.stem!r}; use 'imagenet' or 'small'")
        self.stem = nn.Sequential(conv, nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, stride=2, padding=1))
        stages, in_ch = [], widths[0]
        for i, (out, n) in enumerate(zip(widths, cfg.blocks, strict=True)):
            blocks = [BasicBlock(in_ch if j == 0 else out, out, stride=2 if (i > 0 and j == 0) else 1)
                      for j in range(n)]
            stages.append(nn.Sequential(*blocks))
            in_ch = out
        self.stages = nn.Sequential(*stages)
        self.head = nn.Linear(in_ch, cfg.num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(x))
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))
