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
    assert (f"| IV transformer | Transformer (tokens only): test accuracy | 90.00% | {references.NBSVM_IMDB}; "
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


@pytest.mark.parametrize(("payload", "message"), [
    ({"part_4": {"test": {"accuracy": -0.5}}}, r"test\.accuracy is -0\.5, which cannot be a fraction in \[0, 1\]"),
    ({"part_4": {"test": {"accuracy": 1e300}}}, r"test\.accuracy is 1e\+300, which cannot be a fraction"),
    ({"part_4": {"runtime_s": -3}}, r"runtime_s is -3, which cannot be a non-negative number"),
    ({"part_2": {"multi_series": {"n_series": 2.5}}}, r"n_series is 2\.5, which cannot be a count"),
    ({"part_2": {"best_model": 3}}, r"best_model is 3, not a name"),
    ({"nab": {"nab_score_sd": {"standard": -1.0}}}, r"nab_score_sd\.standard is -1\.0, which cannot be a standard"),
    ({"nab": {"pr_auc": 1.5}}, r"pr_auc is 1\.5, which cannot be a fraction"),
    ({"part_4": {"test": "oops"}}, r"results/part_4\.json: test is 'oops', not an object holding 'accuracy'"),
    ({"bonus": {"models": []}}, r"results/bonus\.json: models is \[\], not an object holding 'vgg13'"),
    ({"part_4": [1]}, r"results/part_4\.json holds a list, not a JSON object"),
])
def test_every_value_is_checked_against_its_meaning(payload, message):
    with pytest.raises(ResultsError, match=message):
        results_table(payload)


def test_a_missing_part_fails_unless_a_partial_table_is_asked_for():
    results = load_all_results()
    del results["part_4"]
    with pytest.raises(ResultsError, match=r"results/part_4\.json is missing .*--partial"):
        results_table(results, partial=False)
    assert "IV transformer" not in results_table(results, partial=True)
    results["part_2"] = {**results["part_2"], "test": {k: v for k, v in results["part_2"]["test"].items()
                                                       if k != "roc_auc"}}
    with pytest.raises(ResultsError, match=r"results/part_2\.json lacks test\.roc_auc"):
        results_table({**load_all_results(), "part_2": results["part_2"]}, partial=False)
    assert results_table(load_all_results(), partial=False) == results_table()  # the repository's are complete


def test_an_on_request_row_shows_only_when_its_section_ran():
    results = load_all_results()
    part4 = {k: v for k, v in results["part_4"].items() if k != "seeds_full_summary"}
    assert "seeds at full budget" not in results_table({**results, "part_4": part4}, partial=False)
    ran = {**part4, "seeds_full_summary": {"mean_test_accuracy": 0.8875, "sd_test_accuracy": 0.0021, "n": 3}}
    table = results_table({**results, "part_4": ran}, partial=False)
    mean = "| Transformer (tokens only): test accuracy, mean of 3 seeds at full budget (`SEEDS_FULL`) | 88.75% |"
    assert mean in table
    assert "| Transformer (tokens only): test accuracy, s.d. over those seeds | 0.21% |" in table
    bad = {"mean_test_accuracy": -0.1, "sd_test_accuracy": 0.0, "n": 3}
    with pytest.raises(ResultsError, match=r"seeds_full_summary\.mean_test_accuracy is -0\.1, which cannot be"):
        results_table({**results, "part_4": {**ran, "seeds_full_summary": bad}})


@pytest.mark.parametrize("bad", [[1, 2], "results", 3])
def test_results_that_are_not_a_mapping_are_a_results_error(bad):
    with pytest.raises(ResultsError, match="not {name: contents of results/name.json}"):
        results_table(bad)
