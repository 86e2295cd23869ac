"""The README table: honest model names, published references with their sources, and no 'nan%'."""

from __future__ import annotations

import json

import pytest

from a2 import references
from a2.results import ResultsError, load_all_results
from a2.results_table import TABLE_ROWS, results_table, summarise

BONUS = {"models": {"vgg13": {"test_accuracy": 0.9472, "params": 689_011,
                              "config": {"width": 0.25, "hidden": 256, "num_classes": 3}}},
         "git_commit": "abc1234"}


def test_bonus_rows_name_the_trained_variant_with_width_and_size():
    table = results_table({"bonus": BONUS})
    assert "| Bonus vision | VGG-13 (width 0.25, 0.69M params) test accuracy | 94.72% |  | abc1234 |" in table


def test_bonus_label_is_computed_from_the_config_when_the_count_is_missing():
    entry = {"test_accuracy": 0.93, "config": {"width": 0.5, "stem": "imagenet", "num_classes": 3}}
    table = results_table({"bonus": {"models": {"resnet18": entry}}})
    assert "ResNet-18 (width 0.5, 2.8M params) test accuracy" in table


def test_a_stored_label_wins_and_an_unrecorded_size_is_said():
    models = {"vit": {"test_accuracy": 0.9, "label": "ViT (dim 128, depth 6, 0.91M params)"},
              "efficientnet_b0": {"test_accuracy": 0.9}}
    table = results_table({"bonus": {"models": models}})
    assert "ViT (dim 128, depth 6, 0.91M params) test accuracy" in table
    assert "EfficientNet-B0 (size not recorded) test accuracy" in table


def test_counts_in_a_label_come_from_the_results():
    nab = {"nab_score_mean": {"standard": 70.0}, "ensemble_members": 3, "seeds": {str(s): {} for s in range(5)}}
    assert "NAB score, standard (ensemble of 3 autoencoders, mean of 5 seeds) | 70.0 |" in results_table({"nab": nab})
    del nab["ensemble_members"]
    with pytest.raises(ResultsError, match="ensemble_members is None"):
        results_table({"nab": nab})


def test_every_reference_is_a_published_figure_with_its_source():
    published = {id(v) for v in vars(references).values() if isinstance(v, references.Reference)}
    published |= {id(r) for r in references.NAB_HTM.values()}
    for row in TABLE_ROWS:
        for ref in row.references:
            assert id(ref) in published and ref.source and str(ref) == f"{ref.shown} — {ref.source}"
    part4 = results_table({"part_4": {"test": {"accuracy": 0.9}, "git_commit": "abc1234"}})
    assert (f"| IV transformer | test accuracy | 90.00% | {references.NBSVM_IMDB}; "
            f"{references.KERAS_TRANSFORMER_IMDB} | abc1234 |") in part4


def test_part_rows_and_empty_results():
    table = results_table({"part_2": {"best_model": "dense", "test": {"accuracy": 0.9567}, "git_commit": "d25a05c"}})
    assert "| II autoencoder | test accuracy | 95.67% | 80% — the assignment's minimum | d25a05c |" in table
    assert "| II autoencoder | best model (chosen on validation) | dense |" in table
    assert "no results yet" in results_table({})


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "0.9", True])
def test_a_value_that_is_not_a_finite_number_is_a_one_line_error(bad):
    with pytest.raises(ResultsError) as err:
        results_table({"part_4": {"test": {"accuracy": bad}}})
    message = str(err.value)
    assert "results/part_4.json" in message and "test.accuracy" in message and "\n" not in message


def test_nan_from_a_results_file_never_renders_as_nan_percent(tmp_path):
    (tmp_path / "bonus.json").write_text('{"models": {"vit": {"test_accuracy": NaN, "params": 1}}}')
    with pytest.raises(ResultsError, match=r"models\.vit\.test_accuracy is nan"):
        results_table(load_all_results(tmp_path))


def test_the_repository_results_render():
    table = results_table()
    values = [line.split(" | ")[2] for line in table.splitlines()[2:]]
    assert not [v for v in values if "nan" in v.lower() or "inf" in v.lower()]
    assert "| Bonus vision | VGG-13 test accuracy" not in table


def test_summarise_lists_numbers_per_file():
    lines = list(summarise({"part_2": json.loads('{"test": {"accuracy": 0.9}, "best_model": "dense"}')}))
    assert lines == ["part_2: test.accuracy=0.9"]
