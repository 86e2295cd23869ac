"""The shared recipe: train with fit, record results/bonus.json, reuse a matching stored run."""

from __future__ import annotations

import json

import numpy as np
import torch

from a2 import runtime
from a2.evaluation import per_class_metrics
from a2.plots import image_gallery
from a2.vision import compare
from a2.vision.images import ImageData, stratified_split

TINY = dict(width=0.125, hidden=16)


def _data(n_per_class=12):
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(3).repeat_interleave(n_per_class)
    images = (torch.rand(len(labels), 3, 32, 32, generator=g) * 80).to(torch.uint8)
    images += (labels * 80).to(torch.uint8)[:, None, None, None]  # class = brightness: learnable
    files = [f"c{int(c)}/{i}.png" for i, c in enumerate(labels)]
    return ImageData(images, labels, ["a", "b", "c"], files, files)


def test_train_records_and_reuses(tmp_path, monkeypatch):
    monkeypatch.setenv("A2_OUTPUT_DIR", str(tmp_path))
    data = _data()
    split = stratified_split(data.labels, seed=0)
    recipe = compare.Recipe(epochs=2, batch_size=8)
    out = compare.load_or_train("vgg13", data, split, recipe, "cpu", progress=False, **TINY)
    assert not out.reused and len(out.history) == 2
    payload = json.loads(runtime.results_path("bonus.json").read_text())
    entry = payload["models"]["vgg13"]
    assert {"test_accuracy", "test_f1", "params", "train_s"} <= set(entry)
    assert payload["split"]["train"] == len(split.train) and "device" in payload
    assert compare.stored_train_times() == {"vgg13": entry["train_s"]}
    weights = torch.load(runtime.weights_path("bonus/vgg13.pt"), weights_only=True)
    assert weights["signature"] == entry["signature"]

    again = compare.load_or_train("vgg13", data, split, recipe, "cpu", progress=False, **TINY)
    assert again.reused and again.entry["signature"] == entry["signature"]
    for a, b in zip(out.model.state_dict().values(), again.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)

    changed = compare.Recipe(epochs=1, batch_size=8)
    assert not compare.load_or_train("vgg13", data, split, changed, "cpu", progress=False, **TINY).reused

    table = compare.comparison_table({"vgg13": again})
    assert table.loc["VGG-13", "params"] == entry["params"]
    pre = compare.make_preprocess(data, split, None)
    idx, titles = compare.misclassified(again.model, data, split, pre, "cpu")
    assert len(idx) == len(titles) and set(idx.tolist()) <= set(split.test.tolist())


def test_attention_maps_for_uint8_images():
    from a2.vision.models import build

    data = _data(4)
    vit = build("vit", image_size=32, dim=32, depth=1, heads=2, mlp_dim=32)
    pre = compare.make_preprocess(data, stratified_split(data.labels, (0.5, 0.25, 0.25)), None)
    assert compare.attention_maps(vit, data.images[:3], pre, "cpu").shape == (3, 4, 4)


def test_per_class_metrics_and_gallery():
    m = per_class_metrics([0, 0, 1, 2], [0, 1, 1, 2], ["x", "y", "z"])
    assert m["x"]["recall"] == 0.5 and m["y"]["precision"] == 0.5 and m["z"]["f1"] == 1.0
    imgs = np.zeros((3, 3, 8, 8), dtype=np.uint8)
    fig = image_gallery(imgs, ["a", "b", "c"], ncols=2, overlays=np.ones((3, 2, 2)))
    assert len(fig.axes) == 4
