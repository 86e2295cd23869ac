"""The four models: published parameter counts, 64 px output shapes, and one step reducing the loss."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from a2.vision.efficientnet import make_divisible
from a2.vision.models import PUBLISHED_PARAMS, REGISTRY, build, count_params
from a2.vision.vit import ViT, ViTConfig, attention_rollout

# Small settings so that a forward/backward pass at 64 px stays fast.
SMALL = {
    "vgg13": dict(width=0.125, hidden=32),
    "resnet18": dict(width=0.125),
    "vit": dict(dim=32, depth=2, heads=2, mlp_dim=64),
    "efficientnet_b0": dict(width_mult=0.25, depth_mult=0.25, stem_stride=2),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED_PARAMS))
def test_canonical_parameter_count(name):
    assert count_params(build(name, canonical=True)) == PUBLISHED_PARAMS[name]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_default_small_setting_output_shape(name):
    model = build(name).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, 64, 64)).shape == (2, 3)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_one_step_reduces_loss(name):
    torch.manual_seed(0)
    model = build(name, **SMALL[name], **({"drop_path": 0.0} if name in {"vit", "efficientnet_b0"} else {}))
    if name == "vgg13":
        model = build(name, **SMALL[name], dropout=0.0)
    x, y = torch.randn(8, 3, 64, 64), torch.arange(8) % 3
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    before = nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    before.backward()
    opt.step()
    with torch.no_grad():
        model.eval()
        after_eval = nn.functional.cross_entropy(model(x), y)
        model.train()
        after = nn.functional.cross_entropy(model(x), y)
    assert after.item() < before.item(), (name, before.item(), after.item(), after_eval.item())


def test_unknown_model_and_bad_configs():
    with pytest.raises(KeyError, match="unknown model"):
        build("alexnet")
    with pytest.raises(ValueError, match="multiple of patch_size"):
        ViT(ViTConfig(image_size=60, patch_size=8))
    with pytest.raises(ValueError, match="power-of-two"):
        ViT(ViTConfig(image_size=60, patch_size=6, stem="conv"))
    with pytest.raises(ValueError, match="stem"):
        build("resnet18", stem="huge")


def test_vit_patch_stem_lsa_and_rollout():
    model = build("vit", dim=32, depth=2, heads=2, mlp_dim=64, stem="patch", lsa=True, pool="mean")
    x = torch.randn(3, 3, 64, 64)
    maps = attention_rollout(model, x)
    assert maps.shape == (3, 8, 8) and torch.allclose(maps.amax(dim=(1, 2)), torch.ones(3))
    assert all(blk.attn.attention is None for blk in model.blocks)  # hooks cleaned up


def test_compound_scaling_changes_size():
    base = count_params(build("efficientnet_b0"))
    assert count_params(build("efficientnet_b0", width_mult=1.1, depth_mult=1.2)) > base  # B1-like
    assert make_divisible(32 * 0.25) == 8 and make_divisible(1280) == 1280


def test_efficientnet_bn_momentum_reaches_every_batchnorm():
    norms = [m for m in build("efficientnet_b0", bn_momentum=0.1).modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and all(m.momentum == 0.1 for m in norms)
    assert all(m.momentum == 0.01 for m in build("efficientnet_b0").modules() if isinstance(m, nn.BatchNorm2d))
