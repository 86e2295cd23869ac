"""The registry: published full-size parameter counts (on ``meta``), 64 px shapes, one step, honest names."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from a2.params import count_params
from a2.vision.models import (
    DISPLAY_NAMES,
    PUBLISHED_PARAMS,
    REGISTRY,
    build,
    canonical_params,
    make_config,
    stored_label,
    variant_label,
    variant_params,
)

# Small settings so that a forward/backward pass at 64 px stays fast.
SMALL = {
    "vgg13": dict(width=0.125, hidden=32, dropout=0.0),
    "resnet18": dict(width=0.125),
    "vit": dict(dim=32, depth=2, heads=2, mlp_dim=64, drop_path=0.0),
    "efficientnet_b0": dict(width_mult=0.25, depth_mult=0.25, stem_stride=2, drop_path=0.0),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED_PARAMS))
def test_canonical_parameter_count_matches_the_paper(name):
    """Full size (VGG-13 133M, ResNet-18 11.7M, ViT-B/16 86.6M, EfficientNet-B0 5.29M), counted on meta."""
    assert canonical_params(name) == PUBLISHED_PARAMS[name]


def test_canonical_models_are_counted_without_allocating():
    with torch.device("meta"):
        model = build("vgg13", canonical=True)
    assert all(p.is_meta for p in model.parameters())


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_default_small_setting_output_shape(name):
    model = build(name).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, 64, 64)).shape == (2, 3)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_one_step_reduces_loss(name):
    torch.manual_seed(0)
    model = build(name, **SMALL[name]).train()
    x, y = torch.randn(8, 3, 64, 64), torch.arange(8) % 3
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    before.backward()
    opt.step()
    with torch.no_grad():
        after = nn.functional.cross_entropy(model(x), y)
    assert after.item() < before.item(), (name, before.item(), after.item())


def test_unknown_model_is_named():
    with pytest.raises(KeyError, match="unknown model 'alexnet'"):
        build("alexnet")
    with pytest.raises(KeyError, match="unknown model"):
        variant_label("alexnet", {})


def test_variant_label_names_width_and_size():
    cfg = {"width": 0.25, "hidden": 256, "num_classes": 3}
    assert variant_label("vgg13", cfg, 689_011) == "VGG-13 (width 0.25, 0.69M params)"
    assert variant_label("efficientnet_b0", {"width_mult": 0.5, "depth_mult": 0.5}, 659_043) == \
        "EfficientNet-B0 (width 0.5, depth 0.5, 0.66M params)"
    assert variant_label("vit", {"dim": 128, "depth": 6, "patch_size": 8}, 913_961) == \
        "ViT (dim 128, depth 6, patch 8, 0.91M params)"


def test_variant_params_from_a_stored_config_equals_the_built_model():
    stored = {"width": 0.5, "stem": "imagenet", "blocks": [2, 2, 2, 2], "num_classes": 3, "unknown_key": 1}
    built = build("resnet18", width=0.5, stem="imagenet")
    assert variant_params("resnet18", stored) == count_params(built)
    assert variant_label("resnet18", stored) == f"ResNet-18 (width 0.5, {count_params(built) / 1e6:.2g}M params)"


def test_make_config_applies_overrides_and_display_names_cover_registry():
    assert make_config("vit", dim=64).dim == 64 and make_config("vit", canonical=True).dim == 768
    assert set(DISPLAY_NAMES) == set(REGISTRY) == set(PUBLISHED_PARAMS)


def test_stored_label_is_built_from_the_config_else_recorded_and_admits_a_missing_size():
    old = {"label": "ViT (dim 128, depth 6, 0.91M params)", "params": 913_961,
           "config": {"dim": 128, "depth": 6, "patch_size": 8}}
    assert stored_label("vit", old) == variant_label("vit", old["config"], old["params"])
    assert stored_label("vit", {"label": "ViT (dim 64, depth 2, 0.1M params)", "params": 5}) == \
        "ViT (dim 64, depth 2, 0.1M params)"
    assert stored_label("vgg13", {"params": 689_011}) == "VGG-13 (0.69M params)"
    assert stored_label("efficientnet_b0", {}) == "EfficientNet-B0 (size not recorded)"
