"""The README's results table, rendered from ``results/*.json``; no number in it is typed by hand.

A row's reference column holds published figures and their sources only (:mod:`a2.references`), so
a reader can tell a requirement of the assignment from a published baseline. The bonus rows name the
trained, scaled-down variants with their size, never just the canonical model's name. A value that
is not a finite number stops the rendering with a one-line :class:`ResultsError` naming the file
and key: a README must never publish "nan%".
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from a2.references import ASSIGNMENT_MINIMUM_ACCURACY, KERAS_TRANSFORMER_IMDB, NAB_HTM, NBSVM_IMDB, Reference
from a2.results import ResultsError, load_all_results, lookup
from a2.vision.models import stored_label


@dataclass(frozen=True)
class Row:
    """One table row: the JSON key of its value in ``results/<stem>.json``, and how to show it.

    ``model`` marks a bonus row whose label is the trained variant of that model; ``path`` is then
    read inside ``models.<model>``. A ``{key}`` in ``measure`` is filled from the same results file
    (:func:`_measure`), so a count in a label is not typed by hand either.
    """

    stem: str
    part: str
    measure: str
    path: str
    fmt: str = "{:.3f}"
    references: tuple[Reference, ...] = ()
    model: str | None = None


def _bonus(model: str) -> Row:
    return Row("bonus", "Bonus vision", "test accuracy", "test_accuracy", "{:.2%}", model=model)


TABLE_ROWS: tuple[Row, ...] = (
    Row("part_2", "II autoencoder", "best model (chosen on validation)", "best_model", "{}"),
    Row("part_2", "II autoencoder", "test accuracy", "test.accuracy", "{:.2%}", (ASSIGNMENT_MINIMUM_ACCURACY,)),
    Row("part_2", "II autoencoder", "test point-wise F1", "test.f1"),
    Row("part_2", "II autoencoder", "test event-wise F1", "test.event_f1"),
    Row("part_2", "II autoencoder", "test ROC-AUC", "test.roc_auc"),
    Row("part_2", "II autoencoder", "test loss (reconstruction MSE)", "test.loss", "{:.4f}"),
    Row("part_2", "II autoencoder", "mean-level reference: test point-wise F1", "baseline_test.f1"),
    Row("part_2", "II autoencoder", "mean-level reference: test event-wise F1", "baseline_test.event_f1"),
    Row("part_2", "II autoencoder", "series in the multi-series evaluation", "multi_series.n_series", "{}"),
    Row("part_2", "II autoencoder", "multi-series mean event-wise F1, chosen autoencoder",
        "multi_series.mean_event_f1.chosen"),
    Row("part_2", "II autoencoder", "multi-series mean event-wise F1, mean-level reference",
        "multi_series.mean_event_f1.reference"),
    Row("part_2", "II autoencoder", "notebook runtime", "runtime_s", "{:.0f} s"),
    Row("nab", "II NAB corpus",
        "NAB score, standard (ensemble of {ensemble_members} autoencoders, mean of {seeds} seeds)",
        "nab_score_mean.standard", "{:.1f}", (NAB_HTM["standard"],)),
    Row("nab", "II NAB corpus", "NAB score, standard: s.d. over seeds", "nab_score_sd.standard", "{:.1f}"),
    Row("nab", "II NAB corpus", "NAB score, standard: the same autoencoders scored alone (mean)",
        "single_autoencoder.mean.standard", "{:.1f}"),
    Row("nab", "II NAB corpus", "NAB score, reward low FP (mean)", "nab_score_mean.reward_low_FP_rate", "{:.1f}",
        (NAB_HTM["reward_low_FP_rate"],)),
    Row("nab", "II NAB corpus", "NAB score, reward low FN (mean)", "nab_score_mean.reward_low_FN_rate", "{:.1f}",
        (NAB_HTM["reward_low_FN_rate"],)),
    Row("nab", "II NAB corpus", "first-difference reference (no autoencoder), standard",
        "reference_first_difference.standard", "{:.1f}"),
    Row("nab", "II NAB corpus", "standard, out-of-sample threshold", "out_of_sample_standard", "{:.1f}"),
    Row("nab", "II NAB corpus", "PR-AUC, all scored rows", "pr_auc"),
    Row("part_4", "IV transformer", "test accuracy", "test.accuracy", "{:.2%}", (NBSVM_IMDB, KERAS_TRANSFORMER_IMDB)),
    Row("part_4", "IV transformer", "test accuracy at threshold 0.5", "test_at_0_5.accuracy", "{:.2%}"),
    Row("part_4", "IV transformer", "test F1", "test.f1"),
    Row("part_4", "IV transformer", "test ROC-AUC", "test.roc_auc"),
    Row("part_4", "IV transformer", "TF-IDF + LR test accuracy (same run)", "baseline.test_accuracy", "{:.2%}"),
    Row("part_4", "IV transformer", "training throughput (tokens/s)", "throughput_tokens_per_s", "{:,.0f}"),
    Row("part_4", "IV transformer", "notebook runtime", "runtime_s", "{:.0f} s"),
    _bonus("vgg13"),
    _bonus("resnet18"),
    _bonus("vit"),
    _bonus("efficientnet_b0"),
)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _checked(value: Any, stem: str, key: str, numeric: bool) -> Any:
    if numeric and not _is_number(value):
        raise ResultsError(f"results/{stem}.json: {key} is {value!r}, not a finite number",
                           "restore it (git checkout) or rerun the notebook that writes it")
    return value


_FIELD = re.compile(r"\{([\w.]+)\}")


def _measure(row: Row, payload: Mapping[str, Any]) -> str:
    """The row's measure with every ``{key}`` filled from ``payload``: a number as it is, a mapping or list by
    its size (``{seeds}``: how many seeds were run)."""
    def fill(match: re.Match[str]) -> str:
        value = lookup(payload, match.group(1), None)
        if isinstance(value, (Mapping, list)):
            return str(len(value))
        return str(_checked(value, row.stem, match.group(1), numeric=True))

    return _FIELD.sub(fill, row.measure)


def _label(row: Row, entry: Mapping[str, Any]) -> str:
    """The row's measure, prefixed for bonus rows by the trained variant's honest name."""
    if row.model is None:
        return _measure(row, entry)
    if entry.get("params") is not None:
        _checked(entry["params"], row.stem, f"models.{row.model}.params", numeric=True)
    return f"{stored_label(row.model, entry)} {row.measure}"


def table_lines(results: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One markdown line per row whose value exists in ``results``."""
    lines = []
    for row in TABLE_ROWS:
        payload = results.get(row.stem, {})
        scope = lookup(payload, f"models.{row.model}", None) if row.model else payload
        if not isinstance(scope, Mapping):
            continue
        value = lookup(scope, row.path, None)
        if value is None:
            continue
        key = f"models.{row.model}.{row.path}" if row.model else row.path
        value = _checked(value, row.stem, key, numeric=row.fmt != "{}")
        reference = "; ".join(map(str, row.references))
        commit = payload.get("git_commit", "")
        lines.append(f"| {row.part} | {_label(row, scope)} | {row.fmt.format(value)} | {reference} | {commit} |")
    return lines


def results_table(results: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """The README's results table (markdown), generated from ``results/*.json``."""
    results = load_all_results() if results is None else results
    lines = ["| part | measure | value | reference | commit |", "| --- | --- | --- | --- | --- |"]
    lines += table_lines(results) or ["| – | no results yet: run `make run` | | | |"]
    return "\n".join(lines)


def summarise(results: Mapping[str, Mapping[str, Any]]) -> Iterable[str]:
    """One line per results file: its first numbers, for ``main.py``'s closing summary."""
    for stem, payload in results.items():
        numbers = {
            k: v for k, v in _flatten(payload).items() if isinstance(v, (int, float)) and not isinstance(v, bool)
        }
        shown = ", ".join(f"{k}={v:.4g}" for k, v in list(numbers.items())[:12])
        yield f"{stem}: {shown}"


def _flatten(payload: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in payload.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out
