"""A model's layers and sizes as one short line, for results files and the report.

``layer_summary(model)`` walks the module tree and writes each layer that holds weights with its sizes
(``Linear 192→64``, ``Conv1d 4→16 k5 s2``, ``LSTM 4→32``) and each activation by name, grouping the layers
under the model's top-level children (``encoder: ...; decoder: ...``). A notebook stores it in its results
(``"layers": layer_summary(model)``) so the report lists the layer sizes of the model that actually ran,
never sizes typed by hand.
"""

from __future__ import annotations

from torch import nn

_ACTIVATIONS = (nn.ReLU, nn.GELU, nn.Sigmoid, nn.Tanh, nn.SiLU, nn.LeakyReLU, nn.ELU, nn.Softplus)


def _conv(layer: nn.Module, arrow: str) -> str:
    k, s = layer.kernel_size[0], layer.stride[0]
    extra = (f" k{k}" if k != 1 else "") + (f" s{s}" if s != 1 else "")
    return f"{type(layer).__name__} {layer.in_channels}{arrow}{layer.out_channels}{extra}"


def describe(layer: nn.Module, arrow: str = "→") -> str | None:
    """One layer in words, or None for layers without sizes that say nothing about the shape (dropout, ...)."""
    if isinstance(layer, nn.Linear):
        return f"Linear {layer.in_features}{arrow}{layer.out_features}"
    if isinstance(layer, (nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d)):
        return _conv(layer, arrow)
    if isinstance(layer, (nn.LSTM, nn.GRU, nn.RNN)):
        layers = f" ×{layer.num_layers}" if layer.num_layers > 1 else ""
        return f"{type(layer).__name__} {layer.input_size}{arrow}{layer.hidden_size}{layers}"
    if isinstance(layer, (nn.LayerNorm, nn.BatchNorm1d, nn.BatchNorm2d)):
        shape = layer.normalized_shape[0] if isinstance(layer, nn.LayerNorm) else layer.num_features
        return f"{type(layer).__name__} {shape}"
    if isinstance(layer, nn.Embedding):
        return f"Embedding {layer.num_embeddings}×{layer.embedding_dim}"
    if isinstance(layer, _ACTIVATIONS):
        return type(layer).__name__
    return None


def _leaves(module: nn.Module, arrow: str) -> list[str]:
    children = list(module.children())
    if not children or isinstance(module, (nn.LSTM, nn.GRU, nn.RNN)):
        text = describe(module, arrow)
        return [text] if text else []
    return [text for child in children for text in _leaves(child, arrow)]


def layer_summary(model: nn.Module, arrow: str = "→") -> str:
    """``"encoder: Linear 192→64, ReLU, Linear 64→8; decoder: ..."`` (top-level children that hold layers)."""
    parts = []
    for name, child in model.named_children():
        texts = _leaves(child, arrow)
        if texts:
            parts.append(f"{name}: {', '.join(texts)}")
    if not parts:
        own = describe(model, arrow)
        return own or type(model).__name__
    return "; ".join(parts)
