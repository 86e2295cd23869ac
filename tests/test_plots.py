"""Every figure in a2.plots: one test module for the one plotting module."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from a2 import plots
from a2.training import History


def _history():
    return History(records=[{"epoch": e, "train_loss": 1 / e, "val_loss": 1.2 / e, "val_acc": 0.5 + e / 10}
                            for e in range(1, 4)], best_epoch=3)


def test_learning_curves_has_one_panel_per_metric():
    fig = plots.learning_curves({"a": _history(), "b": _history()}, metrics=("loss", "val_acc"))
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) >= 4
    plt.close(fig)


def test_learning_curves_wraps_panels_into_rows_and_hides_the_spare_ones():
    fig = plots.learning_curves(_history(), metrics=("loss", "val_acc", "loss"), ncols=2)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(fig.axes) == 4 and len(visible) == 3
    assert visible[2].get_position().y0 < visible[0].get_position().y0  # the third panel starts a second row
    plt.close(fig)


def test_confusion_and_roc_and_bars():
    fig = plots.confusion_matrix([[5, 1], [2, 7]], ["neg", "pos"], normalize=True)
    assert fig.axes[0].get_xlabel() == "predicted"
    y = np.array([0, 1, 0, 1, 1, 0])
    fig2 = plots.roc_pr_curves(y, {"m": y * 0.5 + 0.1 * np.arange(6)})
    assert "AUC" in fig2.axes[0].get_legend().get_texts()[0].get_text()
    fig3 = plots.bar_comparison({"ours": 1.0, "ref": 2.0}, highlight=["ours"])
    assert len(fig3.axes[0].patches) == 2
    plt.close("all")


def test_series_with_windows_and_score_distribution():
    ts = pd.date_range("2020", periods=50, freq="h")
    mask = np.zeros(50, bool)
    mask[10:20] = True
    fig = plots.series_with_windows(ts, np.sin(np.arange(50)), mask, flags=mask & (np.arange(50) % 3 == 0))
    assert len(fig.axes[0].patches) == 1  # one shaded window
    fig2 = plots.score_distribution(np.random.default_rng(0).random(50), mask.astype(int), threshold=0.5)
    assert fig2.axes[0].lines
    plt.close("all")


def test_save_for_report_writes_a_pdf_under_the_output_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("A2_OUTPUT_DIR", str(tmp_path))
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = plots.save_for_report(fig, "demo")
    assert path == tmp_path / "report" / "figures" / "demo.pdf"
    assert path.read_bytes().startswith(b"%PDF")
    plt.close(fig)


def test_text_exploration_plots():
    fig = plots.length_distribution([1, 5, 9, 2000], [0, 1, 0, 1])
    assert fig.axes
    fig2 = plots.word_panels({"neg": pd.Series({"bad": 3, "awful": 1}), "pos": pd.Series({"good": 2})})
    assert len(fig2.axes) == 2
    fig3 = plots.zipf_and_coverage([5, 3, 1], pd.DataFrame({"max_len": [1, 2], "tokens_kept": [0.5, 1.0]}))
    assert len(fig3.axes) == 2
    plt.close("all")


def test_image_gallery_with_overlays_hides_spare_axes():
    imgs = np.zeros((3, 3, 8, 8), dtype=np.uint8)
    fig = plots.image_gallery(imgs, ["a", "b", "c"], ncols=2, overlays=np.ones((3, 2, 2)))
    assert len(fig.axes) == 4
    plt.close(fig)

def test_history_panels_label_each_curve():
    records = [{"epoch": e, "train_loss": 1 / e, "val_ce": 1.2 / e, "train_accuracy": 0.5 + e / 10} for e in (1, 2, 3)]
    fig = plots.history_panels(records, {"loss": {"training loss (label-smoothed)": "train_loss",
                                                  "validation cross-entropy": "val_ce"},
                                         "accuracy": {"train": "train_accuracy"}})
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["training loss (label-smoothed)", "validation cross-entropy"] and len(fig.axes) == 2
    plt.close("all")
