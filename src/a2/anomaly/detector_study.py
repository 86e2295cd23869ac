"""The study ``nab_benchmark.ipynb`` runs on the detector: which mechanism, post-processing and ensemble helps.

A catalogue of variants as overrides of a base :class:`~a2.anomaly.detector_config.DetectorConfig`
(:data:`STAGE_ONE`, :data:`POST`, :func:`post_processing_grid`) and the ways of measuring them cheaply:
each stage-one variant is run once, and every post-processing variant, every ensemble member alone and
every regrouping of the members into other ensemble sizes reuses those cached errors
(:func:`a2.anomaly.detector_run.postprocess`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from a2.anomaly.detector import member_seeds
from a2.anomaly.detector_config import STAGE_ONE_FIELDS, DetectorConfig
from a2.anomaly.detector_run import FileOutput, detect_corpus, postprocess, postprocess_many
from a2.progress import progress as progress_bar

# The mechanisms measured in nab_benchmark.ipynb, as overrides of the base configuration.
# Stage one changes the reconstruction errors (a new run each); post-processing reuses them.
STAGE_ONE: dict[str, dict[str, Any]] = {
    "autoencoder frozen after the probation": {},
    "autoencoder with a bounded output (probation range + 10%)": {"bounded_output": 0.1},
    "continual re-fitting (every 500 rows, 750-row buffer, 3 epochs)": {
        "refit_every": 500, "refit_buffer": 750, "refit_epochs": 3},
    "autoencoder predicting the newest row (its input copy masked)": {"masked": True},
    "calibration on a held-out half of the probation": {"holdout": True},
    "second autoencoder on 6-row blocks (larger score kept)": {"coarse": 6},
    "ensemble of 3 autoencoders with a bounded output (mean error)": {"bounded_output": 0.1, "members": 3},
    "first difference instead of an autoencoder (reference)": {"error_source": "first_difference"},
}
POST: dict[str, dict[str, Any]] = {
    "": {},
    " + magnitude gate": {"magnitude_gate": 0.05},
    " + seasonal gate": {"seasonal_gate": 288},
    " + both gates": {"magnitude_gate": 0.05, "seasonal_gate": 288},
}


def measure(base: DetectorConfig, stage_one: dict[str, dict[str, Any]] | None = None,
            post: dict[str, dict[str, Any]] | None = None, files: Sequence[str] | None = None, workers: int = 2,
            ) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, FileOutput]]]:
    """Every stage-one variant run once, every post-processing variant applied to its cached errors.

    Returns ``({"<stage one><post>": {file: anomaly_score}}, {"<stage one>": outputs})``.
    """
    stage_one = STAGE_ONE if stage_one is None else stage_one
    post = POST if post is None else post
    scores, outputs = {}, {}
    for label in progress_bar(list(stage_one), desc="mechanisms"):
        cfg = replace(base, **stage_one[label])
        outputs[label] = detect_corpus(cfg, files, workers=workers)
        for suffix, over in post.items():
            scores[label + suffix] = postprocess(outputs[label], replace(cfg, **over))
    return scores, outputs


def stage_one_label(cfg: DetectorConfig, base: DetectorConfig, stage_one: dict[str, dict[str, Any]] | None = None,
                    ) -> str:
    """The :data:`STAGE_ONE` entry whose reconstruction errors ``cfg`` uses (its post-processing may differ)."""
    stage_one = STAGE_ONE if stage_one is None else stage_one
    for label, overrides in stage_one.items():
        candidate = replace(base, **overrides)
        if all(getattr(candidate, k) == getattr(cfg, k) for k in STAGE_ONE_FIELDS):
            return label
    raise ValueError("no measured stage-one variant produces the errors of this configuration; "
                     "add its stage-one overrides to STAGE_ONE")


def variants(outputs: dict[str, FileOutput], configs: dict[str, DetectorConfig]) -> dict[str, dict[str, np.ndarray]]:
    """``{label: {file: anomaly_score}}``: stages 2-3 of each config re-run on the same cached errors.

    Only post-processing settings may differ (gates, calibration, suppression); settings that change
    the errors themselves (model, refitting, holdout, coarse) need a new corpus run.
    """
    first = next(iter(configs.values()))
    for label, cfg in configs.items():
        changed = [k for k in STAGE_ONE_FIELDS if getattr(cfg, k) != getattr(first, k)]
        if changed:
            raise ValueError(f"variant {label!r} changes {changed}, which need new reconstruction errors; "
                             "run detect_corpus for it instead")
    return postprocess_many(outputs, configs)


def cumulative(outputs: dict[str, FileOutput], base: DetectorConfig, steps: dict[str, dict[str, Any]],
               ) -> dict[str, dict[str, np.ndarray]]:
    """``{label: {file: anomaly_score}}`` for post-processing settings added one step at a time to ``base``.

    Step k applies the overrides of steps 1..k, so each row of a table shows what one more setting adds.
    """
    out, cfg = {}, base
    for label, overrides in steps.items():
        cfg = replace(cfg, **overrides)
        changed = [k for k in overrides if k in STAGE_ONE_FIELDS]
        if changed:
            raise ValueError(f"step {label!r} changes {changed}, which need new reconstruction errors")
        out[label] = postprocess(outputs, cfg)
    return out


def post_processing_grid(levels: Sequence[float] = (0.02, 0.035, 0.05, 0.065),
                         refractories: Sequence[float] = (0.15, 0.25, 0.5),
                         gates: Sequence[float | None] = (None, 0.05, 0.1),
                         ensembles: Sequence[bool] = (False, True),
                         longs: Sequence[int] = (1500, 8640)) -> dict[str, dict[str, Any]]:
    """Every combination of alert level, refractory period, magnitude gate, first-difference ensemble and
    trailing history, as ``{label: overrides}`` (each sets all five, so it replaces whatever post-processing a
    base has): the kind of search the reported configuration came from, for
    :func:`a2.anomaly.nab_scoring.selection_out_of_sample`."""
    return {f"level {lv}, refractory {rf}, gate {g}, ensemble {e}, history {lg}":
            {"level": lv, "refractory": rf, "magnitude_gate": g, "difference_ensemble": e, "long": lg}
            for lv, rf, g, e, lg in itertools.product(levels, refractories, gates, ensembles, longs)}


def members_alone(outputs: dict[str, FileOutput], cfg: DetectorConfig) -> dict[int, dict[str, FileOutput]]:
    """``{member seed: outputs}``: each ensemble member's errors as if it were a single autoencoder.

    Stages 2-3 are left to :func:`~a2.anomaly.detector_run.postprocess` (with ``members=1`` and that seed),
    so one ensemble run also measures every member on its own with the same post-processing.
    """
    missing = [name for name, o in outputs.items() if o.member_errors is None]
    if missing:
        raise ValueError(f"{missing[0]} has no per-member errors; run detect_corpus with members > 1 first")
    return {seed: {name: replace(o, errors=o.member_errors[k], member_errors=None) for name, o in outputs.items()}
            for k, seed in enumerate(member_seeds(cfg))}


def _every_member(seed_outputs: dict[int, dict[str, FileOutput]], cfg: DetectorConfig,
                  ) -> dict[int, dict[str, FileOutput]]:
    """:func:`members_alone` of every seed's ensemble run, in one ``{member seed: outputs}``."""
    return {member: alone for seed, outputs in seed_outputs.items()
            for member, alone in members_alone(outputs, replace(cfg, seed=seed)).items()}


