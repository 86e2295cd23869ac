# Generated from part_2_autoencoder.ipynb by `make export` (python -m a2.notebooks export): edit the
# notebook's '#@save a2.anomaly.models' cells, not this file; tests/test_exports.py checks they agree.
"""Autoencoders for multivariate time-series windows: dense, Conv1D, LSTM and a small dense VAE.

Every model maps a batch of windows ``(batch, window, features)`` to a reconstruction of the same
shape, so they are interchangeable in the training loop and the scoring code; ``model.loss(output,
target)`` is the objective it is trained on. Each has a small ``@dataclass`` config extending
:class:`WindowConfig` (``window``, ``n_features`` and the optional output range); :func:`build_model`
makes one from a registry name, and :func:`load_model` rebuilds one from a saved ``{"name", "config",
"state_dict"}`` payload.

The anomaly score is the reconstruction error: the models only see normal data during training,
so windows they reconstruct badly are the unusual ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


def _check_input(x: torch.Tensor, window: int, n_features: int, name: str) -> None:
    if x.ndim != 3 or x.shape[1] != window or x.shape[2] != n_features:
        raise ValueError(
            f"{name} expects input of shape (batch, window={window}, features={n_features}), got {tuple(x.shape)}; "
            "build the model with the window length and feature count of your data"
        )


@dataclass
class WindowConfig:
    """What every model's config shares: the window shape, and the optional bounded output."""

    window: int = 48
    n_features: int = 1
    out_low: tuple[float, ...] = ()  # per-feature output range (scaled units); () = unbounded
    out_high: tuple[float, ...] = ()


class Autoencoder(nn.Module):
    """Common base: shape checks, parameter count, the bounded output, and the training objective.

    **Bounded output.** With ``out_low``/``out_high`` set in its config (one value per feature, in
    scaled units), a model squashes its reconstruction into that range with a sigmoid, like the
    sigmoid output layer of Part I's autoencoder on [0, 1]-scaled data. Set to the range of the
    normal training rows (plus a margin), it cannot reconstruct a level never seen in training, so
    such a level keeps a large error however well the model learned to copy shapes.
    """

    cfg: WindowConfig

    def bound(self, out: torch.Tensor) -> torch.Tensor:
        """``out`` squashed into ``[out_low, out_high]`` per feature; unchanged when no range is set."""
        low, high = self.cfg.out_low, self.cfg.out_high
        if not low:
            return out
        if len(low) != out.shape[-1] or len(high) != out.shape[-1]:
            raise ValueError(f"out_low/out_high need one value per feature ({out.shape[-1]}), "
                             f"got {len(low)} and {len(high)}; use output_range() on the training features")
        low_t, high_t = out.new_tensor(low), out.new_tensor(high)
        return low_t + (high_t - low_t) * torch.sigmoid(out)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The training objective: MSE over every feature of the window, in fp32 whatever the arithmetic."""
        return F.mse_loss(output.float(), target.float())


@dataclass
class DenseAEConfig(WindowConfig):
    hidden: tuple[int, ...] = (64, 32)  # encoder widths; the decoder mirrors them
    latent: int = 8
    dropout: float = 0.0


def _mlp(sizes: list[int], dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:  # no activation on the last layer: latent codes and outputs are unbounded
            layers += [nn.ReLU(), nn.Dropout(dropout)] if dropout else [nn.ReLU()]
    return nn.Sequential(*layers)


class DenseAE(Autoencoder):
    """MLP on the flattened window: sees every (time, feature) pair at once, no notion of order."""

    def __init__(self, cfg: DenseAEConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.window * cfg.n_features
        self.encoder = _mlp([d, *cfg.hidden, cfg.latent], cfg.dropout)
        self.decoder = _mlp([cfg.latent, *reversed(cfg.hidden), d], cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.cfg.window, self.cfg.n_features, type(self).__name__)
        z = self.encoder(x.flatten(1))
        return self.bound(self.decoder(z).view_as(x))


@dataclass
class ConvAEConfig(WindowConfig):
    channels: tuple[int, ...] = (16, 32)  # one stride-2 block per entry: the time axis halves each time
    kernel_size: int = 5
    latent_channels: int = 4  # 1x1 bottleneck width, keeps the code small (window/2^k x latent_channels)


class ConvAE(Autoencoder):
    """Local shape detector: shared filters slide along time, so it learns the cycle's motifs."""

    def __init__(self, cfg: ConvAEConfig):
        super().__init__()
        if cfg.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd so that padding keeps lengths aligned, got {cfg.kernel_size}")
        self.cfg = cfg
        k, p = cfg.kernel_size, cfg.kernel_size // 2
        enc: list[nn.Module] = []
        c_in = cfg.n_features
        for c in cfg.channels:
            enc += [nn.Conv1d(c_in, c, k, stride=2, padding=p), nn.ReLU()]
            c_in = c
        enc.append(nn.Conv1d(c_in, cfg.latent_channels, 1))
        self.encoder = nn.Sequential(*enc)
        dec: list[nn.Module] = [nn.Conv1d(cfg.latent_channels, c_in, 1), nn.ReLU()]
        outs = [*reversed(cfg.channels[:-1]), cfg.n_features]
        for i, c in enumerate(outs):
            dec.append(nn.ConvTranspose1d(c_in, c, k, stride=2, padding=p, output_padding=1))
            if i < len(outs) - 1:  # the output layer stays linear
                dec.append(nn.ReLU())
            c_in = c
        self.decoder = nn.Sequential(*dec)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.cfg.window, self.cfg.n_features, type(self).__name__)
        h = self.decoder(self.encoder(x.transpose(1, 2)))  # (batch, features, >= window)
        return self.bound(h[..., : self.cfg.window].transpose(1, 2))  # each stride-2 block rounds up: crop back


