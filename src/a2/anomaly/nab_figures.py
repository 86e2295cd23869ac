"""The two NAB figures of the report, sized for print: the headline (in sample and held out, beside HTM and
ARTime) and one example file with its windows, alerts and calibrated score.

The report places each at the full text width (5.5 in). They are drawn at :data:`WIDTH` inches with
:data:`FONT` pt text, so every label prints at ``FONT * 5.5 / WIDTH`` >= 7 pt; no panel has more than
three series, and legends sit outside the axes, never on the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from a2 import plots

WIDTH = 6.8  # inches, as drawn; printed at 5.5 in
FONT = 9.0  # pt as drawn: 9 * 5.5 / 6.8 = 7.3 pt in print
PRINT_WIDTH = 5.5
PROFILE_NAMES = {"standard": "standard", "reward_low_FP_rate": "low FP", "reward_low_FN_rate": "low FN"}


def printed_size(font_pt: float = FONT, width_in: float = WIDTH) -> float:
    """The size in pt at which text of ``font_pt`` prints when the figure is scaled to the text width."""
    return font_pt * PRINT_WIDTH / width_in


def _bars(ax: Any, table: pd.DataFrame, errors: pd.DataFrame | None = None) -> None:
    """Grouped bars (index = groups, columns = series) with their values printed above them."""
    n = len(table.columns)
    width = 0.8 / n
    x = np.arange(len(table))
    for j, col in enumerate(table.columns):
        err = None if errors is None else errors[col].to_numpy()
        bars = ax.bar(x + (j - (n - 1) / 2) * width, table[col].to_numpy(), width, yerr=err, capsize=2, label=col)
        ax.bar_label(bars, labels=[f"{v:.1f}" for v in table[col]], fontsize=FONT, padding=2,
                     rotation=90 if n > 2 else 0)  # side by side, three labels would overlap
    ax.set_xticks(x, table.index)
    ax.set_ylim(0, 100 if n <= 2 else 112)
    ax.grid(axis="x", visible=False)


def headline_figure(held_out: Mapping[str, Mapping[str, float]], names: Mapping[str, str],
                    profiles: pd.DataFrame, profile_sd: pd.Series) -> Figure:
    """Left: standard score in sample and held out for each detector of ``held_out`` (``{key: {"in_sample",
    "held_out"}}``, labelled by ``names``). Right: the three profiles in sample for the rows of ``profiles``
    (detectors x profiles), the first row with its seed s.d. as error bar."""
    with plt.rc_context({"font.size": FONT}):
        fig, (left, right) = plt.subplots(1, 2, figsize=(WIDTH, 2.9), width_ratios=(1, 1.25))
        ho = pd.DataFrame(held_out).T.rename(index=names)[["in_sample", "held_out"]]
        ho.columns = ["in sample (NAB convention)", "held out (two halves)"]
        _bars(left, ho)
        left.set(title="Standard profile", ylabel="NAB score")
        left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=1, frameon=False)
        table = profiles.rename(columns=PROFILE_NAMES).T
        errors = pd.DataFrame(0.0, index=table.index, columns=table.columns)
        errors[table.columns[0]] = profile_sd.rename(PROFILE_NAMES).reindex(table.index).to_numpy()
        _bars(right, table, errors)
        right.set(title="Three profiles, in sample")
        right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=1, frameon=False)
        fig.tight_layout()
    return fig


def example_figure(timestamps: Sequence[Any], values: Sequence[float], window_mask: Sequence[bool],
                   flagged: Sequence[bool], probation: int, calibrated: Sequence[float], alerts: Sequence[float],
                   threshold: float, title: str) -> Figure:
    """One file: the series with its labelled windows, probation and flagged rows (top); the calibrated score,
    the alerts and the threshold (bottom). Legends above each panel, off the data."""
    ts = np.asarray(timestamps)
    alerts = np.asarray(alerts, dtype=float)
    with plt.rc_context({"font.size": FONT}):
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(WIDTH, 3.9), sharex=True, height_ratios=(2, 1))
        plots.series_with_windows(ts, values, window_mask, flagged, ax=top)
        top.axvspan(ts[0], ts[max(probation - 1, 0)], color="grey", alpha=0.2, lw=0, label="probation (not scored)")
        top.set_title("")
        top.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=4, frameon=False, fontsize=FONT,
                   handlelength=1.2, columnspacing=1.0, borderaxespad=0.1)
        bottom.plot(ts, calibrated, lw=0.7, label="calibrated score")
        hit = alerts > 0
        bottom.scatter(ts[hit], alerts[hit], s=10, color="tab:orange", label="alerts", zorder=3)
        bottom.axhline(threshold, color="black", ls="--", lw=0.8, label="standard threshold")
        bottom.set(ylabel="score", ylim=(0, 1.05))
        bottom.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, frameon=False, fontsize=FONT,
                      handlelength=1.2, columnspacing=1.0, borderaxespad=0.1)
        locator = mdates.AutoDateLocator(maxticks=7)
        bottom.xaxis.set_major_locator(locator)
        bottom.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        fig.suptitle(title, fontsize=FONT)
        fig.tight_layout(h_pad=0.2, rect=(0, 0, 1, 0.97))
    return fig
