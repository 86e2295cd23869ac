"""Training one model under the shared recipe: an entry with honest label and every split's scores."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from a2 import runtime
from a2.vision.experiment import Recipe, evaluate, make_preprocess, predict, signature, step_seconds, train_model
from a2.vision.images import stratified_split
from tests.vision_data import tiny_images, tiny_vgg


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("A2_OUTPUT_DIR", str(tmp_path_factory.mktemp("experiment")))
        data = tiny_images()
        split = stratified_split(data.labels, seed=0)
        outcome = train_model(tiny_vgg(), data, split, Recipe(epochs=2, batch_size=8), "cpu", progress=False)
        yield data, split, outcome, runtime.output_dir()


def test_train_model_returns_an_entry_and_saves_weights_but_writes_no_results(trained):
    data, split, outcome, out_dir = trained
    entry = outcome.entry
    assert not outcome.reused and len(outcome.history) == 2
    assert entry["label"].startswith("VGG-13 (width 0.125, ") and entry["label"].endswith("M params)")
    assert {"test_accuracy", "test_f1", "params", "train_s", "signature"} <= set(entry)
    assert entry["arithmetic"] == "fp32" and entry["source_hash"] == tiny_vgg().source_hash()
    assert set(entry["metrics"]) == {"train", "val", "test"}
    assert (out_dir / entry["weights"]).is_file() and not (out_dir / "results" / "bonus.json").exists()
    assert torch.load(out_dir / entry["weights"], weights_only=True)["signature"] == entry["signature"]


def test_evaluate_matches_predict(trained):
    data, split, outcome, _ = trained
    pre = make_preprocess(data, split, None)
    probs = predict(outcome.model, data.images[split.test], pre, "cpu")
    assert probs.shape == (len(split.test), 3) and torch.allclose(probs.sum(1), torch.ones(len(split.test)))
    acc = (probs.argmax(1) == data.labels[split.test]).float().mean().item()
    assert evaluate(outcome.model, data, split, pre, "cpu")["test"]["accuracy"] == pytest.approx(acc)


def test_a_model_trains_in_its_spec_arithmetic(tmp_path, monkeypatch):
    monkeypatch.setenv("A2_OUTPUT_DIR", str(tmp_path))
    data = tiny_images()
    split = stratified_split(data.labels, seed=0)
    outcome = train_model(tiny_vgg("bf16"), data, split, Recipe(epochs=1, batch_size=8), "cpu", progress=False)
    assert outcome.entry["arithmetic"] == "bf16"
    assert outcome.entry["signature"] != signature(tiny_vgg("fp32"), Recipe(epochs=1, batch_size=8),
                                                   split.checksum(data))


def test_preprocess_statistics_come_from_the_training_split_only():
    data = tiny_images()
    split = stratified_split(data.labels, seed=0)
    data.images[split.test] = 255  # a test-only change must not move the normalisation
    before = make_preprocess(data, split, None).mean.clone()
    data.images[split.test] = 0
    assert torch.equal(make_preprocess(data, split, None).mean, before)


def test_signature_changes_with_recipe_config_arithmetic_and_split():
    spec = tiny_vgg()
    base = signature(spec, Recipe(), "split-a")
    assert base == signature(tiny_vgg(), Recipe(), "split-a")
    assert base != signature(spec, Recipe(epochs=1), "split-a")
    assert base != signature(replace(spec, config=replace(spec.config, width=0.5)), Recipe(), "split-a")
    assert base != signature(spec, Recipe(), "split-b")
    assert base != signature(tiny_vgg("bf16"), Recipe(), "split-a")


def test_step_seconds_times_a_real_training_step_in_each_arithmetic():
    data = tiny_images()
    split = stratified_split(data.labels, seed=0)
    seconds = step_seconds(tiny_vgg(), data, split, Recipe(batch_size=8), "cpu", ("bf16", "fp32", "bf16"), steps=2)
    assert list(seconds) == ["bf16", "fp32"] and all(0 < s < 10 for s in seconds.values())