@dataclass
class LSTMAEConfig(WindowConfig):
    hidden: int = 32
    latent: int = 16
    num_layers: int = 1


class LSTMAE(Autoencoder):
    """Sequence-to-sequence AE (Srivastava et al. 2015 style): order matters, long context."""

    def __init__(self, cfg: LSTMAEConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = nn.LSTM(cfg.n_features, cfg.hidden, cfg.num_layers, batch_first=True)
        self.to_latent = nn.Linear(cfg.hidden, cfg.latent)
        self.decoder = nn.LSTM(cfg.latent, cfg.hidden, cfg.num_layers, batch_first=True)
        self.head = nn.Linear(cfg.hidden, cfg.n_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.cfg.window, self.cfg.n_features, type(self).__name__)
        _, (h, _) = self.encoder(x)
        z = self.to_latent(h[-1])  # last layer's final state summarises the window
        out, _ = self.decoder(z.unsqueeze(1).expand(-1, self.cfg.window, -1))
        return self.bound(self.head(out))


@dataclass
class DenseVAEConfig(WindowConfig):
    hidden: tuple[int, ...] = (64, 32)
    latent: int = 8
    beta: float = 1e-3  # KL weight per latent unit relative to the per-value MSE


class DenseVAE(Autoencoder):
    """Variational AE: samples the code while training, uses its mean at evaluation (deterministic)."""

    def __init__(self, cfg: DenseVAEConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.window * cfg.n_features
        self.encoder = nn.Sequential(_mlp([d, *cfg.hidden], 0.0), nn.ReLU())
        self.mu = nn.Linear(cfg.hidden[-1], cfg.latent)
        self.logvar = nn.Linear(cfg.hidden[-1], cfg.latent)
        self.decoder = _mlp([cfg.latent, *reversed(cfg.hidden), d], 0.0)
        self._kl = torch.zeros(())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.cfg.window, self.cfg.n_features, type(self).__name__)
        h = self.encoder(x.flatten(1))
        mu, logvar = self.mu(h), self.logvar(h).clamp(-10, 10)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if self.training else mu
        self._kl = -0.5 * (1 + logvar.float() - mu.float().pow(2) - logvar.float().exp()).sum(1).mean()
        return self.bound(self.decoder(z).view_as(x))

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """MSE plus ``beta`` times the KL divergence of the code of the last forward pass from N(0, I)."""
        return super().loss(output, target) + self.cfg.beta * self._kl


class MeanBaseline(nn.Module):
    """Reference "autoencoder" that always outputs the training mean (zeros after scaling).

    Its score is the squared standardised deviation from the normal level, averaged like the real
    models' scores; an autoencoder is only worth its training if it beats this.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)


MODELS: dict[str, type[Autoencoder]] = {"dense": DenseAE, "conv1d": ConvAE, "lstm": LSTMAE, "vae": DenseVAE}
CONFIGS: dict[str, type[WindowConfig]] = {"dense": DenseAEConfig, "conv1d": ConvAEConfig, "lstm": LSTMAEConfig,
                                          "vae": DenseVAEConfig}


def make_config(name: str, **overrides: Any) -> WindowConfig:
    """The config of model ``name`` with ``overrides`` (unknown fields are an error, not ignored)."""
    if name not in CONFIGS:
        raise KeyError(f"unknown model {name!r}; choose from {sorted(CONFIGS)}")
    cls = CONFIGS[name]
    known = {f.name for f in fields(cls)}
    unknown = set(overrides) - known
    if unknown:
        raise TypeError(f"{cls.__name__} has no field(s) {sorted(unknown)}; fields are {sorted(known)}")
    # Lists from JSON/weights files become tuples again so configs compare equal after a round trip.
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()})


def output_range(x: Any, margin: float = 0.1) -> dict[str, tuple[float, ...]]:
    """``{"out_low", "out_high"}`` for a model config: per-feature min/max of ``x`` (rows, features), widened
    by ``margin`` times the range on each side. Pass *normal training* rows only, so that the range is
    what the model may learn to reproduce."""
    x = torch.as_tensor(x, dtype=torch.float32)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"output_range needs a non-empty (rows, features) array, got shape {tuple(x.shape)}")
    low, high = x.min(0).values, x.max(0).values
    pad = margin * (high - low).clamp_min(1e-6)
    return {"out_low": tuple((low - pad).tolist()), "out_high": tuple((high + pad).tolist())}


def build_model(name: str, cfg: Any = None, **overrides: Any) -> Autoencoder:
    """``build_model("lstm", window=48, n_features=4)`` or ``build_model("lstm", LSTMAEConfig(...))``."""
    if cfg is None:
        cfg = make_config(name, **overrides)
    elif overrides:
        cfg = make_config(name, **{**asdict(cfg), **overrides})
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; choose from {sorted(MODELS)}")
    if not isinstance(cfg, CONFIGS[name]):
        raise TypeError(f"model {name!r} needs a {CONFIGS[name].__name__}, got {type(cfg).__name__}")
    return MODELS[name](cfg)


def model_payload(name: str, model: Autoencoder) -> dict[str, Any]:
    """What to save: plain types only, so ``torch.load(..., weights_only=True)`` can read it."""
    cfg = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(model.cfg).items()}
    return {"name": name, "config": cfg, "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}


def load_model(payload: Mapping[str, Any]) -> Autoencoder:
    """Inverse of :func:`model_payload` (also accepts a loaded weights file with extra keys)."""
    model = build_model(payload["name"], **payload["config"])
    model.load_state_dict(payload["state_dict"])
    return model.eval()


__all__ = [
    "CONFIGS", "MODELS", "Autoencoder", "ConvAE", "ConvAEConfig", "DenseAE", "DenseAEConfig", "DenseVAE",
    "DenseVAEConfig", "LSTMAE", "LSTMAEConfig", "MeanBaseline", "build_model", "load_model", "make_config",
    "model_payload", "output_range",
]
