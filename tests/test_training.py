import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from a2.evaluation import accuracy
from a2.training import History, TrainConfig, fit, make_optimizer, timed_steps


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
               config=TrainConfig(epochs=3, lr=0.1, ema=0.9, mixed_precision=False, progress=False))
    assert hist["val_acc"][-1] > 0.9
    # the returned weights reproduce the best epoch's validation loss (they are the EMA weights)
    with torch.no_grad():
        loss = sum(nn.functional.cross_entropy(model(x), y, reduction="sum") for x, y in val) / 256
    assert float(loss) == pytest.approx(hist.best()["val_loss"], rel=1e-4)
