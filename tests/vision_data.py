"""Synthetic images shared by the vision experiment tests: classes differ in brightness, so they are learnable."""

from __future__ import annotations

import torch

from a2.vision.images import ImageData
from a2.vision.spec import ModelSpec, package_spec

TINY_VGG = dict(width=0.125, hidden=16)


def tiny_vgg(arithmetic: str = "fp32") -> ModelSpec:
    return package_spec("vgg13", TINY_VGG, arithmetic)


def tiny_images(n_per_class: int = 12, size: int = 32) -> ImageData:
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(3).repeat_interleave(n_per_class)
    images = (torch.rand(len(labels), 3, size, size, generator=g) * 80).to(torch.uint8)
    images += (labels * 80).to(torch.uint8)[:, None, None, None]
    files = [f"c{int(c)}/{i}.png" for i, c in enumerate(labels)]
    return ImageData(images, labels, ["a", "b", "c"], files, files)
