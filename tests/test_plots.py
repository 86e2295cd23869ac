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


def test_confusion_matrix_annotates_each_cell_with_its_row_share():
    fig = plots.confusion_matrix([[5, 1], [2, 7]], ["neg", "pos"], normalize=True)
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted", "true")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["neg", "pos"]
    assert [t.get_text() for t in ax.texts] == ["83.33%", "16.67%", "22.22%", "77.78%"]  # 5/6, 1/6, 2/9, 7/9
    plt.close(fig)


def test_roc_pr_curves_draw_each_scorers_curve_with_its_auc():
    y = np.array([0, 1, 0, 1, 1, 0])
    perfect, noisy = y.astype(float), y * 0.5 + 0.1 * np.arange(6)
    fig = plots.roc_pr_curves(y, {"perfect": perfect, "noisy": noisy})
    roc, pr = fig.axes
    legend = [t.get_text() for t in roc.get_legend().get_texts()]
    assert legend[0] == "perfect (AUC 1.000)" and legend[1].startswith("noisy (AUC ")
    x, yy = roc.lines[0].get_data()
    assert (x[0], yy[0], x[-1], yy[-1]) == (0.0, 0.0, 1.0, 1.0) and yy.max() == 1.0
    assert pr.get_lines()[-1].get_ydata()[0] == y.mean()  # the chance line sits at the positive share
    assert (roc.get_xlabel(), pr.get_xlabel()) == ("false positive rate", "recall")
    plt.close(fig)


def test_bar_comparison_draws_and_labels_every_value_and_colours_the_highlight():
    fig = plots.bar_comparison({"ours": 1.0, "ref": 2.0}, highlight=["ours"], ylabel="score")
    ax = fig.axes[0]
    assert [p.get_height() for p in ax.patches] == [1.0, 2.0]
    assert [t.get_text() for t in ax.texts] == ["1.0", "2.0"] and ax.get_ylabel() == "score"
    assert ax.patches[0].get_facecolor() != ax.patches[1].get_facecolor()
    plt.close(fig)


def test_series_with_windows_and_score_distribution():
    ts = pd.date_range("2020", periods=50, freq="h")
    mask = np.zeros(50, bool)
    mask[10:20] = True
    values = np.sin(np.arange(50))
    fig = plots.series_with_windows(ts, values, mask, flags=mask & (np.arange(50) % 3 == 0))
    assert len(fig.axes[0].patches) == 1  # one shaded window
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), values)  # the series itself
    fig2 = plots.score_distribution(np.random.default_rng(0).random(50), mask.astype(int), threshold=0.5)
    ax = fig2.axes[0]
    assert ax.lines[-1].get_xdata()[0] == 0.5  # the threshold line
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["normal", "in anomaly window", "threshold 0.5"]
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
    fig = plots.length_distribution([1, 5, 9, 2000], [0, 1, 0, 1], clip=1000)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "tokens" and {t.get_text() for t in ax.get_legend().get_texts()} == {"neg", "pos"}
    assert ax.dataLim.x1 <= 1000  # the 2000-token review is clipped
    fig2 = plots.word_panels({"neg": pd.Series({"bad": 3, "awful": 1}), "pos": pd.Series({"good": 2})})
    neg, pos = fig2.axes
    assert [t.get_text() for t in neg.get_yticklabels()] == ["awful", "bad"]  # most frequent on top
    assert sorted(p.get_width() for p in neg.patches) == [1, 3] and [p.get_width() for p in pos.patches] == [2]
    fig3 = plots.zipf_and_coverage([5, 3, 1], pd.DataFrame({"max_len": [1, 2], "tokens_kept": [0.5, 1.0]}))
    zipf, coverage = fig3.axes
    assert zipf.lines[0].get_ydata().tolist() == [5, 3, 1] and zipf.get_xscale() == "log"
    assert coverage.lines[0].get_ydata().tolist() == [0.5, 1.0] and coverage.lines[0].get_label() == "tokens kept"
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
