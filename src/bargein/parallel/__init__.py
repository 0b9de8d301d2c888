"""Running independent jobs of a suite in parallel, results in input order.

:func:`run_in_order` runs ``job(*args)`` for each tuple of arguments: in this process
(``workers=1``), in a pool of worker processes (``workers=N``, each loading its models once
and keeping them for every job it gets), or as Ray tasks on a cluster (``ray=ADDRESS``, extra
``ray``). Whatever the backend, the results come back in the order of the jobs, so a suite run
in parallel writes the same bytes as a serial one (each job is deterministic on its own: a
fresh virtual-time loop, models reset between calls). ``bargein run`` and ``bargein bench``
use it for ``--workers`` and ``--ray``; docs/scale.md says how to run a large suite.
"""

from __future__ import annotations

from bargein.parallel.pool import (
    RAY_LOCAL,
    available_cores,
    check_workers,
    describe_backend,
    one_thread_per_process,
    run_in_order,
)

__all__ = ["RAY_LOCAL", "available_cores", "check_workers", "describe_backend",
           "one_thread_per_process", "run_in_order"]
