# Generated from part_4_transformer.ipynb by `make export` (python -m a2.notebooks export): edit the
# notebook's '#@save a2.text.models' cells, not this file; tests/test_exports.py checks they agree.
"""Encoder-decoder Transformer classifier, assembled from ``torch.nn`` Transformer layers.

Generated from ``part_4_transformer.ipynb``: the notebook's cells are the definition; this module is
their copy for ``python -m a2.text.predict`` and the unit tests. The headline model reads tokens
only; ``nb_channels > 0`` adds the naive-Bayes input of the named variant "Transformer with a
naive-Bayes input channel", never part of the headline model.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from a2.text.preprocess import PAD_ID, UNK_ID


@dataclass
class TransformerConfig:
    vocab_size: int = 30_000
    d_model: int = 96
    n_heads: int = 4
    n_encoder_layers: int = 2
    n_decoder_layers: int = 2
    d_ff: int = 192
    n_queries: int = 1
    n_classes: int = 2
    max_len: int = 512
    dropout: float = 0.1  # residual and feed-forward dropout in every layer
    emb_dropout: float = 0.1
    attn_dropout: float = 0.0  # > 0 forces PyTorch's slow "math" attention kernel on CPU
    word_dropout: float = 0.0  # share of input tokens replaced by <unk> while training
    bigram_buckets: int = 0  # size of the hashed-bigram table; 0 = no bigram embeddings
    mean_pool: bool = False  # head sees [last query ; masked mean of the memory]
    nb_channels: int = 0  # naive-Bayes features per token (0 = none: the headline model)

    def to_dict(self) -> dict:
        return asdict(self)


BIGRAM_PRIME = 1_000_003  # the bigram hash, shared with a2.text.nb_features


def bigram_ids(ids: torch.Tensor, buckets: int) -> torch.Tensor:
    """Hash each (previous token, token) pair of ``ids (B, L)`` into ``[1, buckets)``; 0 where there is none."""
    prev = torch.nn.functional.pad(ids[:, :-1], (1, 0), value=PAD_ID)
    hashed = (prev * BIGRAM_PRIME + ids) % (buckets - 1) + 1
    return hashed.masked_fill((prev == PAD_ID) | (ids == PAD_ID), 0)


def sinusoidal_positions(max_len: int, d_model: int) -> torch.Tensor:
    """The fixed sine/cosine table of Vaswani et al. (2017): ``(max_len, d_model)``."""
    pos = torch.arange(max_len, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10_000.0) / d_model))
    table = torch.zeros(max_len, d_model)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq[: d_model // 2])
    return table


class TokenEmbedding(nn.Module):
    """``ids (B, L)`` -> ``(B, L, d_model)``; the variant's naive-Bayes input ``nb (B, L, c)`` is added here."""

    def __init__(self, cfg: TransformerConfig, embedding: torch.Tensor | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model, padding_idx=PAD_ID)
        if embedding is not None:
            if tuple(embedding.shape) != (cfg.vocab_size, cfg.d_model):
                raise ValueError(f"embedding has shape {tuple(embedding.shape)}, "
                                 f"expected {(cfg.vocab_size, cfg.d_model)}")
            with torch.no_grad():
                self.embed.weight.copy_(embedding)
        self.bigrams = nn.Embedding(cfg.bigram_buckets, cfg.d_model, padding_idx=0) if cfg.bigram_buckets else None
        if self.bigrams is not None:
            nn.init.normal_(self.bigrams.weight, std=0.1)  # a small correction on top of the word vectors
            with torch.no_grad():
                self.bigrams.weight[0] = 0.0
        self.nb_proj = nn.Linear(cfg.nb_channels, cfg.d_model) if cfg.nb_channels else None
        self.register_buffer("positions", sinusoidal_positions(cfg.max_len, cfg.d_model), persistent=False)
        self.drop = nn.Dropout(cfg.emb_dropout)

    def forward(self, ids: torch.Tensor, nb: torch.Tensor | None = None) -> torch.Tensor:
        pad = ids == PAD_ID
        if self.training and self.cfg.word_dropout > 0:
            drop = torch.rand(ids.shape, device=ids.device) < self.cfg.word_dropout
            ids = ids.masked_fill(drop & ~pad, UNK_ID)
        x = self.embed(ids) + self.positions[: ids.shape[1]]
        if self.bigrams is not None:
            x = x + self.bigrams(bigram_ids(ids, self.cfg.bigram_buckets))
        if self.nb_proj is not None:
            if nb is None or nb.shape != (*ids.shape, self.cfg.nb_channels):
                got = None if nb is None else tuple(nb.shape)
                raise ValueError(f"nb must be {(*ids.shape, self.cfg.nb_channels)}, got {got}")
            x = x + self.nb_proj(nb)
        return self.drop(x)


