# Generated from part_4_pretrain.ipynb by `make export` (python -m a2.notebooks export): edit the
# notebook's '#@save a2.text.pretrain' cells, not this file; tests/test_exports.py checks they agree.
"""Self-supervised pretraining of the Part IV encoder: masked-token prediction on the training reviews.

Generated from ``part_4_pretrain.ipynb``. BERT's masked-language-model objective (Devlin et al., 2019)
on the token embedding and the ``nn.TransformerEncoder`` of :class:`a2.text.models.TransformerClassifier`:
15% of the tokens are chosen, 80% of those become ``<unk>`` (the mask), 10% a random word and 10% stay,
and the encoder predicts the original word at every chosen position (an adaptive softmax over the
vocabulary). Part IV then starts its classifier from these weights instead of word2vec's alone.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from a2 import runtime
from a2.progress import progress
from a2.text.models import TransformerClassifier, TransformerConfig
from a2.text.preprocess import PAD_ID, UNK_ID, BucketBatches
from a2.training import History, TrainConfig, make_optimizer, make_scheduler

PRETRAINED_PARTS = ("tokens.", "encoder.")  # what the classifier takes from a pretrained bundle
SPECIAL = 2  # ids below this are <pad> and <unk>, never drawn as random replacements


def mask_tokens(ids: torch.Tensor, vocab_size: int, prob: float = 0.15,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's corruption of ``ids (B, L)``: returns the corrupted ids and the boolean mask of chosen tokens."""
    real = ids != PAD_ID
    chosen = (torch.rand(ids.shape, generator=generator) < prob) & real
    how = torch.rand(ids.shape, generator=generator)
    randoms = torch.randint(SPECIAL, vocab_size, ids.shape, generator=generator)
    corrupted = ids.masked_fill(chosen & (how < 0.8), UNK_ID)
    corrupted = torch.where(chosen & (how >= 0.8) & (how < 0.9), randoms, corrupted)
    return corrupted, chosen


class MaskedLanguageModel(nn.Module):
    """The classifier's token embedding and encoder, plus a head that predicts the chosen tokens.

    ``forward(corrupted ids (B, L), chosen (B, L)) -> states (n_chosen, d_model)``; ``self.out`` turns
    them into a loss (``self.out(states, targets).loss``) or log-probabilities over the vocabulary. It is
    an adaptive softmax (Grave et al., 2017): the vocabulary is sorted by frequency, so the 2,000 most
    frequent words (most of the tokens) get a full-width output layer and the rarer ones smaller
    clusters, which makes the 30,000-way prediction several times cheaper on a CPU than a full softmax.
    """

    def __init__(self, cfg: TransformerConfig, embedding: torch.Tensor | None = None,
                 cutoffs: tuple[int, ...] = (2000, 8000)) -> None:
        super().__init__()
        body = TransformerClassifier(cfg, embedding)
        self.cfg, self.tokens, self.encoder = cfg, body.tokens, body.encoder  # the parts Part IV reuses
        self.transform = nn.Sequential(nn.Linear(cfg.d_model, cfg.d_model), nn.GELU(), nn.LayerNorm(cfg.d_model))
        cutoffs = tuple(c for c in cutoffs if c < cfg.vocab_size - 1) or (max(1, cfg.vocab_size // 2),)
        self.out = nn.AdaptiveLogSoftmaxWithLoss(cfg.d_model, cfg.vocab_size, list(cutoffs), div_value=4.0)

    def forward(self, ids: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
        memory = self.encoder(self.tokens(ids), src_key_padding_mask=ids == PAD_ID)
        return self.transform(memory[chosen])

    def encoder_state(self) -> dict[str, torch.Tensor]:
        """The weights the classifier takes over: ``tokens.*`` and ``encoder.*``."""
        return {k: v.detach().cpu().clone() for k, v in self.state_dict().items() if k.startswith(PRETRAINED_PARTS)}


@torch.no_grad()
def masked_accuracy(model: MaskedLanguageModel, seqs: list[np.ndarray], *, prob: float = 0.15,
                    batch_size: int = 128, seed: int = 0, device: torch.device | str = "cpu") -> dict[str, float]:
    """Loss and accuracy of predicting the chosen tokens of ``seqs`` (a fixed corruption per ``seed``)."""
    model.eval()
    gen, loss, correct, n = torch.Generator().manual_seed(seed), 0.0, 0, 0
    for ids, _ in BucketBatches(seqs, np.zeros(len(seqs)), batch_size):
        corrupted, chosen = mask_tokens(ids, model.cfg.vocab_size, prob, gen)
        states = model(corrupted.to(device), chosen.to(device)).float()
        target = ids[chosen].to(device)
        loss += float(model.out(states, target).loss) * len(target)
        correct += int((model.out.predict(states) == target).sum())
        n += len(target)
    return {"mlm_loss": loss / max(n, 1), "mlm_accuracy": correct / max(n, 1)}


def pretrain(model: MaskedLanguageModel, x_train: list[np.ndarray], x_val: list[np.ndarray], cfg: TrainConfig, *,
             prob: float = 0.15, batch_size: int = 64, seed: int = 0,
             device: torch.device | str = "cpu") -> History:
    """Masked-token pretraining of ``model`` in place; validation text only measures it, never trains it."""
    device = torch.device(device)
    arithmetic = runtime.resolve_arithmetic(device, cfg.arithmetic)
    model.to(device)
    loader = BucketBatches(x_train, np.zeros(len(x_train)), batch_size, shuffle=True, seed=seed)
    gen = torch.Generator().manual_seed(seed)
    optimizer = make_optimizer(model, cfg)
    scheduler = make_scheduler(optimizer, cfg, cfg.epochs * len(loader))
    scaler = runtime.grad_scaler(device, arithmetic)
    history, start = History(), time.perf_counter()
    for epoch in progress(range(1, cfg.epochs + 1), desc="epochs", disable=not cfg.progress):
        t0, lr, sums = time.perf_counter(), optimizer.param_groups[0]["lr"], {"loss": 0.0, "n": 0}
        model.train()
        for ids, _ in progress(loader, desc=f"epoch {epoch}", inner=True, disable=not cfg.progress):
            corrupted, chosen = mask_tokens(ids, model.cfg.vocab_size, prob, gen)
            target = ids[chosen].to(device)
            with runtime.autocast(device, arithmetic):
                states = model(corrupted.to(device), chosen.to(device))  # forward pass
            loss = model.out(states.float(), target).loss  # cross-entropy over the vocabulary
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss became {loss.item()} in epoch {epoch}; lower the learning rate")
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()  # backward pass
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip or float("inf"))
            scaler.step(optimizer)  # update
            scaler.update()
            scheduler.step()
            sums["loss"] += loss.item() * len(target)
            sums["n"] += len(target)
        val = masked_accuracy(model, x_val, prob=prob, seed=seed, device=device)
        history.records.append({"epoch": epoch, "lr": lr,
                                "train_mlm_loss": sums["loss"] / sums["n"],
                                **{f"val_{k}": v for k, v in val.items()}, "epoch_s": time.perf_counter() - t0})
    history.train_time_s = time.perf_counter() - start
    history.best_epoch = len(history.records)  # the last epoch is kept: pretraining has no early stopping
    return history
