"""Parameter counts: the one counter every part uses, plus counting on the ``meta`` device.

Counting a full-size model (VGG-13 has 133M parameters) on the ``meta`` device allocates no memory
and takes milliseconds, so tests and notebooks can check published sizes without building them.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def count_params(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def count_on_meta(make: Callable[[], nn.Module], trainable_only: bool = True) -> int:
    """Parameters of the model ``make()`` builds, built on the ``meta`` device (no memory, no init cost)."""
    with torch.device("meta"):
        model = make()
    return count_params(model, trainable_only)


def format_params(n: int) -> str:
    """``689_011`` -> ``"0.69M"``, ``11_689_512`` -> ``"11.7M"``: two significant digits below 10M."""
    if n < 0:
        raise ValueError(f"a parameter count cannot be negative, got {n}")
    return f"{n / 1e6:.3g}M" if n >= 10_000_000 else f"{n / 1e6:.2g}M"
