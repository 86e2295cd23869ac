import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from a2 import runtime
from a2.evaluation import accuracy
from a2.training import (
    EarlyStopping,
    History,
    TrainConfig,
    fit,
    make_ema,
    make_optimizer,
    measure_step_seconds,
    optimizer_step,
    timed_steps,
)


def toy_loaders(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long()
    ds = TensorDataset(x, y)
    return DataLoader(ds, batch_size=32, shuffle=True, generator=g), DataLoader(ds, batch_size=64)


def test_fit_learns_records_history_and_checkpoints(tmp_path):
    torch.manual_seed(0)
    train, val = toy_loaders()
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    calls = []
    hist = fit(model, train, val, loss_fn=nn.CrossEntropyLoss(), device="cpu",
               config=TrainConfig(epochs=5, lr=1e-2, schedule="cosine", warmup_frac=0.1, progress=False),
               metrics={"acc": accuracy}, epoch_end=lambda m: calls.append(1) or {"custom": 1.0},
               checkpoint=tmp_path / "best.pt", checkpoint_extra={"config": {"hidden": 16}})
    assert len(hist) == 5 and len(calls) == 5
    assert {"train_loss", "val_loss", "train_acc", "val_acc", "custom", "lr", "epoch_s"} <= set(hist.keys())
    assert hist["val_acc"][-1] > 0.9 and hist["train_loss"][-1] < hist["train_loss"][0]
    saved = torch.load(tmp_path / "best.pt", weights_only=True)
    assert saved["epoch"] == hist.best_epoch and saved["config"] == {"hidden": 16}
    assert hist.best()["val_loss"] == min(hist["val_loss"])
    assert hist.to_frame().shape[0] == 5


def test_timed_steps_times_and_takes_fits_own_steps():
    torch.manual_seed(0)
    train, _ = toy_loaders()
    model = nn.Linear(2, 2)
    cfg = TrainConfig(lr=1e-2, progress=False)
    before = model.weight.detach().clone()
    times = timed_steps(model, list(train)[:3], nn.CrossEntropyLoss(), make_optimizer(model, cfg), cfg, "cpu")
    assert len(times) == 3 and all(t > 0 for t in times)
    assert model.training and not torch.equal(model.weight, before)  # the steps really updated the model


def test_best_weights_are_restored_and_early_stopping(tmp_path):
    train, val = toy_loaders()
    model = nn.Linear(2, 2)
    # lr=0 after the first epoch: nothing improves, so patience=2 stops at epoch 3
    hist = fit(model, train, val, loss_fn=nn.CrossEntropyLoss(), device="cpu",
               config=TrainConfig(epochs=20, lr=0.0, patience=2, progress=False))
    assert hist.stopped_early and len(hist) == 3 and hist.best_epoch == 1


def test_monitor_max_uses_metric():
    train, val = toy_loaders()
    model = nn.Linear(2, 2)
    hist = fit(model, train, val, loss_fn=nn.CrossEntropyLoss(), device="cpu", metrics={"acc": accuracy},
               config=TrainConfig(epochs=3, lr=1e-2, monitor="val_acc", mode="max", progress=False))
    assert hist.best_score == max(hist["val_acc"])
    assert isinstance(hist, History)


def test_nonfinite_loss_raises():
    import pytest

    train, _ = toy_loaders()
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        fit(nn.Linear(2, 2), train, loss_fn=lambda o, t: o.sum() * float("nan"), device="cpu",
            config=TrainConfig(epochs=1, monitor="train_loss", progress=False))


def test_lr_curve_warmup_then_cosine_to_zero():
    from a2.training import make_scheduler

    model = nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    sched = make_scheduler(opt, TrainConfig(lr=1.0, schedule="cosine", warmup_frac=0.1), total_steps=100)
    lrs = []
    for _ in range(100):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a <= b + 1e-12 for a, b in zip(lrs[:9], lrs[1:10], strict=True))  # rising warm-up
    assert all(a >= b - 1e-12 for a, b in zip(lrs[10:-1], lrs[11:], strict=True))  # falling cosine
    assert lrs[-1] < 0.01 and lrs[55] == pytest.approx(0.5, abs=0.02)


