"""Executable versions of the equations in ``part1_part3_theory.pdf``, so the tests keep the PDF true.

Part I: the 1000-512-32-512-1000 autoencoder, its per-layer parameter count and its L2-regularised
loss and update rule. Part III: self-attention written exactly as in the PDF, in the row-vector
convention ``Q = X W_q + 1 b_q^T`` (``X`` is ``(n, d_model)``, ``W_q`` is ``(d_model, d_k)``). Note that
``nn.Linear`` stores the transpose, ``(out, in)``; :func:`weights_from_mha` converts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

# ----------------------------------------------------------------------------- Part I: autoencoder


@dataclass
class TheoryAEConfig:
    """Layer widths of the Part I autoencoder (input, hidden, bottleneck)."""

    n_in: int = 1000
    hidden: int = 512
    code: int = 32


class TheoryAutoencoder(nn.Module):
    """1000 -> 512 (ReLU) -> 32 -> 512 (ReLU) -> 1000 (sigmoid); the bottleneck is linear."""

    def __init__(self, config: TheoryAEConfig | None = None) -> None:
        super().__init__()
        c = config or TheoryAEConfig()
        self.config = c
        self.enc1 = nn.Linear(c.n_in, c.hidden)
        self.enc2 = nn.Linear(c.hidden, c.code)
        self.dec1 = nn.Linear(c.code, c.hidden)
        self.dec2 = nn.Linear(c.hidden, c.n_in)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.config.n_in:
            raise ValueError(f"expected inputs with {self.config.n_in} features, got shape {tuple(x.shape)}")
        return self.enc2(F.relu(self.enc1(x)))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.dec2(F.relu(self.dec1(z))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


@dataclass(frozen=True)
class LayerCount:
    """One row of the parameter table: ``weights = n_in * n_out`` and ``biases = n_out``."""

    name: str
    n_in: int
    n_out: int
    weights: int
    biases: int

    @property
    def total(self) -> int:
        return self.weights + self.biases


def parameter_table(model: nn.Module) -> list[LayerCount]:
    """Weights and biases of every ``nn.Linear`` in ``model``, in definition order."""
    rows = [
        LayerCount(name, m.in_features, m.out_features, m.weight.numel(), 0 if m.bias is None else m.bias.numel())
        for name, m in model.named_modules()
        if isinstance(m, nn.Linear)
    ]
    if not rows:
        raise ValueError(f"{type(model).__name__} has no nn.Linear layers to count")
    return rows


def weight_matrices(model: nn.Module) -> list[torch.Tensor]:
    """The matrices the L2 term penalises: the weights of each linear layer, never the biases."""
    return [m.weight for m in model.modules() if isinstance(m, nn.Linear)]


def l2_penalty(model: nn.Module) -> torch.Tensor:
    """``sum_l ||W_l||_F^2`` over the weight matrices only."""
    return sum(w.pow(2).sum() for w in weight_matrices(model))  # type: ignore[return-value]


def regularised_loss(model: nn.Module, x: torch.Tensor, lam: float) -> torch.Tensor:
    """``L = MSE(x, x_hat) + lam * sum ||W||^2`` as in Eq. (L2) of the PDF."""
    if lam < 0:
        raise ValueError(f"lam must be >= 0, got {lam}")
    return F.mse_loss(model(x), x) + lam * l2_penalty(model)


@torch.no_grad()
def sgd_step_weight_decay(model: nn.Module, mse_grads: dict[str, torch.Tensor], lr: float, lam: float) -> None:
    """``W <- W - lr (dL_MSE/dW + 2 lam W)`` for weights, ``b <- b - lr dL_MSE/db`` for biases."""
    for name, p in model.named_parameters():
        decay = 2 * lam * p if name.endswith("weight") else 0.0
        p -= lr * (mse_grads[name] + decay)


# ----------------------------------------------------------------------------- Part III: attention


@dataclass
class AttentionWeights:
    """Projections in the PDF's convention: ``W_*`` is ``(d_model, d)``, ``b_*`` is ``(d,)``."""

    W_q: torch.Tensor
    b_q: torch.Tensor
    W_k: torch.Tensor
    b_k: torch.Tensor
    W_v: torch.Tensor
    b_v: torch.Tensor
    W_o: torch.Tensor | None = None  # (h * d_v, d_model); None skips the output transformation
    b_o: torch.Tensor | None = None


def self_attention(X: torch.Tensor, w: AttentionWeights, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Single-head self-attention, Eqs. (Q/K/V)-(out) of the PDF.

    ``X``: ``(n, d_model)`` or ``(batch, n, d_model)``. ``mask``: boolean ``(n, n)``, True = may attend.
    Returns ``(…, n, d_model)`` with the output transformation, ``(…, n, d_v)`` without.
    """
    Q = X @ w.W_q + w.b_q  # (n, d_k)
    K = X @ w.W_k + w.b_k  # (n, d_k)
    V = X @ w.W_v + w.b_v  # (n, d_v)
    d_k = Q.shape[-1]
    S = Q @ K.transpose(-2, -1) / math.sqrt(d_k)  # (n, n) scaled scores
    if mask is not None:
        S = S.masked_fill(~mask, float("-inf"))
    A = torch.softmax(S, dim=-1)  # (n, n), each row sums to 1
    H = A @ V  # (n, d_v)
    if w.W_o is None:
        return H
    return H @ w.W_o + (w.b_o if w.b_o is not None else 0.0)  # (n, d_model)


def multi_head_attention(X: torch.Tensor, w: AttentionWeights, n_heads: int) -> torch.Tensor:
    """``h`` heads: split the columns of ``W_q, W_k, W_v`` into ``h`` blocks, attend, concatenate, ``W_o``."""
    d = w.W_q.shape[1]
    if d % n_heads:
        raise ValueError(f"projection width {d} is not divisible by n_heads={n_heads}")
    step = d // n_heads
    heads = []
    for i in range(n_heads):
        cols = slice(i * step, (i + 1) * step)
        head = AttentionWeights(w.W_q[:, cols], w.b_q[cols], w.W_k[:, cols], w.b_k[cols], w.W_v[:, cols], w.b_v[cols])
        heads.append(self_attention(X, head))
    H = torch.cat(heads, dim=-1)  # (n, h * d_v)
    return H if w.W_o is None else H @ w.W_o + (w.b_o if w.b_o is not None else 0.0)


def weights_from_mha(mha: nn.MultiheadAttention) -> AttentionWeights:
    """Copy ``in_proj``/``out_proj`` of a torch ``MultiheadAttention`` into the PDF's convention."""
    if mha.in_proj_weight is None:
        raise ValueError("MultiheadAttention with kdim/vdim != embed_dim has no packed in_proj_weight")
    d = mha.embed_dim
    Wq, Wk, Wv = mha.in_proj_weight.detach().split(d)  # each (d_out, d_in) as nn.Linear stores it
    bias = mha.in_proj_bias.detach() if mha.in_proj_bias is not None else torch.zeros(3 * d)
    bq, bk, bv = bias.split(d)
    out_b = mha.out_proj.bias.detach() if mha.out_proj.bias is not None else None
    return AttentionWeights(Wq.T, bq, Wk.T, bk, Wv.T, bv, mha.out_proj.weight.detach().T, out_b)
