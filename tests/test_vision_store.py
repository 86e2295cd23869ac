"""results/bonus.json: every run recorded; a stored run reused only when asked and when it matches."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import replace

import pytest
import torch

from a2 import runtime
from a2.errors import WeightsError
from a2.vision.experiment import Recipe
from a2.vision.images import stratified_split
from a2.vision.store import load_bonus_results, load_stored, stored_train_times, train_or_reuse
from tests.vision_data import tiny_images, tiny_vgg

RECIPE = Recipe(epochs=1, batch_size=8)


@pytest.fixture
def stored(tmp_path, monkeypatch):
    """One tiny VGG run recorded in a temporary output folder."""
    monkeypatch.setenv("A2_OUTPUT_DIR", str(tmp_path))
    data = tiny_images(6)
    split = stratified_split(data.labels, seed=0)
    outcome = train_or_reuse(tiny_vgg(), data, split, RECIPE, "cpu", progress=False)
    return data, split, outcome, runtime.weights_path("bonus/vgg13.pt")


def test_trains_by_default_and_reuses_only_on_request(tmp_path, monkeypatch):
    monkeypatch.setenv("A2_OUTPUT_DIR", str(tmp_path))
    data = tiny_images()
    split = stratified_split(data.labels, seed=0)
    assert load_bonus_results() == {} and load_stored(tiny_vgg(), data, split, RECIPE) is None

    first = train_or_reuse(tiny_vgg(), data, split, RECIPE, "cpu", progress=False)
    payload = json.loads(runtime.results_path("bonus.json").read_text())
    entry = payload["models"]["vgg13"]
    assert not first.reused and entry["signature"] == first.entry["signature"]
    assert payload["split"]["train"] == len(split.train) and payload["device_kind"] == "cpu"
    assert entry["arithmetic"] == "fp32"
    assert stored_train_times() == {"vgg13": entry["train_s"]}

    again = train_or_reuse(tiny_vgg(), data, split, RECIPE, "cpu", progress=False)
    assert not again.reused  # reuse is off unless asked for

    reused = train_or_reuse(tiny_vgg(), data, split, RECIPE, "cpu", reuse=True, progress=False)
    assert reused.reused and reused.entry["signature"] == again.entry["signature"]
    for a, b in zip(again.model.state_dict().values(), reused.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)

    changed = Recipe(epochs=1, batch_size=4)
    assert not train_or_reuse(tiny_vgg(), data, split, changed, "cpu", reuse=True, progress=False).reused


def test_weights_with_another_signature_are_not_reused(stored):
    data, split, _, weights = stored
    state = torch.load(weights, weights_only=True)
    torch.save({**state, "signature": "something else"}, weights)
    assert load_stored(tiny_vgg(), data, split, RECIPE) is None


def _edited_vgg(tmp_path, body: str) -> type:
    """A VGG subclass defined in a module file of its own, as a notebook cell defines a class."""
    path = tmp_path / f"edited_{abs(hash(body))}.py"
    path.write_text(f"from a2.vision.vgg import VGG\n\n\nclass EditedVGG(VGG):\n    def forward(self, x):\n{body}\n")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.EditedVGG


def test_an_edited_model_class_does_not_reuse_the_stored_weights(stored, tmp_path):
    data, split, _, _ = stored
    plain = _edited_vgg(tmp_path, "        return super().forward(x)")
    edited = _edited_vgg(tmp_path, "        return super().forward(x) * 2  # edited")
    base = replace(tiny_vgg(), model_cls=plain)
    first = train_or_reuse(base, data, split, RECIPE, "cpu", progress=False)
    assert train_or_reuse(base, data, split, RECIPE, "cpu", reuse=True, progress=False).reused
    assert load_stored(replace(base, model_cls=edited), data, split, RECIPE) is None
    retrained = train_or_reuse(replace(base, model_cls=edited), data, split, RECIPE, "cpu", reuse=True, progress=False)
    assert not retrained.reused and retrained.entry["source_hash"] != first.entry["source_hash"]


@pytest.mark.parametrize("damage", ["truncated", "garbage", "a list", "no state_dict", "another model"])
def test_an_unusable_weights_file_is_a_one_line_weights_error(stored, damage):
    data, split, outcome, weights = stored
    state = torch.load(weights, weights_only=True)
    if damage == "truncated":
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    elif damage == "garbage":
        weights.write_bytes(b"\x00not a torch file" * 10)
    elif damage == "a list":
        torch.save([1, 2, 3], weights)
    elif damage == "no state_dict":
        torch.save({"signature": state["signature"]}, weights)
    else:  # the right signature, but the tensors of a wider network
        wider = replace(tiny_vgg(), config=replace(tiny_vgg().config, width=0.25)).build()
        torch.save({**state, "state_dict": wider.state_dict()}, weights)
    with pytest.raises(WeightsError, match="vgg13.pt") as err:
        load_stored(tiny_vgg(), data, split, RECIPE)
    assert "\n" not in str(err.value) and "delete" in str(err.value)