def member_scores(seed_outputs: dict[int, dict[str, FileOutput]], cfg: DetectorConfig,
                  ) -> dict[int, dict[str, np.ndarray]]:
    """``{member seed: {file: anomaly_score}}``: every member of every seed's ensemble alone, post-processed
    as ``cfg`` (with ``members=1``), i.e. the single-autoencoder detector on ``members x seeds`` seeds,
    measured by the ensemble runs themselves."""
    return {member: postprocess(alone, replace(cfg, members=1, seed=member))
            for member, alone in _every_member(seed_outputs, cfg).items()}


def regrouped(seed_outputs: dict[int, dict[str, FileOutput]], cfg: DetectorConfig, size: int,
              ) -> dict[tuple[int, ...], dict[str, FileOutput]]:
    """Every member of the ensemble runs ``seed_outputs`` regrouped into disjoint ensembles of ``size`` models
    (consecutive member seeds, a remainder left out): ``{member seeds: outputs}``, each with its group's mean error.

    One set of runs thus measures other ensemble sizes without training again (stages 2-3 via ``postprocess``).
    """
    alone = _every_member(seed_outputs, cfg)
    order = sorted(alone)
    if not 1 <= size <= len(order):
        raise ValueError(f"size={size!r}; the runs hold {len(order)} members, so use 1 to {len(order)}")
    groups = [tuple(order[i:i + size]) for i in range(0, len(order) - size + 1, size)]
    return {g: {name: replace(o, errors=np.mean([alone[m][name].errors for m in g], axis=0))
                for name, o in alone[g[0]].items()} for g in groups}
