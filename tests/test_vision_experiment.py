"""Training one model under the shared recipe: an entry with honest label and every split's scores."""

from __future__ import annotations

import pytest
import torch

from a2 import runtime
from a2.vision.experiment import (
    Recipe,
    evaluate,
    make_preprocess,
    predict,
    signature,
    step_seconds,
    train_model,
)
from a2.vision.images import stratified_split
from a2.vision.models import make_config
from tests.vision_data import TINY_VGG, tiny_images


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("A2_OUTPUT_DIR", str(tmp_path_factory.mktemp("experiment")))
        data = tiny_images()
        split = stratified_split(data.labels, seed=0)
        outcome = train_model("vgg13", data, split, Recipe(epochs=2, batch_size=8), "cpu", progress=False, **TINY_VGG)
        yield data, split, outcome, runtime.output_dir()


def test_train_model_returns_an_entry_and_saves_weights_but_writes_no_results(trained):
    data, split, outcome, out_dir = trained
    entry = outcome.entry
    assert not outcome.reused and len(outcome.history) == 2
    assert entry["label"].startswith("VGG-13 (width 0.125, ") and entry["label"].endswith("M params)")
    assert {"test_accuracy", "test_f1", "params", "train_s", "signature"} <= set(entry)
    assert entry["precision"] == runtime.resolve_arithmetic("cpu")
    assert set(entry["metrics"]) == {"train", "val", "test"}
    assert (out_dir / entry["weights"]).is_file() and not (out_dir / "results" / "bonus.json").exists()


def test_evaluate_matches_predict(trained):
    data, split, outcome, _ = trained
    pre = make_preprocess(data, split, None)
    probs = predict(outcome.model, data.images[split.test], pre, "cpu")
    assert probs.shape == (len(split.test), 3) and torch.allclose(probs.sum(1), torch.ones(len(split.test)))
    acc = (probs.argmax(1) == data.labels[split.test]).float().mean().item()
    assert evaluate(outcome.model, data, split, pre, "cpu")["test"]["accuracy"] == pytest.approx(acc)


def test_a_model_can_train_in_fp32_when_autocast_is_on_elsewhere(tmp_path, monkeypatch):
    monkeypatch.setenv("A2_OUTPUT_DIR", str(tmp_path))
    data = tiny_images()
    split = stratified_split(data.labels, seed=0)
    outcome = train_model("vgg13", data, split, Recipe(epochs=1, batch_size=8), "cpu", progress=False,
                          mixed_precision=False, **TINY_VGG)
    assert outcome.entry["precision"] == "fp32"
    assert torch.load(tmp_path / outcome.entry["weights"], weights_only=True)["signature"] == outcome.entry["signature"]


def test_preprocess_statistics_come_from_the_training_split_only():
    data = tiny_images()
    split = stratified_split(data.labels, seed=0)
    data.images[split.test] = 255  # a test-only change must not move the normalisation
    before = make_preprocess(data, split, None).mean.clone()
    data.images[split.test] = 0
    assert torch.equal(make_preprocess(data, split, None).mean, before)


def test_signature_changes_with_recipe_config_and_split():
    cfg = make_config("vgg13", **TINY_VGG)
    base = signature("vgg13", cfg, Recipe(), "split-a")
    assert base == signature("vgg13", cfg, Recipe(), "split-a")
    assert base != signature("vgg13", cfg, Recipe(epochs=1), "split-a")
    assert base != signature("vgg13", make_config("vgg13", width=0.5), Recipe(), "split-a")
    assert base != signature("vgg13", cfg, Recipe(), "split-b")
    assert base != signature("vgg13", cfg, Recipe(), "split-a", mixed_precision=False)


def test_step_seconds_times_a_real_training_step_in_either_precision():
    data = tiny_images()
    split = stratified_split(data.labels, seed=0)
    for mixed in (True, False):
        seconds = step_seconds("vgg13", data, split, Recipe(batch_size=8), "cpu", mixed_precision=mixed, steps=2,
                               **TINY_VGG)
        assert 0 < seconds < 10
