"""Error analysis: the most confident test mistakes, and ViT attention maps for uint8 images."""

from __future__ import annotations

import torch
from torch import nn

from a2.vision.analysis import attention_maps, misclassified
from a2.vision.experiment import make_preprocess
from a2.vision.images import stratified_split
from a2.vision.models import build
from tests.vision_data import tiny_images


class AlwaysFirst(nn.Module):
    """Always predicts class 0, more confidently for brighter images."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = x.mean(dim=(1, 2, 3))
        return torch.stack([2 + m, torch.zeros_like(m), torch.zeros_like(m)], dim=1)


def test_misclassified_lists_the_most_confident_mistakes_first():
    data = tiny_images(8)
    split = stratified_split(data.labels, (0.5, 0.25, 0.25), seed=0)
    pre = make_preprocess(data, split, None)
    idx, titles = misclassified(AlwaysFirst(), data, split, pre, "cpu", limit=16)
    wrong = [i for i in split.test.tolist() if int(data.labels[i]) != 0]
    assert sorted(idx.tolist()) == sorted(wrong) and len(titles) == len(wrong)
    assert all(t.split(" -> ")[1].startswith("a ") for t in titles)
    confidence = [int(t.rsplit("(", 1)[1].rstrip("%)")) for t in titles]
    assert confidence == sorted(confidence, reverse=True) and len(set(confidence)) > 1


def test_attention_maps_for_uint8_images():
    data = tiny_images(4)
    vit = build("vit", image_size=32, dim=32, depth=1, heads=2, mlp_dim=32)
    pre = make_preprocess(data, stratified_split(data.labels, (0.5, 0.25, 0.25)), None)
    assert attention_maps(vit, data.images[:3], pre, "cpu").shape == (3, 4, 4)


def test_attention_maps_use_the_rollout_they_are_given():
    data = tiny_images(4)
    pre = make_preprocess(data, stratified_split(data.labels, (0.5, 0.25, 0.25)), None)
    seen = []

    def rollout(model, x):
        seen.append(x.shape)
        return torch.zeros(len(x), 2, 2)

    assert attention_maps(AlwaysFirst(), data.images[:3], pre, "cpu", rollout=rollout).shape == (3, 2, 2)
    assert seen == [(3, 3, 32, 32)]
