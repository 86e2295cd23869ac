"""run_jobs: results in job order, in this process or in spawned workers with one torch thread each."""

import pytest
import torch

from a2.parallel import run_jobs


def power(base: int, exponent: int) -> tuple[int, int]:
    """A job: the result, and the torch thread count of the process that ran it."""
    return base**exponent, torch.get_num_threads()


def fail(message: str) -> None:
    raise ValueError(message)


def test_jobs_run_in_order_in_process_and_in_workers():
    jobs = [(b, 2) for b in range(5)]
    local = run_jobs(power, jobs, show_progress=False)
    assert [r for r, _ in local] == [0, 1, 4, 9, 16]
    spawned = run_jobs(power, jobs, workers=2, show_progress=False)
    assert [r for r, _ in spawned] == [0, 1, 4, 9, 16] and {t for _, t in spawned} == {1}


def test_a_failing_job_raises_its_own_error():
    with pytest.raises(ValueError, match="bad job"):
        run_jobs(fail, [("bad job",)], show_progress=False)
    with pytest.raises(ValueError, match="bad job"):
        run_jobs(fail, [("bad job",)], workers=2, show_progress=False)
