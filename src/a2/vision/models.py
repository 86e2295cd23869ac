"""The four image classifiers behind one name -> (config, class) registry, and their honest names.

``build("vit", dim=128)`` returns a model at the small (64 px, 3 classes) setting with overrides;
``build("vit", canonical=True)`` returns the paper's setting (1000 classes, 224 px).
:func:`canonical_params` counts that full size on the ``meta`` device, and :func:`variant_label`
names a trained, scaled-down variant with its size ("VGG-13 (width 0.25, 0.69M params)") so that
no table calls a 0.69M-parameter network plain "VGG-13".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace
from typing import Any

from torch import nn

from a2.params import count_on_meta, format_params
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

# The config fields that say how far a trained variant is scaled down, as (field, label) per model.
SIZE_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "vgg13": (("width", "width"),),
    "resnet18": (("width", "width"),),
    "vit": (("dim", "dim"), ("depth", "depth"), ("patch_size", "patch")),
    "efficientnet_b0": (("width_mult", "width"), ("depth_mult", "depth")),
}


def make_config(name: str, canonical: bool = False, **overrides: Any):
    """The config dataclass of ``name`` at the small (or canonical) setting, with ``overrides``."""
    if name not in REGISTRY:
        raise KeyError(f"unknown model {name!r}; choose from {sorted(REGISTRY)}")
    config_cls, _ = REGISTRY[name]
    base = config_cls.canonical() if canonical else config_cls()
    return replace(base, **overrides)


def build(name: str, canonical: bool = False, **overrides: Any) -> nn.Module:
    """Model ``name`` at the small setting (or ``canonical``), with config ``overrides``."""
    cfg = make_config(name, canonical, **overrides)
    return REGISTRY[name][1](cfg)


def canonical_params(name: str) -> int:
    """Parameters of the paper's full-size model (1000 classes, 224 px), counted on the ``meta`` device."""
    return count_on_meta(lambda: build(name, canonical=True))


def variant_params(name: str, config: Mapping[str, Any]) -> int:
    """Parameters of the variant a stored ``config`` (a results-JSON block) describes, counted on ``meta``."""
    known = {f.name for f in fields(REGISTRY[name][0])} if name in REGISTRY else set()
    # JSON turns tuples into lists; configs compare and hash on tuples.
    overrides = {k: tuple(v) if isinstance(v, list) else v for k, v in config.items() if k in known}
    return count_on_meta(lambda: build(name, **overrides))


def variant_label(name: str, config: Mapping[str, Any], params: int | None = None) -> str:
    """``"VGG-13 (width 0.25, 0.69M params)"``: the model's name with its scaling and size; every table (README,
    report, notebooks) names a model with this function.

    ``params`` is the stored count; when it is missing it is computed from ``config``.
    """
    if name not in REGISTRY:
        raise KeyError(f"unknown model {name!r}; choose from {sorted(REGISTRY)}")
    n = variant_params(name, config) if params is None else params
    sizes = [f"{label} {config[key]:g}" for key, label in SIZE_FIELDS[name] if key in config]
    return f"{DISPLAY_NAMES[name]} ({', '.join([*sizes, f'{format_params(n)} params'])})"


def stored_label(name: str, entry: Mapping[str, Any]) -> str:
    """The honest name of a stored run (its block in ``results/bonus.json``).

    Made by :func:`variant_label` from its recorded config and parameter count, so an older run is
    named like a new one; its recorded ``label`` only when it stored no config; a run that recorded
    neither says so rather than borrowing the default size.
    """
    config, params = entry.get("config"), entry.get("params")
    if isinstance(config, Mapping):
        return variant_label(name, config, params)
    if isinstance(entry.get("label"), str):
        return entry["label"]
    if params is None:
        return f"{DISPLAY_NAMES[name]} (size not recorded)"
    return variant_label(name, {}, params)
