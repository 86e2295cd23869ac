# Generated from bonus/vit.ipynb by `make export` (python -m a2.notebooks export): edit the
# notebook's '#@save a2.vision.vit' cells, not this file; tests/test_exports.py checks they agree.
"""Vision Transformer (Dosovitskiy et al., 2021), with optional small-data techniques.

The paper's model: cut the image into PxP patches, embed each linearly, prepend a learnable class
token, add learned position embeddings, run pre-norm encoder blocks (LN -> multi-head
self-attention -> residual, LN -> MLP -> residual), and classify from the final class token.
ViT-B/16 (224 px, 768 wide, 12 blocks, 12 heads, MLP 3072) has 86,567,656 parameters with 1000
classes.

A ViT has no built-in notion of locality or translation equivariance, so on 24k small images it
needs priors back. Three options, each a config switch:

* ``stem="conv"``: a convolutional stem (Xiao et al., 2021, "Early convolutions help transformers
  see better") replaces the one big patchify convolution by stride-2 3x3 convolutions;
* ``lsa=True``: locality self-attention (Lee et al., 2021, "ViT for small-size datasets"): a
  learnable softmax temperature and a mask on each token's attention to itself;
* ``drop_path``: stochastic depth (Huang et al., 2016), a regulariser for deep residual stacks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from a2.vision.layers import DropPath


@dataclass
class ViTConfig:
    num_classes: int = 3
    image_size: int = 64
    patch_size: int = 8
    dim: int = 192
    depth: int = 6
    heads: int = 3
    mlp_dim: int = 384
    dropout: float = 0.0
    drop_path: float = 0.1
    stem: str = "conv"  # "patch": the paper's linear patch embedding; "conv": convolutional stem
    lsa: bool = True  # locality self-attention
    pool: str = "cls"  # "cls" token (paper) or "mean" of the patch tokens

    @classmethod
    def canonical(cls) -> ViTConfig:
        """ViT-B/16 as in the paper."""
        return cls(num_classes=1000, image_size=224, patch_size=16, dim=768, depth=12, heads=12, mlp_dim=3072,
                   drop_path=0.0, stem="patch", lsa=False)


class ConvStem(nn.Module):
    """log2(P) stride-2 3x3 conv-BN-ReLU layers (channels growing to ``dim``), then a 1x1 projection."""

    def __init__(self, patch_size: int, dim: int):
        super().__init__()
        steps = int(math.log2(patch_size))
        if 2**steps != patch_size:
            raise ValueError(f"the conv stem needs a power-of-two patch size, got {patch_size}")
        layers: list[nn.Module] = []
        in_ch = 3
        for i in range(steps):
            out = max(16, dim // 2 ** (steps - 1 - i))
            layers += [nn.Conv2d(in_ch, out, 3, 2, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
            in_ch = out
        layers.append(nn.Conv2d(in_ch, dim, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Attention(nn.Module):
    """Multi-head self-attention; with ``lsa`` the temperature is learned and the diagonal is masked."""

    def __init__(self, dim: int, heads: int, dropout: float = 0.0, lsa: bool = False):
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} is not divisible by heads {heads}")
        self.heads, self.lsa = heads, lsa
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.drop = nn.Dropout(dropout)
        head_dim = dim // heads
        if lsa:
            self.log_scale = nn.Parameter(torch.tensor(math.log(head_dim**-0.5)))
        self.scale = head_dim**-0.5
        self.keep_attention = False
        self.attention: torch.Tensor | None = None  # (B, heads, T, T) when keep_attention

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        scale = self.log_scale.exp() if self.lsa else self.scale
        logits = (q @ k.transpose(-2, -1)) * scale
        if self.lsa:  # a token may not attend to itself, which sharpens attention to its neighbours
            eye = torch.eye(t, dtype=torch.bool, device=x.device)
            logits = logits.masked_fill(eye, torch.finfo(logits.dtype).min)
        attn = logits.softmax(dim=-1)
        if self.keep_attention:
            self.attention = attn.detach()
        out = (self.drop(attn) @ v).transpose(1, 2).reshape(b, t, d)
        return self.drop(self.proj(out))


class Block(nn.Module):
    """Pre-norm encoder block: x + MSA(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, cfg: ViTConfig, drop_path: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.dim, eps=1e-6)
        self.attn = Attention(cfg.dim, cfg.heads, cfg.dropout, cfg.lsa)
        self.norm2 = nn.LayerNorm(cfg.dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(cfg.dim, cfg.mlp_dim), nn.GELU(), nn.Dropout(cfg.dropout),
                                 nn.Linear(cfg.mlp_dim, cfg.dim), nn.Dropout(cfg.dropout))
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class ViT(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
        if cfg.image_size % cfg.patch_size:
            raise ValueError(f"image_size {cfg.image_size} is not a multiple of patch_size {cfg.patch_size}")
        if cfg.stem not in {"patch", "conv"} or cfg.pool not in {"cls", "mean"}:
            raise ValueError(f"stem must be 'patch' or 'conv' and pool 'cls' or 'mean', got {cfg.stem!r}, {cfg.pool!r}")
        self.cfg = cfg
        if cfg.stem == "patch":  # a PxP stride-P conv is exactly "flatten each patch, then a linear map"
            self.embed: nn.Module = nn.Conv2d(3, cfg.dim, cfg.patch_size, cfg.patch_size)
        else:
            self.embed = ConvStem(cfg.patch_size, cfg.dim)
        self.grid = cfg.image_size // cfg.patch_size
        self.cls_token = nn.Parameter(torch.zeros(1, 1, cfg.dim))
        self.pos_embed = nn.Parameter(torch.randn(1, self.grid**2 + 1, cfg.dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(cfg, cfg.drop_path * i / max(1, cfg.depth - 1)) for i in range(cfg.depth)])
        self.norm = nn.LayerNorm(cfg.dim, eps=1e-6)
        self.head = nn.Linear(cfg.dim, cfg.num_classes)
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.embed(x).flatten(2).transpose(1, 2)  # (B, N, dim)
        if tokens.shape[1] != self.grid**2:
            raise ValueError(f"expected {self.cfg.image_size}px images, got {tuple(x.shape[-2:])}")
        tokens = torch.cat([self.cls_token.expand(len(x), -1, -1), tokens], dim=1) + self.pos_embed
        out = self.norm(self.blocks(tokens))
        return self.head(out[:, 0] if self.cfg.pool == "cls" else out[:, 1:].mean(dim=1))


@torch.no_grad()
def attention_rollout(model: ViT, x: torch.Tensor) -> torch.Tensor:
    """Attention rollout (Abnar & Zuidema, 2020): class-token attention to each patch, ``(B, grid, grid)``.

    Head-averaged attention plus the identity (for the residual path), renormalised and multiplied
    through the layers. With LSA the masked diagonal is exactly what the identity adds back.
    """
    attns = [blk.attn for blk in model.blocks]
    for a in attns:
        a.keep_attention = True
    was_training = model.training
    model.eval()
    try:
        model(x)
        t = attns[0].attention.shape[-1]
        rollout = torch.eye(t, device=x.device).expand(len(x), t, t)
        for a in attns:
            att = a.attention.float().mean(dim=1) + torch.eye(t, device=x.device)
            rollout = (att / att.sum(dim=-1, keepdim=True)) @ rollout
    finally:
        for a in attns:
            a.keep_attention, a.attention = False, None
        model.train(was_training)
    cls_to_patches = rollout[:, 0, 1:]
    cls_to_patches = cls_to_patches / cls_to_patches.amax(dim=1, keepdim=True)
    return cls_to_patches.reshape(len(x), model.grid, model.grid)
