"""The anomaly figures of a2.plots: legend labels match their histograms, the Part II/NAB comparison plots draw."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import to_rgb

from a2 import plots


def test_score_distribution_legend_matches_colours_when_anomalies_come_first():
    labels = np.r_[np.ones(10), np.zeros(90)].astype(int)  # the first row is anomalous
    scores = np.r_[np.full(10, 5.0), np.random.default_rng(0).random(90)]
    fig = plots.score_distribution(scores, labels, threshold=1.0)
    legend = fig.axes[0].get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts == ["normal", "in anomaly window", "threshold 1"]
    palette = sns.color_palette()
    for handle, colour in zip(legend.legend_handles[:2], palette[:2], strict=True):
        assert np.allclose(to_rgb(handle.get_edgecolor()), colour, atol=1e-6)
    only_normal = plots.score_distribution(np.random.default_rng(1).random(20), np.zeros(20), threshold=0.5)
    assert [t.get_text() for t in only_normal.axes[0].get_legend().get_texts()] == ["normal", "threshold 0.5"]
    plt.close("all")


def test_paired_scores_and_grouped_bars_draw():
    table = pd.DataFrame({"f1 chosen": [0.5, 0.7], "f1 reference": [0.6, 0.2], "event_f1 chosen": [1.0, 0.5],
                          "event_f1 reference": [0.5, 0.5]}, index=["a/x.csv", "b/y.csv"])
    fig = plots.paired_scores(table, {"point F1": ("f1 reference", "f1 chosen"),
                                      "event F1": ("event_f1 reference", "event_f1 chosen")})
    assert len(fig.axes) == 2
    means = pd.DataFrame({"standard": [70.0, 63.0], "reward_low_FP_rate": [60.0, 52.0]}, index=["ours", "ref"])
    fig = plots.grouped_bars(means, means * 0.01, ylabel="NAB score")
    assert len(fig.axes[0].patches) == 4
    plt.close("all")
