"""results/bonus.json: every run recorded; a stored run reused only when asked and when it matches."""

from __future__ import annotations

import json

import torch

from a2 import runtime
from a2.vision.experiment import Recipe
from a2.vision.images import stratified_split
from a2.vision.store import load_bonus_results, load_stored, stored_train_times, train_or_reuse
from tests.vision_data import TINY_VGG, tiny_images


def test_trains_by_default_and_reuses_only_on_request(tmp_path, monkeypatch):
    monkeypatch.setenv("A2_OUTPUT_DIR", str(tmp_path))
    data = tiny_images()
    split = stratified_split(data.labels, seed=0)
    recipe = Recipe(epochs=1, batch_size=8)
    assert load_bonus_results() == {} and load_stored("vgg13", data, split, recipe, **TINY_VGG) is None

    first = train_or_reuse("vgg13", data, split, recipe, "cpu", progress=False, **TINY_VGG)
    payload = json.loads(runtime.results_path("bonus.json").read_text())
    entry = payload["models"]["vgg13"]
    assert not first.reused and entry["signature"] == first.entry["signature"]
    assert payload["split"]["train"] == len(split.train) and "device" in payload
    assert stored_train_times() == {"vgg13": entry["train_s"]}

    again = train_or_reuse("vgg13", data, split, recipe, "cpu", progress=False, **TINY_VGG)
    assert not again.reused  # reuse is off unless asked for

    reused = train_or_reuse("vgg13", data, split, recipe, "cpu", reuse=True, progress=False, **TINY_VGG)
    assert reused.reused and reused.entry["signature"] == again.entry["signature"]
    for a, b in zip(again.model.state_dict().values(), reused.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)

    changed = Recipe(epochs=1, batch_size=4)
    assert not train_or_reuse("vgg13", data, split, changed, "cpu", reuse=True, progress=False, **TINY_VGG).reused


def test_weights_with_another_signature_are_not_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("A2_OUTPUT_DIR", str(tmp_path))
    data = tiny_images(6)
    split = stratified_split(data.labels, seed=0)
    recipe = Recipe(epochs=1, batch_size=8)
    train_or_reuse("vgg13", data, split, recipe, "cpu", progress=False, **TINY_VGG)
    weights = runtime.weights_path("bonus/vgg13.pt")
    state = torch.load(weights, weights_only=True)
    torch.save({**state, "signature": "something else"}, weights)
    assert load_stored("vgg13", data, split, recipe, **TINY_VGG) is None
