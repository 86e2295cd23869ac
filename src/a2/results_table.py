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
from a2.results import ResultsError, flatten, load_all_results
from a2.vision.models import stored_label


@dataclass(frozen=True)
class Row:
    """One table row: the JSON key of its value in ``results/<stem>.json``, and how to show it.

    ``model`` marks a bonus row whose label is the trained variant of that model; ``path`` is then
    read inside ``models.<model>``. A ``{key}`` in ``measure`` is filled from the same results file
    (:func:`_measure`), so a count in a label is not typed by hand either. An ``optional`` row belongs to a
    section a notebook runs only on request: without its value the row is left out, never an error.
    """

    stem: str
    part: str
    measure: str
    path: str
    fmt: str = "{:.3f}"
    references: tuple[Reference, ...] = ()
    model: str | None = None
    optional: bool = False


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
    Row("nab", "II NAB corpus",
        "standard, held out: post-processing and threshold chosen on the other half of the files",
        "selection_out_of_sample.mean.autoencoder", "{:.1f}"),
    Row("nab", "II NAB corpus", "Numenta HTM on the same halves, threshold held out (official results file)",
        "held_out_headline.numenta.held_out", "{:.1f}"),
    Row("nab", "II NAB corpus", "ARTime on the same halves, threshold held out (official results file)",
        "held_out_headline.ARTime.held_out", "{:.1f}"),
    Row("nab", "II NAB corpus", "PR-AUC, all scored rows", "pr_auc"),
    Row("part_4", "IV transformer", "Transformer (tokens only): test accuracy", "test.accuracy", "{:.2%}",
        (NBSVM_IMDB, KERAS_TRANSFORMER_IMDB)),
    Row("part_4", "IV transformer", "Transformer (tokens only): test accuracy at threshold 0.5", "test_at_0_5.accuracy",
        "{:.2%}"),
    Row("part_4", "IV transformer",
        "Transformer (tokens only): test accuracy, mean of {seeds_full_summary.n} seeds at full budget (`SEEDS_FULL`)",
        "seeds_full_summary.mean_test_accuracy", "{:.2%}", optional=True),
    Row("part_4", "IV transformer", "Transformer (tokens only): test accuracy, s.d. over those seeds",
        "seeds_full_summary.sd_test_accuracy", "{:.2%}", optional=True),
    Row("part_4", "IV transformer", "Transformer (tokens only): test F1", "test.f1"),
    Row("part_4", "IV transformer", "Transformer (tokens only): test ROC-AUC", "test.roc_auc"),
    Row("part_4", "IV transformer", "TF-IDF + LR test accuracy (C and threshold chosen on validation, same run)",
        "baselines.tfidf_lr.test_accuracy", "{:.2%}"),
    Row("part_4", "IV transformer", "NBSVM-bi test accuracy (same protocol, same run)",
        "baselines.nbsvm.test_accuracy", "{:.2%}"),
    Row("part_4", "IV transformer", "ensemble Transformer + NBSVM-bi (weights chosen on validation): test accuracy",
        "variants.ensemble.test_accuracy", "{:.2%}"),
    Row("part_4", "IV transformer", "training throughput (tokens/s)", "throughput_tokens_per_s", "{:,.0f}"),
    Row("part_4", "IV transformer", "notebook runtime", "runtime_s", "{:.0f} s"),
    _bonus("vgg13"),
    _bonus("resnet18"),
    _bonus("vit"),
    _bonus("efficientnet_b0"),
)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# What each value means, by the last part of its key (first match wins): the range a correct run can give.
# A value outside it is a broken file or a bug upstream, never something to publish ("-50.00%").
_MEANINGS: tuple[tuple[re.Pattern[str], str, float, float], ...] = tuple(
    (re.compile(pattern), meaning, low, high) for pattern, meaning, low, high in (
        (r"(^|\.)(n_series|ensemble_members|seeds|params)$", "a count", 0, math.inf),
        (r"(^|\.)nab_score_sd\.", "a standard deviation", 0, math.inf),
        (r"(^|\.)(nab_score_mean|single_autoencoder|reference_first_difference)\.|out_of_sample_standard$",
         "a NAB score (at most 100)", -math.inf, 100),
        (r"(accuracy|f1|roc_auc|pr_auc|event_f1\.(chosen|reference))$", "a fraction in [0, 1]", 0, 1),
        (r"(loss|runtime_s|throughput_tokens_per_s)$", "a non-negative number", 0, math.inf),
    ))


def _meaning(key: str) -> tuple[str, float, float] | None:
    for pattern, meaning, low, high in _MEANINGS:
        if pattern.search(key):
            return meaning, low, high
    return None