class TransformerClassifier(nn.Module):
    """``forward(ids (B, L) with PAD_ID padding[, nb]) -> logits (B, n_classes)``.

    ``forward`` is ``classify(ids, tokens(ids, nb))``: the two halves are public so that adversarial training
    can perturb the embedded review in between.
    """

    def __init__(self, cfg: TransformerConfig, embedding: torch.Tensor | None = None) -> None:
        super().__init__()
        if cfg.d_model % cfg.n_heads:
            raise ValueError(f"d_model={cfg.d_model} must be divisible by n_heads={cfg.n_heads}")
        self.cfg = cfg
        self.tokens = TokenEmbedding(cfg, embedding)
        enc_layer = nn.TransformerEncoderLayer(cfg.d_model, cfg.n_heads, cfg.d_ff, cfg.dropout,
                                               batch_first=True, norm_first=True)
        enc_layer.self_attn.dropout = cfg.attn_dropout  # copied into each of the N layers below
        # enable_nested_tensor=False: the same (padded, masked) path in train and eval mode
        self.encoder = nn.TransformerEncoder(enc_layer, cfg.n_encoder_layers, norm=nn.LayerNorm(cfg.d_model),
                                             enable_nested_tensor=False)
        dec_layer = nn.TransformerDecoderLayer(cfg.d_model, cfg.n_heads, cfg.d_ff, cfg.dropout,
                                               batch_first=True, norm_first=True)
        dec_layer.self_attn.dropout = dec_layer.multihead_attn.dropout = cfg.attn_dropout
        self.decoder = nn.TransformerDecoder(dec_layer, cfg.n_decoder_layers, norm=nn.LayerNorm(cfg.d_model))
        self.queries = nn.Parameter(torch.randn(cfg.n_queries, cfg.d_model) * 0.02)
        self.register_buffer("causal_mask", nn.Transformer.generate_square_subsequent_mask(cfg.n_queries),
                             persistent=False)
        self.head = nn.Linear(cfg.d_model * (2 if cfg.mean_pool else 1), cfg.n_classes)

    def forward(self, ids: torch.Tensor, nb: torch.Tensor | None = None) -> torch.Tensor:
        if ids.ndim != 2:
            raise ValueError(f"ids must be (batch, length), got shape {tuple(ids.shape)}")
        if ids.shape[1] > self.cfg.max_len:
            raise ValueError(f"sequence length {ids.shape[1]} exceeds max_len={self.cfg.max_len}; truncate first")
        if (nb is None) != (self.tokens.nb_proj is None):
            raise ValueError(f"this model takes {'a' if self.tokens.nb_proj is not None else 'no'} naive-Bayes "
                             f"input (nb_channels={self.cfg.nb_channels})")
        return self.classify(ids, self.tokens(ids, nb))

    def classify(self, ids: torch.Tensor, embedded: torch.Tensor) -> torch.Tensor:
        """Logits from the embedded review ``(B, L, d_model)``; ``ids`` only give the padding mask."""
        pad = ids == PAD_ID  # True = ignore, as nn.MultiheadAttention expects
        memory = self.encoder(embedded, src_key_padding_mask=pad)
        queries = self.queries.expand(ids.shape[0], -1, -1)
        out = self.decoder(queries, memory, tgt_mask=self.causal_mask, tgt_is_causal=True,
                           memory_key_padding_mask=pad)[:, -1]
        if self.cfg.mean_pool:
            keep = (~pad).unsqueeze(-1).to(memory.dtype)
            out = torch.cat([out, (memory * keep).sum(1) / keep.sum(1).clamp_min(1.0)], dim=-1)
        return self.head(out)
