"""The bonus tables: honest row names, per-class blocks, sizes, split counts and the budget line."""

from __future__ import annotations

import pytest

from a2.training import History
from a2.vision.experiment import Outcome
from a2.vision.images import stratified_split
from a2.vision.models import PUBLISHED_PARAMS
from a2.vision.tables import (
    budget_summary,
    comparison_table,
    outcome_line,
    per_class_table,
    run_label,
    size_table,
    split_counts,
)
from tests.vision_data import tiny_images

SPLIT = {"accuracy": 0.9, "loss": 0.3, "per_class": {"a": {"precision": 1.0, "recall": 0.5, "f1": 0.67, "support": 2}}}
ENTRY = {"params": 689_011, "config": {"width": 0.25}, "test_f1": 0.9, "weights": "weights/bonus/vgg13.pt",
         "epochs_run": 7, "train_s": 898.0,
         "train_images_per_s": 190.0, "eval_images_per_s": 900.0,
         "metrics": {"train": SPLIT, "val": SPLIT, "test": SPLIT}}


def test_comparison_table_rows_are_named_as_trained():
    table = comparison_table({"vgg13": ENTRY})
    assert list(table.index) == ["VGG-13 (width 0.25, 0.69M params)"]
    assert table.loc["VGG-13 (width 0.25, 0.69M params)", "params"] == 689_011
    no_config = {k: v for k, v in ENTRY.items() if k != "config"}  # a recorded label is used only without a config
    assert run_label("vgg13", {**no_config, "label": "stored label"}) == "stored label"


def test_outcome_line_says_whether_the_run_was_trained_here():
    outcome = Outcome("vgg13", None, History(), {**ENTRY, "test_accuracy": 0.9472}, reused=True)
    assert outcome_line(outcome) == ("VGG-13 (width 0.25, 0.69M params): loaded from weights/bonus/vgg13.pt "
                                    "(trained earlier with identical settings), test accuracy 94.72%")
    assert "trained in this run" in outcome_line(Outcome("vgg13", None, History(), {**ENTRY, "test_accuracy": 0.9}))


def test_per_class_table_has_one_block_per_model():
    table = per_class_table({"vgg13": ENTRY})
    assert table.loc[("VGG-13 (width 0.25, 0.69M params)", "a"), "recall"] == 0.5


def test_size_table_counts_canonical_models_against_the_published_sizes():
    table = size_table({"resnet18": {"width": 0.5, "stem": "imagenet"}})
    row = table.loc["ResNet-18"]
    assert row["canonical (1000 classes, 224 px)"] == row["published"] == PUBLISHED_PARAMS["resnet18"]
    assert row["trained here (3 classes, 64 px)"] == 2_799_651
    assert row["trained variant"] == "ResNet-18 (width 0.5, 2.8M params)"


def test_split_counts_are_stratified():
    data = tiny_images(10)
    counts = split_counts(data, stratified_split(data.labels, seed=0))
    assert list(counts.columns) == ["train", "val", "test"] and counts.sum().sum() == 30
    assert counts["train"].nunique() == 1  # same count of every class


@pytest.mark.parametrize(("times", "verdict"), [({"vgg13": 600, "resnet18": 600, "vit": 600, "efficientnet_b0": 600},
                                                 "**40.0 min**, within the 60-minute budget"),
                                                ({"vgg13": 4000.0}, "only 1 of 4 models have a stored run so far")])
def test_budget_summary(times, verdict):
    text = budget_summary(times)
    assert verdict in text and "VGG-13 " in text
