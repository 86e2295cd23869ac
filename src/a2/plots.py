"""Every figure in the repository: learning curves, confusion matrices, ROC/PR, anomaly series.

Each function draws on a new figure (or on ``ax`` when given) and returns the figure, so a
notebook cell is one call. Plots use seaborn's theme. The only numbers computed here label a curve
(the AUC and average precision in the ROC/PR legends, from scikit-learn); results come from the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from sklearn import metrics as skm

from a2.evaluation import runs
from a2.io import atomic_write
from a2.runtime import output_dir
from a2.training import History

sns.set_theme(context="notebook", style="whitegrid")

HistoryLike = History | Sequence[Mapping[str, float]]


def save_for_report(fig: Figure, name: str) -> Path:
    """Save ``fig`` as ``report/figures/<name>.pdf`` (vector, print quality) for the report PDF.

    The folder sits under :func:`a2.runtime.output_dir`, so FAST runs and tests write to their own
    output folder and never overwrite the figures of a full run. Returns the path written.
    """
    path = output_dir() / "report" / "figures" / f"{name}.pdf"
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="pdf", bbox_inches="tight"))
    return path


def _records(history: HistoryLike) -> pd.DataFrame:
    return pd.DataFrame(history.records if isinstance(history, History) else list(history))


def _axes(ax: Axes | None, figsize: tuple[float, float] = (6, 4)) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def learning_curves(
    histories: HistoryLike | Mapping[str, HistoryLike],
    metrics: Sequence[str] = ("loss",),
    *,
    title: str | None = None,
    ncols: int | None = None,
) -> Figure:
    """One panel per metric (``ncols`` per row, default all in one row); train (dashed) and validation
    (solid) per model, best epoch marked."""
    if not isinstance(histories, Mapping):
        histories = {"": histories}
    ncols = min(ncols or len(metrics), len(metrics))
    nrows = -(-len(metrics) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.5 * ncols, 4 * nrows), squeeze=False)
    for ax in axes.flat[len(metrics):]:
        ax.set_visible(False)
    palette = sns.color_palette(n_colors=max(1, len(histories)))
    for ax, metric in zip(axes.flat, metrics, strict=False):
        for color, (name, history) in zip(palette, histories.items(), strict=False):
            df = _records(history)
            for split, style in (("train", "--"), ("val", "-")):
                col = metric if metric in df else f"{split}_{metric}"
                if col not in df or (col == metric and split == "train"):
                    continue
                label = " ".join(s for s in (name, split if col != metric else "") if s)
                ax.plot(df["epoch"], df[col], style, color=color, label=label or col)
            if isinstance(history, History) and history.best_epoch is not None:
                ax.axvline(history.best_epoch, color=color, alpha=0.3, lw=1)
        ax.set(xlabel="epoch", ylabel=metric, title=metric)
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix(
    cm: Sequence[Sequence[int]] | np.ndarray,
    labels: Sequence[str],
    *,
    normalize: bool = False,
    title: str = "Confusion matrix",
    ax: Axes | None = None,
) -> Figure:
    """Annotated heat map; rows are true classes, columns predictions."""
    cm = np.asarray(cm, dtype=float)
    fig, ax = _axes(ax, (1.6 * len(labels) + 2, 1.4 * len(labels) + 1.5))
    data = cm / cm.sum(axis=1, keepdims=True).clip(min=1) if normalize else cm
    sns.heatmap(data, annot=True, fmt=".2%" if normalize else ".0f", cmap="Blues", cbar=False,
                xticklabels=labels, yticklabels=labels, ax=ax)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.tight_layout()
    return fig


def roc_pr_curves(y_true: Sequence[int], scores: Mapping[str, Sequence[float]], *, title: str = "") -> Figure:
    """ROC and precision-recall curves side by side, one line per scorer, with AUCs in the legend."""
    fig, (roc_ax, pr_ax) = plt.subplots(1, 2, figsize=(11, 4.2))
    y_true = np.asarray(y_true)
    for name, score in scores.items():
        fpr, tpr, _ = skm.roc_curve(y_true, score)
        roc_ax.plot(fpr, tpr, label=f"{name} (AUC {skm.auc(fpr, tpr):.3f})")
        prec, rec, _ = skm.precision_recall_curve(y_true, score)
        pr_ax.plot(rec, prec, label=f"{name} (AP {skm.average_precision_score(y_true, score):.3f})")
    roc_ax.plot([0, 1], [0, 1], ":", color="grey")
    pr_ax.axhline(y_true.mean(), ls=":", color="grey", label=f"chance ({y_true.mean():.3f})")
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    pr_ax.set(xlabel="recall", ylabel="precision", title="Precision-recall")
    for ax in (roc_ax, pr_ax):
        ax.legend(fontsize="small", loc="lower right" if ax is roc_ax else "upper right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def shade_windows(ax: Axes, index: Sequence[Any], mask: Sequence[bool], *, color: str = "tab:red",
                  label: str = "labelled anomaly window") -> None:
    """Shade each run of ``mask`` over the x-values ``index``."""
    index = np.asarray(index)
    for i, (s, e) in enumerate(runs(np.asarray(mask, dtype=bool))):
        ax.axvspan(index[s], index[e], color=color, alpha=0.15, lw=0, label=label if i == 0 else None)


def series_with_windows(
    timestamps: Sequence[Any],
    values: Sequence[float],
    windows: Sequence[bool] | None = None,
    flags: Sequence[bool] | None = None,
    *,
    title: str = "",
    ylabel: str = "value",
    ax: Axes | None = None,
) -> Figure:
    """A time series with labelled windows shaded and detections (flags) marked on top."""
    fig, ax = _axes(ax, (14, 3.6))
    ts, vals = np.asarray(timestamps), np.asarray(values, dtype=float)
    ax.plot(ts, vals, lw=0.7, color="tab:blue", label="series")
    if windows is not None:
        shade_windows(ax, ts, windows)
    if flags is not None:
        f = np.asarray(flags, dtype=bool)
        ax.scatter(ts[f], vals[f], s=9, color="tab:orange", zorder=3, label="flagged")
    ax.set(title=title, ylabel=ylabel)
    ax.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    return fig


def score_distribution(
    scores: Sequence[float], labels: Sequence[int], threshold: float | None = None, *,
    title: str = "Anomaly-score distribution", log: bool = True, ax: Axes | None = None,
) -> Figure:
    """Histogram of scores for normal vs anomalous points, with the decision threshold."""
    fig, ax = _axes(ax, (7, 4))
    df = pd.DataFrame({"score": np.asarray(scores, dtype=float),
                       "label": np.where(np.asarray(labels) == 1, "in anomaly window", "normal")})
    order = [h for h in ("normal", "in anomaly window") if (df["label"] == h).any()]
    sns.histplot(df, x="score", hue="label", hue_order=order, bins=60, stat="density", common_norm=False,
                 log_scale=(False, log), element="step", ax=ax)
    if threshold is not None:
        ax.axvline(threshold, color="black", ls="--", label=f"threshold {threshold:.3g}")
        legend = ax.get_legend()  # keep seaborn's own handle/label pairs: hard-coded names can swap
        ax.legend(handles=[*legend.legend_handles, ax.lines[-1]],
                  labels=[*(t.get_text() for t in legend.get_texts()), f"threshold {threshold:.3g}"],
                  fontsize="small")
    ax.set(title=title)
    fig.tight_layout()
    return fig


def bar_comparison(values: Mapping[str, float], *, title: str = "", ylabel: str = "",
                   highlight: Sequence[str] = (), fmt: str = "{:.1f}", ax: Axes | None = None) -> Figure:
    """A labelled bar chart, e.g. our score beside a scoreboard; ``highlight`` bars are coloured."""
    fig, ax = _axes(ax, (max(6, 0.9 * len(values) + 2), 4))
    names = list(values)
    colors = ["tab:orange" if n in highlight else "tab:blue" for n in names]
    bars = ax.bar(names, [values[n] for n in names], color=colors)
    ax.bar_label(bars, labels=[fmt.format(values[n]) for n in names], fontsize="small")
    ax.set(title=title, ylabel=ylabel)
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    return fig


def image_gallery(images: Any, titles: Sequence[str] = (), *, ncols: int = 8, overlays: Any = None,
                  title: str = "", size: float = 1.7) -> Figure:
    """A grid of images (uint8/float ``(N, 3, H, W)`` or ``(N, H, W, 3)``), optionally with heat-map overlays."""
    imgs = np.asarray(images.cpu() if hasattr(images, "cpu") else images)
    if imgs.ndim == 4 and imgs.shape[1] in (1, 3) and imgs.shape[-1] not in (1, 3):
        imgs = imgs.transpose(0, 2, 3, 1)
    n = len(imgs)
    ncols = max(1, min(ncols, n))
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if title else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(imgs[i] if imgs.dtype == np.uint8 else np.clip(imgs[i], 0, 1))
        if overlays is not None:
            h, w = imgs[i].shape[:2]
            ax.imshow(np.asarray(overlays[i]), cmap="jet", alpha=0.45, extent=(-0.5, w - 0.5, h - 0.5, -0.5),
                      interpolation="bilinear")
        if i < len(titles):
            ax.set_title(titles[i], fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# Part II exploration: value distribution, sampling regularity, daily profile, autocorrelation
# ---------------------------------------------------------------------------------------------


def distribution_by_label(values: Sequence[float], labels: Sequence[int], *, title: str = "Value distribution",
                          xlabel: str = "value", ax: Axes | None = None) -> Figure:
    """Density histograms of the values inside and outside the labelled anomaly windows."""
    fig, ax = _axes(ax, (6, 4))
    df = pd.DataFrame({xlabel: np.asarray(values, dtype=float),
                       "rows": np.where(np.asarray(labels) == 1, "in anomaly window", "normal")})
    sns.histplot(df, x=xlabel, hue="rows", bins=60, stat="density", common_norm=False, element="step", ax=ax)
    ax.set(title=title)
    fig.tight_layout()
    return fig


def sampling_intervals(timestamps: Sequence[Any], *, title: str = "Time between readings",
                       ax: Axes | None = None) -> Figure:
    """Counts of each distinct step between consecutive timestamps (log scale): gaps and jumps stand out."""
    fig, ax = _axes(ax, (6, 4))
    steps = pd.Series(pd.DatetimeIndex(timestamps)).diff().dropna().dt.total_seconds() / 60
    counts = steps.value_counts().sort_index()
    bars = ax.bar([f"{m:g}" for m in counts.index], counts.to_numpy(), color="tab:blue")
    ax.bar_label(bars, fontsize="small")
    ax.set(yscale="log", xlabel="minutes since previous reading", ylabel="count", title=title)
    fig.tight_layout()
    return fig


def daily_profile(timestamps: Sequence[Any], values: Sequence[float], *, title: str = "Daily profile",
                  ylabel: str = "value", ax: Axes | None = None) -> Figure:
    """Median and inter-quartile band of the value per hour of day: the daily seasonality."""
    fig, ax = _axes(ax, (6, 4))
    df = pd.DataFrame({"hour": pd.DatetimeIndex(timestamps).hour, "v": np.asarray(values, dtype=float)})
    q = df.groupby("hour")["v"].quantile([0.25, 0.5, 0.75]).unstack()
    ax.fill_between(q.index, q[0.25], q[0.75], alpha=0.3, label="inter-quartile range")
    ax.plot(q.index, q[0.5], marker="o", label="median")
    ax.set(xlabel="hour of day", ylabel=ylabel, title=title)
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def autocorrelation(acf: Sequence[float], step_hours: float, *, title: str = "Autocorrelation",
                    ax: Axes | None = None) -> Figure:
    """Autocorrelation against the lag in hours (``acf[k]`` is lag ``k`` steps), daily lags marked."""
    fig, ax = _axes(ax, (6, 4))
    lags = np.arange(len(acf)) * step_hours
    ax.plot(lags, np.asarray(acf, dtype=float))
    for day in np.arange(24, lags[-1] + 1, 24):
        ax.axvline(day, color="grey", ls=":", lw=0.8)
    ax.axhline(0, color="black", lw=0.5)
    ax.set(xlabel="lag (hours; dotted lines every 24 h)", ylabel="autocorrelation", title=title)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# Text exploration (Part IV)
# ---------------------------------------------------------------------------------------------


def length_distribution(lengths: Sequence[int], labels: Sequence[int], *, clip: int = 1000,
                        title: str = "Review length per class (tokens after preprocessing)") -> Figure:
    """Overlaid histograms of sequence lengths per class (lengths above ``clip`` are clipped)."""
    fig, ax = _axes(None, (7, 4))
    df = pd.DataFrame({"tokens": np.minimum(np.asarray(lengths), clip),
                       "class": np.where(np.asarray(labels) == 1, "pos", "neg")})
    sns.histplot(df, x="tokens", hue="class", bins=60, element="step", ax=ax)
    ax.set(title=title)
    fig.tight_layout()
    return fig


def word_panels(panels: Mapping[str, pd.Series], *, title: str = "") -> Figure:
    """One horizontal bar chart per named series (e.g. top words per class)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 4.5), squeeze=False)
    for ax, (name, series) in zip(axes[0], panels.items(), strict=True):
        series[::-1].plot.barh(ax=ax, color="tab:red" if "neg" in name else "tab:green")
        ax.set(title=name)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def zipf_and_coverage(freqs: Sequence[int], coverage: pd.DataFrame) -> Figure:
    """Rank-frequency (log-log) beside the share of reviews/tokens kept against the maximum length."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    freqs = np.asarray(freqs)
    a.loglog(np.arange(1, len(freqs) + 1), freqs)
    a.set(xlabel="rank", ylabel="frequency", title="Zipf plot (training split)")
    for col in [c for c in coverage.columns if c != "max_len"]:
        b.plot(coverage["max_len"], coverage[col], marker="o", label=col.replace("_", " "))
    b.set(xlabel="maximum sequence length", ylabel="share", title="Coverage against sequence length")
    b.legend()
    fig.tight_layout()
    return fig


def history_panels(history: HistoryLike, panels: Mapping[str, Mapping[str, str]], *, title: str | None = None
                   ) -> Figure:
    """Learning curves with explicit labels: ``{panel title: {legend label: history column}}``.

    For curves whose names differ between splits, e.g. a label-smoothed training loss beside a
    plain validation cross-entropy, which must not be drawn as if they were the same quantity.
    """
    df = _records(history)
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for ax, (panel, curves) in zip(axes[0], panels.items(), strict=True):
        for label, column in curves.items():
            ax.plot(df["epoch"], df[column], "--" if column.startswith("train") else "-", marker="o", ms=3,
                    label=label)
        if isinstance(history, History) and history.best_epoch is not None:
            ax.axvline(history.best_epoch, color="grey", alpha=0.4, lw=1, label=f"kept: epoch {history.best_epoch}")
        ax.set(xlabel="epoch", title=panel)
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# Part II: many series, and NAB scores over seeds
# ---------------------------------------------------------------------------------------------


def paired_scores(table: pd.DataFrame, pairs: Mapping[str, tuple[str, str]], *, title: str = "",
                  xlabel: str = "reference", ylabel: str = "autoencoder") -> Figure:
    """One panel per metric: each series as a point (reference on x, model on y); above the diagonal = model wins."""
    fig, axes = plt.subplots(1, len(pairs), figsize=(5 * len(pairs), 4.6), squeeze=False)
    for ax, (metric, (x_col, y_col)) in zip(axes[0], pairs.items(), strict=True):
        ax.plot([0, 1], [0, 1], ":", color="grey")
        ax.scatter(table[x_col], table[y_col], s=40, color="tab:blue", zorder=3)
        for name, row in table.iterrows():
            ax.annotate(str(name).split("/")[-1].removesuffix(".csv")[:22], (row[x_col], row[y_col]),
                        fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.set(xlim=(-0.03, 1.03), ylim=(-0.03, 1.03), xlabel=f"{xlabel}: {metric}", ylabel=f"{ylabel}: {metric}",
               title=metric)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def grouped_bars(means: pd.DataFrame, sds: pd.DataFrame | None = None, *, title: str = "", ylabel: str = "",
                 ax: Axes | None = None) -> Figure:
    """Bars per row group (index) and column (e.g. detector x profile), with +- sd error bars when given."""
    fig, ax = _axes(ax, (max(7, 1.3 * means.size / max(1, len(means.columns)) + 3), 4.2))
    n = len(means.columns)
    width = 0.8 / n
    x = np.arange(len(means))
    for j, col in enumerate(means.columns):
        err = None if sds is None else sds[col].to_numpy()
        bars = ax.bar(x + (j - (n - 1) / 2) * width, means[col].to_numpy(), width, yerr=err, capsize=3, label=col)
        ax.bar_label(bars, labels=[f"{v:.1f}" for v in means[col]], fontsize=7)
    ax.set_xticks(x, means.index, rotation=20, ha="right")
    ax.set(title=title, ylabel=ylabel)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))  # beside the axes: never over a bar
    fig.tight_layout()
    return fig

