"""Independent jobs in worker processes, results in job order.

Workers are *spawned* (a fresh interpreter, safe beside torch's own threads on every platform) and
run one torch thread each, so two workers on two cores do not fight over them. ``workers <= 1``
runs the jobs in this process, which is what a GPU run or a debugger wants.

A spawned worker cannot import what a notebook defined (its classes and functions live in the
kernel's ``__main__``), so each job travels as one cloudpickle blob: importable functions go by
name, notebook definitions by value. Editing a model cell and rerunning therefore trains the edited
model in the workers too, with no file to regenerate first.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

import cloudpickle
import torch

from a2.progress import progress

R = TypeVar("R")


def _run_pickled(blob: bytes) -> Any:
    """What a worker runs: ``fn(*job)`` from a cloudpickle blob of ``(fn, job)``."""
    fn, job = cloudpickle.loads(blob)
    return fn(*job)


def run_jobs(fn: Callable[..., R], jobs: Sequence[tuple[Any, ...]], *, workers: int = 1, desc: str = "",
             inner: bool = False, show_progress: bool = True) -> list[R]:
    """``[fn(*job) for job in jobs]``, with ``workers`` processes and a progress bar ticking as jobs finish.

    ``fn`` and the jobs may hold notebook-defined functions and classes (pickled by value). The first
    failing job's exception is raised here.
    """
    bar = progress(total=len(jobs), desc=desc, inner=inner, disable=not show_progress)
    if workers <= 1:
        results = []
        for job in jobs:
            results.append(fn(*job))
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=torch.set_num_threads, initargs=(1,)) as pool:
            futures = [pool.submit(_run_pickled, cloudpickle.dumps((fn, job))) for job in jobs]
            for fut in as_completed(futures):
                fut.result()  # a failed job stops the run here, with its own exception
                bar.update()
            results = [fut.result() for fut in futures]
    bar.close()
    return results
