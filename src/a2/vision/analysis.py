"""Looking inside a trained model: its most confident test mistakes and, for the ViT, where it attends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from a2.vision.experiment import predict
from a2.vision.images import ImageData, IndexSplit, Preprocess
from a2.vision.vit import attention_rollout


def misclassified(model: nn.Module, data: ImageData, split: IndexSplit, preprocess: Preprocess, device: Any,
                  limit: int = 16, arithmetic: str = "fp32") -> tuple[np.ndarray, list[str]]:
    """Indices (into ``data``) of up to ``limit`` wrongly classified test images, with 'true -> pred (p)' titles.

    The most confident mistakes come first: they show what the model gets systematically wrong.
    ``arithmetic`` should be the one the model was evaluated in, so that the mistakes are the same ones.
    """
    probs = predict(model, data.images[split.test], preprocess, device, arithmetic)
    pred = probs.argmax(1)
    truth = data.labels[split.test]
    wrong = torch.nonzero(pred != truth).flatten()
    wrong = wrong[probs[wrong, pred[wrong]].argsort(descending=True)][:limit]
    titles = [f"{data.classes[truth[i]]} -> {data.classes[pred[i]]} ({probs[i, pred[i]]:.0%})" for i in wrong.tolist()]
    return split.test[wrong.numpy()], titles


def attention_maps(model: nn.Module, images: torch.Tensor, preprocess: Preprocess, device: Any,
                   rollout: Callable[[nn.Module, torch.Tensor], torch.Tensor] = attention_rollout) -> torch.Tensor:
    """ViT attention ``rollout`` ``(N, grid, grid)`` for uint8 images, preprocessed as for evaluation.

    A notebook passes its own ``attention_rollout`` cell, which fits the ViT class defined beside it.
    """
    preprocess.eval().to(device)
    return rollout(model.to(device), preprocess(images.to(device))).cpu()
