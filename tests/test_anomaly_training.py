"""The Part II training loop (exported from the notebook): it learns, validates, stops early and keeps the best."""

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from a2.anomaly.models import build_model
from a2.anomaly.training import train, validate
from a2.training import TrainConfig


def sine_loaders(n=96, window=8, seed=0):
    t = torch.arange(n + window, dtype=torch.float32)
    series = torch.stack([torch.sin(2 * torch.pi * t / 8), torch.cos(2 * torch.pi * t / 8)], -1)
    x = series.unfold(0, window, 1).transpose(1, 2)[:n]  # (n, window, 2)
    g = torch.Generator().manual_seed(seed)
    return (DataLoader(TensorDataset(x, x), batch_size=16, shuffle=True, generator=g),
            DataLoader(TensorDataset(x[:32], x[:32]), batch_size=32))


@pytest.mark.parametrize("arithmetic", ["fp32", "bf16", "fp16"])
def test_a_few_epochs_reduce_the_loss_in_every_arithmetic(arithmetic):
    torch.manual_seed(0)
    model = build_model("dense", window=8, n_features=2)
    cfg = TrainConfig(epochs=15, lr=1e-2, arithmetic=arithmetic, progress=False)
    history = train(model, sine_loaders(), cfg, channels=(0,))
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert {"train_loss", "val_loss", "val_value_mse", "lr"} <= set(history.keys())


def test_keeps_the_best_epoch_and_stops_after_patience_epochs_without_improvement():
    torch.manual_seed(0)
    model = build_model("conv1d", window=8, n_features=2)
    data = sine_loaders()
    cfg = TrainConfig(epochs=40, lr=0.5, patience=2, progress=False)  # a huge step size: validation soon stalls
    history = train(model, data, cfg, channels=(0,))
    assert history.stopped_early and len(history) == history.best_epoch + 2
    assert history.best_score == min(history["val_value_mse"])
    again = validate(model, data[1], (0,), torch.device("cpu"))  # the model holds the kept epoch's weights
    assert again["val_value_mse"] == pytest.approx(history.best_score, rel=1e-5)


def test_validation_value_mse_counts_only_the_chosen_channels():
    model = build_model("dense", window=8, n_features=2)
    _, val = sine_loaders()
    both, first = validate(model, val, (0, 1), torch.device("cpu")), validate(model, val, (0,), torch.device("cpu"))
    assert both["val_loss"] == pytest.approx(first["val_loss"])  # the objective always covers every feature
    assert both["val_value_mse"] != pytest.approx(first["val_value_mse"])


def test_epoch_end_values_are_recorded_each_epoch():
    model = build_model("dense", window=8, n_features=2)
    history = train(model, sine_loaders(), TrainConfig(epochs=2, progress=False),
                    epoch_end=lambda m: {"val_f1": 0.5})
    assert history["val_f1"] == [0.5, 0.5]