def test_param_groups_exempt_bias_norm_embedding_and_scale_lr():
    from a2.training import param_groups

    model = nn.ModuleDict({"embed": nn.Embedding(10, 4), "norm": nn.LayerNorm(4), "proj": nn.Linear(4, 2)})
    groups = param_groups(model, TrainConfig(lr=1.0, weight_decay=0.1, lr_mult={"embed.": 0.1}))
    by_param = {id(p): g for g in groups for p in g["params"]}
    assert by_param[id(model["proj"].weight)]["weight_decay"] == 0.1
    for p in (model["proj"].bias, model["norm"].weight, model["embed"].weight):
        assert by_param[id(p)]["weight_decay"] == 0.0
    assert by_param[id(model["embed"].weight)]["lr"] == pytest.approx(0.1)
    assert by_param[id(model["proj"].weight)]["lr"] == pytest.approx(1.0)


def test_ema_weights_are_what_the_model_ends_with():
    train, val = toy_loaders()
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    hist = fit(model, train, val, loss_fn=nn.CrossEntropyLoss(), device="cpu", metrics={"acc": accuracy},
               config=TrainConfig(epochs=3, lr=0.1, ema=0.9, arithmetic="fp32", progress=False))
    assert hist["val_acc"][-1] > 0.9
    # the returned weights reproduce the best epoch's validation loss (they are the EMA weights)
    with torch.no_grad():
        loss = sum(nn.functional.cross_entropy(model(x), y, reduction="sum") for x, y in val) / 256
    assert float(loss) == pytest.approx(hist.best()["val_loss"], rel=1e-4)


def _tiny_regression(seed: int = 0):
    torch.manual_seed(seed)
    x = torch.randn(64, 8)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1)), x, x.sum(dim=1, keepdim=True)


@pytest.mark.parametrize("arithmetic", ["fp32", "bf16", "fp16"])
def test_every_arithmetic_reduces_the_loss_in_a_few_steps(arithmetic):
    model, x, y = _tiny_regression()
    cfg = TrainConfig(lr=1e-2, arithmetic=arithmetic)
    optimizer = make_optimizer(model, cfg)
    scaler = runtime.grad_scaler("cpu", arithmetic)
    losses = []
    for _ in range(40):  # fp16's first steps overflow at the initial scale and are skipped while it shrinks
        with runtime.autocast("cpu", arithmetic):
            loss = nn.functional.mse_loss(model(x).float(), y)
        optimizer_step(model, loss, optimizer, cfg, scaler)
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert scaler.is_enabled() == (arithmetic == "fp16")


def test_fp16_scaler_skips_an_overflowing_step_and_shrinks_the_scale():
    model, x, y = _tiny_regression()
    cfg = TrainConfig(lr=1e-2, arithmetic="fp16")
    optimizer = make_optimizer(model, cfg)
    scaler = runtime.grad_scaler("cpu", "fp16")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    scale = scaler.get_scale()
    with runtime.autocast("cpu", "fp16"):
        loss = nn.functional.mse_loss(model(x).float(), y) * 1e38  # its fp16 gradients overflow
    optimizer_step(model, loss, optimizer, cfg, scaler)
    assert scaler.get_scale() < scale
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the step was skipped
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_early_stopping_keeps_the_best_state_and_stops_after_patience():
    model = nn.Linear(2, 1)
    stopper = EarlyStopping(patience=2, mode="min")
    assert stopper.step(1.0, 1, model) and not stopper.should_stop
    best = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        model.weight.add_(1.0)
    assert not stopper.step(1.5, 2, model) and not stopper.should_stop
    assert not stopper.step(1.2, 3, model) and stopper.should_stop
    stopper.restore(model)
    assert stopper.best_epoch == 1 and torch.equal(model.weight, best["weight"])
    with pytest.raises(ValueError):
        EarlyStopping(mode="best")


def test_make_ema_averages_and_can_be_off():
    model = nn.Linear(2, 1)
    assert make_ema(model, None) is None
    ema = make_ema(model, 0.5)
    with torch.no_grad():
        model.weight.fill_(2.0)
    ema.update_parameters(model)
    assert torch.allclose(ema.module.weight, torch.full_like(model.weight, 2.0))  # first update copies
    with pytest.raises(ValueError):
        make_ema(model, 1.5)


def test_measure_step_seconds_times_each_arithmetic_after_a_warm_up():
    calls = []
    seconds = measure_step_seconds(calls.append, ("fp32", "bf16"), steps=3)
    assert set(seconds) == {"fp32", "bf16"} and all(s >= 0 for s in seconds.values())
    assert calls == ["fp32"] * 4 + ["bf16"] * 4