_FIX = "restore it (git checkout) or rerun the notebook that writes it"


def _checked(value: Any, stem: str, key: str, numeric: bool) -> Any:
    """``value`` if it is what ``key`` means (a finite number in range, a whole count, a name); else
    :class:`ResultsError` naming the file and key."""
    meaning = _meaning(key)
    if numeric or meaning is not None:
        if not _is_number(value):
            raise ResultsError(f"results/{stem}.json: {key} is {value!r}, not a finite number", _FIX)
        if meaning is not None:
            what, low, high = meaning
            if not low <= value <= high or (what == "a count" and value != int(value)):
                raise ResultsError(f"results/{stem}.json: {key} is {value!r}, which cannot be {what}",
                                   _FIX)
    elif not (isinstance(value, str) and value.strip()):
        raise ResultsError(f"results/{stem}.json: {key} is {value!r}, not a name", _FIX)
    return value


def _find(payload: Mapping[str, Any], dotted: str, stem: str, prefix: str = "") -> Any:
    """``lookup`` that tells a missing key (``None``) from a malformed file (``"test": "oops"``: an error)."""
    node: Any = payload
    walked = prefix
    for key in dotted.split("."):
        if node is None:
            return None
        if not isinstance(node, Mapping):
            raise ResultsError(f"results/{stem}.json: {walked} is {node!r}, not an object holding {key!r}",
                               _FIX)
        node = node.get(key)
        walked = f"{walked}.{key}" if walked else key
    return node


_FIELD = re.compile(r"\{([\w.]+)\}")


def _measure(row: Row, payload: Mapping[str, Any]) -> str:
    """The row's measure with every ``{key}`` filled from ``payload``: a number as it is, a mapping or list by
    its size (``{seeds}``: how many seeds were run)."""
    def fill(match: re.Match[str]) -> str:
        value = _find(payload, match.group(1), row.stem)
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


def _missing(stem: str, what: str) -> ResultsError:
    return ResultsError(f"results/{stem}.json {what}",
                        "rerun the notebook that writes it, or pass --partial for a table without those rows")


def table_lines(results: Mapping[str, Mapping[str, Any]], partial: bool = True) -> list[str]:
    """One markdown line per row whose value exists in ``results``; with ``partial=False`` a missing file
    or value is a :class:`ResultsError` naming it. A malformed or out-of-range value always is."""
    if not isinstance(results, Mapping):
        raise ResultsError(f"the results are a {type(results).__name__}, not {{name: contents of results/name.json}}",
                           "pass load_all_results(folder), or a dict of that shape")
    lines: list[str] = []
    missing: list[ResultsError] = []  # raised after the loop: a malformed value anywhere is named first
    for row in TABLE_ROWS:
        if row.stem not in results:
            missing.append(_missing(row.stem, "is missing"))
            continue
        payload = results[row.stem]
        if not isinstance(payload, Mapping):
            raise ResultsError(f"results/{row.stem}.json holds a {type(payload).__name__}, not a JSON object",
                               _FIX)
        scope = _find(payload, f"models.{row.model}", row.stem) if row.model else payload
        key = f"models.{row.model}.{row.path}" if row.model else row.path
        value = None if scope is None else _find(scope, row.path, row.stem, f"models.{row.model}" if row.model else "")
        if value is None:
            if not row.optional:
                missing.append(_missing(row.stem, f"lacks {key}"))
            continue
        value = _checked(value, row.stem, key, numeric=row.fmt != "{}")
        reference = "; ".join(map(str, row.references))
        commit = payload.get("git_commit", "")
        lines.append(f"| {row.part} | {_label(row, scope)} | {row.fmt.format(value)} | {reference} | {commit} |")
    if missing and not partial:
        raise missing[0]
    return lines


def results_table(results: Mapping[str, Mapping[str, Any]] | None = None, partial: bool = True) -> str:
    """The README's results table (markdown), generated from ``results/*.json`` (see :func:`table_lines`)."""
    results = load_all_results() if results is None else results
    lines = ["| part | measure | value | reference | commit |", "| --- | --- | --- | --- | --- |"]
    lines += table_lines(results, partial) or ["| – | no results yet: run `make run` | | | |"]
    return "\n".join(lines)


def summarise(results: Mapping[str, Mapping[str, Any]]) -> Iterable[str]:
    """One line per results file: its first numbers, for ``main.py``'s closing summary."""
    for stem, payload in results.items():
        numbers = {
            k: v for k, v in flatten(payload).items() if isinstance(v, (int, float)) and not isinstance(v, bool)
        }
        shown = ", ".join(f"{k}={v:.4g}" for k, v in list(numbers.items())[:12])
        yield f"{stem}: {shown}"
