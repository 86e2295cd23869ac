"""Published NAB detectors scored on the same held-out halves as ours, from their official result files.

NAB's scoreboard sweeps each detector's threshold on the whole corpus it then scores. Our detector's
held-out figure (:func:`a2.anomaly.nab_scoring.selection_out_of_sample`) chooses its post-processing and its
threshold on one category-stratified half of the files and scores the other half, both ways. A fair
comparison gives the published detectors the same treatment: their official per-row ``anomaly_score``
(NAB's ``results/<detector>/``) with the threshold swept on one half and applied to the other, on the very
same halves (same seeds, same files). Nothing here trains or tunes anything else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from a2.anomaly import nab_scoring
from a2.anomaly.errors import NABScoreError

# Folder name under reference_results/ (NAB's detector name) -> the name the scoreboard prints.
REFERENCE_DETECTORS: dict[str, str] = {"numenta": "Numenta HTM", "ARTime": "ARTime"}


def reference_scores(results_dir: str | os.PathLike[str], files: Sequence[str],
                     root: str | os.PathLike[str] | None = None) -> dict[str, np.ndarray]:
    """The official per-row scores of one published detector, restricted to ``files`` (checked row for row)."""
    scores, _ = nab_scoring.read_results(results_dir, root)
    missing = sorted(set(files) - set(scores))
    if missing:
        raise NABScoreError(f"{results_dir} has no result for {missing[0]} (and {len(missing) - 1} more); "
                            "restore the official NAB results folder")
    return {name: scores[name] for name in files}


def held_out(scores: Mapping[str, np.ndarray], labels: Mapping[str, nab_scoring.FileLabels],
             profile: nab_scoring.Profile, seeds: Sequence[int]) -> dict[str, Any]:
    """In-sample score (threshold swept on every file) and the two-fold held-out threshold score per seed's
    halves (:func:`nab_scoring.out_of_sample`), with their mean: what one fixed detector is worth on unseen files."""
    if not seeds:
        raise NABScoreError("no seeds: give at least one seed to split the files into halves")
    n_windows = sum(len(lab.bounds) for lab in labels.values())
    _, raw = nab_scoring.sweep(scores, labels, profile)
    per_seed = {int(s): float(nab_scoring.out_of_sample(scores, labels, profile, seed=int(s))["score"]) for s in seeds}
    return {"in_sample": nab_scoring.normalise(raw, n_windows, profile), "held_out_seeds": per_seed,
            "held_out": float(np.mean(list(per_seed.values())))}


def references_held_out(reference_dir: str | os.PathLike[str], labels: Mapping[str, nab_scoring.FileLabels],
                        profile: nab_scoring.Profile, seeds: Sequence[int],
                        detectors: Mapping[str, str] | None = None,
                        root: str | os.PathLike[str] | None = None) -> dict[str, dict[str, Any]]:
    """:func:`held_out` of every published detector in ``detectors`` (folder -> display name), keyed by its
    folder name, on exactly the files of ``labels`` and the halves of ``seeds``."""
    detectors = REFERENCE_DETECTORS if detectors is None else detectors
    out = {}
    for folder in detectors:
        scores = reference_scores(Path(reference_dir) / folder, list(labels), root)
        out[folder] = held_out(scores, labels, profile, seeds)
    return out


def headline(ours_in_sample: float, ours_held_out: float,
             references: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """One row per detector: ``{"in_sample", "held_out"}``, ours first; the JSON shape of ``nab.json``'s
    ``held_out_headline``."""
    rows = {"ours": {"in_sample": float(ours_in_sample), "held_out": float(ours_held_out)}}
    rows.update({name: {"in_sample": float(r["in_sample"]), "held_out": float(r["held_out"])}
                 for name, r in references.items()})
    return rows
