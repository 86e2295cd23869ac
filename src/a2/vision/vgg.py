"""VGG-13 ("configuration B" of Simonyan & Zisserman, 2015), adaptable to small images.

Ten 3x3 conv layers in five stages, each stage closed by 2x2 max-pooling, then three fully
connected layers. The canonical network (224 px, 7x7 pooled map, 4096-wide classifier, no batch
norm) has 133,047,848 parameters with 1000 classes. For 64x64 images the five poolings leave a 2x2
map, so the small setting pools to 1x1, narrows the classifier and adds batch norm (which the paper
predates, but which lets VGG train from scratch without the paper's staged initialisation).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

# version B: (out_channels, convs) per stage
STAGES_B = ((64, 2), (128, 2), (256, 2), (512, 2), (512, 2))


@dataclass
class VGGConfig:
    num_classes: int = 3
    width: float = 1.0  # channel multiplier
    batch_norm: bool = True
    pool_size: int = 1  # adaptive pooling before the classifier (7 in the paper)
    hidden: int = 512  # classifier width (4096 in the paper)
    dropout: float = 0.5

    @classmethod
    def canonical(cls) -> VGGConfig:
        return cls(num_classes=1000, batch_norm=False, pool_size=7, hidden=4096)


class VGG(nn.Module):
    def __init__(self, cfg: VGGConfig):
        super().__init__()
        self.cfg = cfg
        layers: list[nn.Module] = []
        in_ch = 3
        for out, convs in STAGES_B:
            out = max(8, int(out * cfg.width))
            for _ in range(convs):
                layers.append(nn.Conv2d(in_ch, out, 3, padding=1, bias=not cfg.batch_norm))
                if cfg.batch_norm:
                    layers.append(nn.BatchNorm2d(out))
                layers.append(nn.ReLU(inplace=True))
                in_ch = out
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(cfg.pool_size)
        flat = in_ch * cfg.pool_size**2
        self.classifier = nn.Sequential(
            nn.Linear(flat, cfg.hidden), nn.ReLU(inplace=True), nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, cfg.hidden), nn.ReLU(inplace=True), nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, cfg.num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))
