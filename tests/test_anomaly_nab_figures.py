"""The NAB report figures: printed text >= 7 pt, at most three series per panel, legends outside the axes."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from a2.anomaly import nab_figures  # noqa: E402

PROFILES = ["standard", "reward_low_FP_rate", "reward_low_FN_rate"]


def _legends_outside(fig) -> None:
    fig.canvas.draw()
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is not None:
            box, frame = legend.get_window_extent(), ax.get_window_extent()
            assert box.y1 <= frame.y0 + 1 or box.y0 >= frame.y1 - 1, "legend overlaps the data area"


def test_printed_text_is_at_least_7_pt():
    assert nab_figures.printed_size() >= 7.0


def test_headline_figure_has_two_panels_and_few_series():
    held = {"ours": {"in_sample": 70.0, "held_out": 64.7}, "numenta": {"in_sample": 70.1, "held_out": 68.0}}
    profiles = pd.DataFrame([[70.0, 61.6, 74.5], [65.6, 56.9, 70.2], [70.1, 63.1, 74.3]],
                            index=["ours", "reference", "HTM"], columns=PROFILES)
    fig = nab_figures.headline_figure(held, {"ours": "ours", "numenta": "HTM"}, profiles,
                                      pd.Series([1.0, 1.1, 1.0], index=PROFILES))
    assert fig.get_figwidth() == nab_figures.WIDTH and len(fig.axes) == 2
    assert [len(ax.get_legend().get_texts()) for ax in fig.axes] == [2, 3]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["ours", "HTM"]
    _legends_outside(fig)
    plt.close(fig)


def test_example_figure_legends_sit_above_the_panels():
    n = 500
    ts = pd.date_range("2024-01-01", periods=n, freq="5min")
    window = np.zeros(n, bool)
    window[300:340] = True
    alerts = np.zeros(n)
    alerts[310] = 0.9
    fig = nab_figures.example_figure(ts, np.sin(np.arange(n) / 20), window, alerts >= 0.5, 75,
                                     np.linspace(0, 1, n), alerts, 0.5, title="cat/file.csv")
    assert len(fig.axes) == 2 and fig.get_suptitle() == "cat/file.csv"
    _legends_outside(fig)
    plt.close(fig)
