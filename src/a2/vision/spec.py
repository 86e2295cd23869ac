"""What to train: a model's class, its config and its arithmetic, resolved once and passed around.

The bonus notebooks define the ViT and EfficientNet in their own cells and hand those classes to the
training code as a :class:`ModelSpec`, so an edited cell is what trains. VGG-13 and ResNet-18 come from
the package through :func:`package_spec`, the one place where a model's name becomes its config.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from a2 import runtime
from a2.vision.models import REGISTRY, make_config
from a2.vision.source import source_hash


@dataclass(frozen=True)
class ModelSpec:
    """One model of the comparison.

    ``name`` keys its block in ``results/bonus.json`` and its weights file; ``model_cls(config)`` builds
    it; ``arithmetic`` ("fp32", "bf16" or "fp16", see :func:`model_arithmetic`) is what it trains and
    predicts in.
    """

    name: str
    model_cls: Callable[[Any], nn.Module]
    config: Any
    arithmetic: str = "fp32"

    def build(self) -> nn.Module:
        """A fresh model in channels-last memory layout, which CPU and GPU convolutions run faster in."""
        return self.model_cls(self.config).to(memory_format=torch.channels_last)

    def source_hash(self) -> str:
        """Hash of the model class's source (and what it uses): an edited definition changes it."""
        return source_hash(self.model_cls)


def model_arithmetic(device: torch.device | str, precision: str = "auto", preferred: str = "auto") -> str:
    """The arithmetic one model trains in.

    ``precision`` (a notebook's ``PRECISION``, or ``A2_PRECISION``) other than ``"auto"`` forces one for
    every model. Under ``"auto"`` the model's ``preferred`` arithmetic is used where one is given (e.g.
    fp32 for EfficientNet, whose depthwise convolutions run slower in bf16 on CPUs), else the runtime's
    automatic choice.
    """
    forced = runtime.requested_arithmetic(precision)
    return runtime.resolve_arithmetic(device, preferred if forced == "auto" else forced)


def package_spec(name: str, overrides: Mapping[str, Any], arithmetic: str = "fp32", num_classes: int = 3) -> ModelSpec:
    """The package's model ``name`` at the small setting with config ``overrides``."""
    config = make_config(name, num_classes=num_classes, **overrides)
    return ModelSpec(name, REGISTRY[name][1], config, arithmetic)
