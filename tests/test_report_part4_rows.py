"""The report's Part IV rows read the shapes the notebook writes: baselines, variants, paired tests, seeds."""

import pytest

from a2 import report

BASELINES = {"tfidf_lr": {"name": "TF-IDF + LR", "val_accuracy": 0.9, "test_accuracy": 0.905, "roc_auc": 0.96},
             "nbsvm": {"name": "NBSVM-bi", "val_accuracy": 0.91, "test_accuracy": 0.912}}
VARIANTS = {"nb_channel": {"name": "naive-Bayes channel", "accuracy": 0.91, "roc_auc": 0.97}}
COMPARISONS = [{"a": "Transformer", "b": "NBSVM-bi", "accuracy_diff": -0.004, "ci95": [-0.008, 0.001],
                "p_value": 0.08, "verdict": "tie"}]


def test_accuracy_rows_name_each_model_and_dash_what_was_not_recorded():
    assert report._accuracy_rows(BASELINES) == [r"TF-IDF + LR & 90.00\% & 90.50\% & 0.960 \\",
                                                r"NBSVM-bi & 91.00\% & 91.20\% & -- \\"]
    assert report._accuracy_rows(VARIANTS) == [r"naive-Bayes channel & -- & 91.00\% & 0.970 \\"]


def test_comparison_rows_give_difference_interval_p_and_verdict():
    row = r"Transformer vs NBSVM-bi & $-$0.40 & [$-$0.80, +0.10] & 0.08 & tie \\"
    assert report._comparison_rows(COMPARISONS) == [row]


@pytest.mark.parametrize("seeds", [{"42": 0.90, "43": 0.91}, [{"test_accuracy": 0.90}, {"test_accuracy": 0.91}]])
def test_seed_summary_reads_a_mapping_or_records(seeds):
    assert report._seed_summary(seeds) == (r"Trained at the full budget with 2 seeds, the token-only model "
                                           r"reaches a test accuracy of 90.50\%~$\pm$~0.71\%.")


def test_seed_summary_of_nothing_says_a_single_seed_was_run():
    assert report._seed_summary({}).startswith("A single full-budget seed was trained")


def test_split_shares_round_to_percent():
    assert report._shares(22602, 2398, 25000) == r"45/5/50\%"
