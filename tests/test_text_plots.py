from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from a2 import plots


def test_text_exploration_plots():
    fig = plots.length_distribution([1, 5, 9, 2000], [0, 1, 0, 1])
    assert fig.axes
    fig2 = plots.word_panels({"neg": pd.Series({"bad": 3, "awful": 1}), "pos": pd.Series({"good": 2})})
    assert len(fig2.axes) == 2
    fig3 = plots.zipf_and_coverage([5, 3, 1], pd.DataFrame({"max_len": [1, 2], "tokens_kept": [0.5, 1.0]}))
    assert len(fig3.axes) == 2
    plt.close("all")


def test_history_panels_label_each_curve():
    records = [{"epoch": e, "train_loss": 1 / e, "val_ce": 1.2 / e, "train_accuracy": 0.5 + e / 10} for e in (1, 2, 3)]
    fig = plots.history_panels(records, {"loss": {"training loss (label-smoothed)": "train_loss",
                                                  "validation cross-entropy": "val_ce"},
                                         "accuracy": {"train": "train_accuracy"}})
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["training loss (label-smoothed)", "validation cross-entropy"] and len(fig.axes) == 2
    plt.close("all")
