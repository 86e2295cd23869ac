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


def test_functions_and_classes_defined_outside_a_module_reach_the_workers_by_value():
    class Doubler(torch.nn.Module):  # like a notebook cell's class: no module a worker could import it from
        def forward(self, x):
            return 2 * x

    def job(value):
        return float(Doubler()(torch.tensor(value))), torch.get_num_threads()

    assert run_jobs(job, [(1.0,), (2.5,)], workers=2, show_progress=False) == [(2.0, 1), (5.0, 1)]
