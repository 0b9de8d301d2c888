"""The backends of :func:`run_in_order`: this process, a process pool, or Ray."""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from bargein.errors import BargeinError

__all__ = ["RAY_LOCAL", "available_cores", "check_workers", "describe_backend",
           "one_thread_per_process", "run_in_order"]

R = TypeVar("R")
#: The ``ray`` argument that starts a Ray instance on this machine (``ray.init()``).
RAY_LOCAL = "local"
#: Callback of finished jobs, in the order they finish: ``(index of the job, its result)``.
OnResult = Callable[[int, Any], None]
#: Thread-count variables of the numeric libraries, set to 1 for worker processes and for a
#: run in this process (unless already set): a process is one core's worth of work, and
#: OpenBLAS would otherwise start a thread per core in every worker, which spin against each
#: other (Ray does the same), or spend a second core on little gain in a one-process run.
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def available_cores() -> int:
    """The cores this process may run on (the default number of workers)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def check_workers(workers: object, what: str = "workers") -> int:
    """``workers`` as a whole number >= 1, else ValueError in one line."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"{what} must be a whole number >= 1, got {workers!r}")
    return workers


def describe_backend(jobs: int, workers: int, ray: str | None) -> str:
    """What :func:`run_in_order` runs ``jobs`` jobs on, in a few words for reports."""
    if ray is not None:
        return "Ray local" if ray == RAY_LOCAL else f"Ray at {ray}"
    used = min(workers, jobs)
    return f"{used} worker processes" if used > 1 else "1 process"


def run_in_order(job: Callable[..., R], jobs: Sequence[tuple[Any, ...]], *,
                 workers: int = 1, ray: str | None = None,
                 on_result: OnResult | None = None) -> list[R]:
    """``[job(*args) for args in jobs]``, computed by the chosen backend.

    ``workers``: 1 runs here, N > 1 runs a pool of min(N, jobs) worker processes (started
    fresh, not forked: a process that already runs models and threads forks badly).
    ``ray``: None, :data:`RAY_LOCAL` for a Ray instance on this machine, or the address of a
    running cluster (``ray://head:10001``, ``auto``); ``workers`` then does not apply, the
    cluster schedules one task per job. ``job`` must be a module-level function and the
    arguments and results picklable; a script that starts workers needs the
    ``if __name__ == "__main__":`` guard (each worker imports the main module again).
    ``on_result`` hears of every job as it finishes.
    """
    check_workers(workers)
    jobs = list(jobs)
    if ray is not None:
        from bargein.parallel.ray_tasks import run_on_ray

        return run_on_ray(job, jobs, ray, on_result)
    if workers == 1 or len(jobs) <= 1:
        return _run_here(job, jobs, on_result)
    return _run_in_pool(job, jobs, min(workers, len(jobs)), on_result)


def _run_here(job: Callable[..., R], jobs: list[tuple[Any, ...]],
              on_result: OnResult | None) -> list[R]:
    results = []
    with one_thread_per_process():
        for i, args in enumerate(jobs):
            results.append(job(*args))
            if on_result is not None:
                on_result(i, results[-1])
    return results


def _run_in_pool(job: Callable[..., R], jobs: list[tuple[Any, ...]], workers: int,
                 on_result: OnResult | None) -> list[R]:
    results: list[Any] = [None] * len(jobs)
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        with one_thread_per_process():  # the workers start during the submits
            futures = {pool.submit(job, *args): i for i, args in enumerate(jobs)}
        try:
            for future in concurrent.futures.as_completed(futures):
                i = futures[future]
                try:
                    results[i] = future.result()
                except BrokenProcessPool:
                    raise BargeinError(
                        "a worker process died before finishing its job: out of memory or "
                        "killed (run again with fewer --workers), or the script that started "
                        "the workers has no `if __name__ == \"__main__\":` guard (workers "
                        "import it again)") from None
                if on_result is not None:
                    on_result(i, results[i])
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return results


@contextlib.contextmanager
def one_thread_per_process() -> Iterator[None]:
    """Run the numeric libraries on one thread inside the ``with`` block, unless the user set
    their thread counts: the worker processes started inside it (they inherit
    :data:`_THREAD_VARIABLES` set to 1) and this process (the BLAS libraries it has loaded
    already are limited through threadpoolctl, the environment comes too late for them).
    Everything is restored on exit."""
    unset = [name for name in _THREAD_VARIABLES if name not in os.environ]
    for name in unset:
        os.environ[name] = "1"
    try:
        if len(unset) < len(_THREAD_VARIABLES):  # the user chose: leave this process alone
            yield
        else:
            from threadpoolctl import threadpool_limits

            with threadpool_limits(limits=1, user_api="blas"):
                yield
    finally:
        for name in unset:
            os.environ.pop(name, None)
