"""Autoencoders: shape contract, registry, save/load round trip, and that each one can learn."""

import pytest
import torch

from a2.anomaly import models
from a2.anomaly.models import MODELS, build_model, load_model, model_payload


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny tensors: one thread avoids oversubscription stalls on a shared CPU."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("window", [48, 13])
def test_same_shape_out(name, window):
    torch.manual_seed(0)
    model = build_model(name, window=window, n_features=3)
    x = torch.randn(4, window, 3)
    assert model(x).shape == x.shape
    assert model.n_params() > 0 and model.cfg.window == window and model.cfg.n_features == 3


@pytest.mark.parametrize("name", sorted(MODELS))
def test_wrong_shape_is_a_clear_error(name):
    model = build_model(name, window=16, n_features=2)
    with pytest.raises(ValueError, match=r"expects input of shape \(batch, window=16, features=2\)"):
        model(torch.randn(4, 16, 3))


def test_registry_errors():
    with pytest.raises(KeyError, match="unknown model 'gru'"):
        build_model("gru")
    with pytest.raises(TypeError, match="has no field"):
        build_model("dense", widht=3)
    with pytest.raises(TypeError, match="needs a LSTMAEConfig"):
        build_model("lstm", models.DenseAEConfig())
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        build_model("conv1d", kernel_size=4)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_payload_round_trip_weights_only(name, tmp_path):
    torch.manual_seed(0)
    model = build_model(name, window=12, n_features=2).eval()
    path = tmp_path / "m.pt"
    torch.save(model_payload(name, model), path)
    again = load_model(torch.load(path, weights_only=True))
    x = torch.randn(3, 12, 2)
    assert again.cfg == model.cfg
    torch.testing.assert_close(again(x), model(x))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_learns_a_sine(name):
    torch.manual_seed(0)
    t = torch.arange(200 + 16, dtype=torch.float32)
    series = torch.sin(2 * torch.pi * t / 16).unsqueeze(-1)
    x = series.unfold(0, 16, 1).transpose(1, 2)  # (200, 16, 1)
    model = build_model(name, window=16, n_features=1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = model.loss(model(x), x).item()
    for _ in range(60):
        opt.zero_grad()
        loss = model.loss(model(x), x)
        loss.backward()
        opt.step()
    model.eval()
    assert model.loss(model(x), x).item() < 0.5 * first


def test_vae_is_deterministic_in_eval_and_has_kl():
    torch.manual_seed(0)
    model = build_model("vae", window=8, n_features=1)
    x = torch.randn(5, 8, 1)
    model.train()
    out = model(x)
    mse = torch.nn.functional.mse_loss(out, x)
    assert model.loss(out, x).item() > mse.item()  # the objective adds beta x KL to the MSE
    model.eval()
    torch.testing.assert_close(model(x), model(x))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_bounded_output_stays_in_the_training_range_and_survives_a_round_trip(name, tmp_path):
    torch.manual_seed(0)
    bounds = models.output_range(torch.randn(200, 2), margin=0.1)
    model = build_model(name, window=8, n_features=2, **bounds).eval()
    far = 100 * torch.ones(4, 8, 2)  # a level far outside the training range
    out = model(far)
    assert (out >= torch.tensor(bounds["out_low"])).all() and (out <= torch.tensor(bounds["out_high"])).all()
    path = tmp_path / "m.pt"
    torch.save(model_payload(name, model), path)
    again = load_model(torch.load(path, weights_only=True))
    assert again.cfg == model.cfg and torch.equal(again(far), out)


def test_output_range_is_the_widened_min_max_per_feature():
    x = torch.tensor([[0.0, -1.0], [1.0, 1.0]])
    assert models.output_range(x, margin=0.5) == {"out_low": (-0.5, -2.0), "out_high": (1.5, 2.0)}
    with pytest.raises(ValueError, match="non-empty"):
        models.output_range(torch.empty(0, 2))


def test_a_range_for_the_wrong_number_of_features_is_a_clear_error():
    model = build_model("dense", window=8, n_features=2, out_low=(0.0,), out_high=(1.0,))
    with pytest.raises(ValueError, match="one value per feature"):
        model(torch.zeros(1, 8, 2))
