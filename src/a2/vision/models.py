"""The four image classifiers behind one name -> (config, class) registry.

``build("vit", dim=128)`` returns a model at the small (64 px, 3 classes) setting with overrides;
``build("vit", canonical=True)`` returns the paper's setting (1000 classes, 224 px), used by the
tests to check the published parameter counts.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from torch import nn

from a2.vision.efficientnet import EfficientNet, EfficientNetConfig
from a2.vision.resnet import ResNet, ResNetConfig
from a2.vision.vgg import VGG, VGGConfig
from a2.vision.vit import ViT, ViTConfig

REGISTRY: dict[str, tuple[type, type[nn.Module]]] = {
    "vgg13": (VGGConfig, VGG),
    "resnet18": (ResNetConfig, ResNet),
    "vit": (ViTConfig, ViT),
    "efficientnet_b0": (EfficientNetConfig, EfficientNet),
}

PUBLISHED_PARAMS = {"vgg13": 133_047_848, "resnet18": 11_689_512, "vit": 86_567_656, "efficientnet_b0": 5_288_548}
DISPLAY_NAMES = {"vgg13": "VGG-13", "resnet18": "ResNet-18", "vit": "ViT", "efficientnet_b0": "EfficientNet-B0"}


def make_config(name: str, canonical: bool = False, **overrides: Any):
    if name not in REGISTRY:
        raise KeyError(f"unknown model {name!r}; choose from {sorted(REGISTRY)}")
    config_cls, _ = REGISTRY[name]
    base = config_cls.canonical() if canonical else config_cls()
    return replace(base, **overrides)


def build(name: str, canonical: bool = False, **overrides: Any) -> nn.Module:
    """Model ``name`` at the small setting (or ``canonical``), with config ``overrides``."""
    cfg = make_config(name, canonical, **overrides)
    return REGISTRY[name][1](cfg)


def count_params(model: nn.Module, trainable_only: bool = True) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
