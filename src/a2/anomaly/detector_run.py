"""Running the detector over the NAB corpus: files in parallel, cached outputs, NAB-format CSV files.

:func:`detect_corpus` runs all three stages of :mod:`a2.anomaly.detector` on every file and keeps
each file's stage-one errors in a :class:`FileOutput`; :func:`postprocess` reruns stages two and three
on those cached errors with other settings in seconds; :func:`write_nab_csvs` writes the scores in the
layout NAB's own scorer reads.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from a2.anomaly import corpus
from a2.anomaly.detector import combined_score, detect_series, member_errors, suppress
from a2.anomaly.detector_config import SUPPRESSION_FIELDS, DetectorConfig
from a2.io import atomic_write
from a2.parallel import run_jobs
from a2.progress import progress as progress_bar


@dataclass
class FileOutput:
    """What the detector produced for one file (all arrays have one entry per row)."""

    name: str
    timestamps: np.ndarray
    values: np.ndarray
    errors: np.ndarray
    coarse: np.ndarray | None  # second autoencoder's errors (``cfg.coarse``), else None
    calibrated: np.ndarray
    anomaly_score: np.ndarray
    seconds: float
    member_errors: np.ndarray | None = None  # (members, rows) for an ensemble (``cfg.members > 1``), else None


def detect_file(name: str, cfg: DetectorConfig, root: str | None = None) -> FileOutput:
    """Run the detector on one corpus file (one torch thread: files run in parallel instead)."""
    torch.set_num_threads(1)
    start = time.perf_counter()
    df = corpus.load_series(name, root)
    values = df["value"].to_numpy(dtype=np.float64)
    members = None
    if cfg.ensemble:  # keep each member's errors, not only their mean
        members, _ = member_errors(values, cfg, corpus.probationary_length(len(values)))
    errors, coarse, calibrated, score = detect_series(values, cfg, errors=None if members is None else members.mean(0))
    return FileOutput(name, df["timestamp"].to_numpy(), values, errors, coarse, calibrated, score,
                      time.perf_counter() - start, members)


def detect_corpus(cfg: DetectorConfig, files: Sequence[str] | None = None, workers: int = 2,
                  progress: bool = True, root: str | None = None) -> dict[str, FileOutput]:
    """The detector on every corpus file (or ``files``), ``workers`` processes, progress per file."""
    files = list(files) if files is not None else corpus.corpus_files(root)
    root = str(corpus.corpus_root(root))  # resolve once; workers need not see the same environment
    outputs = run_jobs(detect_file, [(name, cfg, root) for name in files], workers=workers,
                       desc=f"detect {cfg.model}", inner=True, show_progress=progress)
    return dict(zip(files, outputs, strict=True))


def detect_seeds(cfg: DetectorConfig, seeds: Sequence[int], files: Sequence[str] | None = None, workers: int = 2,
                 root: str | None = None) -> dict[int, dict[str, FileOutput]]:
    """:func:`detect_corpus` once per seed (the seed sets the initial weights and the batch order)."""
    return {seed: detect_corpus(replace(cfg, seed=seed), files, workers=workers, root=root)
            for seed in progress_bar(list(seeds), desc=f"seeds of {cfg.model}")}


def postprocess(outputs: dict[str, FileOutput], cfg: DetectorConfig) -> dict[str, np.ndarray]:
    """``{file: anomaly_score}``: stages 2-3 rerun with ``cfg`` on cached errors (no retraining)."""
    return postprocess_many(outputs, {"": cfg})[""]


def postprocess_many(outputs: dict[str, FileOutput], configs: dict[str, DetectorConfig],
                     ) -> dict[str, dict[str, np.ndarray]]:
    """``{label: {file: anomaly_score}}``: :func:`postprocess` for every config, stage 2 computed once per file
    for all configs that differ only in their suppression (a search grid repeats each stage 2 many times)."""
    out: dict[str, dict[str, np.ndarray]] = {label: {} for label in configs}
    for name, o in outputs.items():
        p = corpus.probationary_length(len(o.errors))
        stage_two: dict[tuple[Any, ...], np.ndarray] = {}
        for label, cfg in configs.items():
            key = tuple(v for k, v in cfg.__dict__.items() if k not in SUPPRESSION_FIELDS)
            if key not in stage_two:
                stage_two[key] = combined_score(o.errors, o.values, p, cfg, o.coarse)
            out[label][name] = suppress(stage_two[key], p, cfg)
    return out


def write_nab_csvs(outputs: dict[str, FileOutput], out_dir: str | os.PathLike[str],
                   scores: dict[str, np.ndarray] | None = None, root: str | None = None) -> list[Path]:
    """NAB's layout: ``<out>/<category>/<detector>_<name>.csv`` with timestamp,value,anomaly_score,label."""
    out_dir = Path(out_dir)
    detector = out_dir.resolve().name
    windows = corpus.load_windows(root)
    written = []
    for name, o in outputs.items():
        cat, fname = name.split("/")
        label = corpus.window_mask(pd.DatetimeIndex(o.timestamps), windows.get(name, []), name).astype(int)
        score = o.anomaly_score if scores is None else scores[name]
        df = pd.DataFrame({"timestamp": pd.DatetimeIndex(o.timestamps).strftime("%Y-%m-%d %H:%M:%S"),
                           "value": o.values, "anomaly_score": score, "label": label})
        path = out_dir / cat / f"{detector}_{fname}"
        written.append(atomic_write(path, lambda tmp, df=df: df.to_csv(tmp, index=False)))
    return written
