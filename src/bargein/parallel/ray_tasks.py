"""The Ray backend of :func:`~bargein.parallel.run_in_order` (extra ``ray``).

Each job is one Ray task. Ray keeps its worker processes between tasks, so the models a job
loads (cached per process) serve the next jobs of that worker, as in the process pool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from bargein._extras import require
from bargein.errors import BargeinError

__all__ = ["require_ray", "run_on_ray"]

R = TypeVar("R")


def require_ray() -> Any:
    """The ``ray`` module, or MissingExtraError naming the extra ``ray``."""
    return require("ray", extra="ray", feature="--ray (suites on a Ray cluster)")


def run_on_ray(job: Callable[..., R], jobs: list[tuple[Any, ...]], address: str,
               on_result: Callable[[int, Any], None] | None) -> list[R]:
    """Run every job as a Ray task on ``address`` ("local": a Ray instance started here and
    stopped afterwards); results in the order of ``jobs``."""
    ray = require_ray()
    from bargein.parallel.pool import RAY_LOCAL

    started_here = False
    if not ray.is_initialized():
        try:
            if address == RAY_LOCAL:
                ray.init(include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=address, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise BargeinError(f"--ray {address}: cannot connect to Ray "
                               f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
                               ) from None
        started_here = True
    try:
        task = ray.remote(job)
        refs = [task.remote(*args) for args in jobs]
        index = {ref: i for i, ref in enumerate(refs)}
        results: list[Any] = [None] * len(jobs)
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                i = index[ref]
                results[i] = ray.get(ref)
                if on_result is not None:
                    on_result(i, results[i])
        return results
    finally:
        if started_here:
            ray.shutdown()
