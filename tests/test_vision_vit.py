"""ViT: config checks, patch and conv stems, LSA, and attention rollout."""

from __future__ import annotations

import pytest
import torch

from a2.vision.vit import Attention, ViT, ViTConfig, attention_rollout

TINY = dict(dim=32, depth=2, heads=2, mlp_dim=64)


def test_bad_configs_are_named():
    with pytest.raises(ValueError, match="multiple of patch_size"):
        ViT(ViTConfig(image_size=60, patch_size=8))
    with pytest.raises(ValueError, match="power-of-two"):
        ViT(ViTConfig(image_size=60, patch_size=6, stem="conv"))
    with pytest.raises(ValueError, match="divisible"):
        Attention(30, 4)


def test_wrong_image_size_is_refused():
    model = ViT(ViTConfig(**TINY)).eval()
    with pytest.raises(ValueError, match="64px"):
        model(torch.randn(1, 3, 32, 32))


def test_lsa_masks_attention_to_self():
    attn = Attention(16, 2, lsa=True).eval()
    attn.keep_attention = True
    attn(torch.randn(1, 5, 16))
    assert torch.allclose(attn.attention.diagonal(dim1=-2, dim2=-1), torch.zeros(1, 2, 5))


def test_patch_stem_mean_pool_and_rollout():
    model = ViT(ViTConfig(**TINY, stem="patch", lsa=True, pool="mean"))
    maps = attention_rollout(model, torch.randn(3, 3, 64, 64))
    assert maps.shape == (3, 8, 8) and torch.allclose(maps.amax(dim=(1, 2)), torch.ones(3))
    assert all(blk.attn.attention is None for blk in model.blocks)  # hooks cleaned up
    assert model.training  # rollout restores the mode it found
