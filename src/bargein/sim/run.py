"""Helpers to run coroutines on a `VirtualTimeLoop`, the way `asyncio.run` does live."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from bargein.sim.clock import DEFAULT_DEADLOCK_GRACE, VirtualTimeLoop

__all__ = ["is_simulated", "new_virtual_loop", "run_simulation", "simulation_loop_factory"]

_T = TypeVar("_T")


def new_virtual_loop(
    start_time: float = 0.0, *, deadlock_grace: float = DEFAULT_DEADLOCK_GRACE
) -> VirtualTimeLoop:
    """Create a new (not running) virtual-time event loop."""
    return VirtualTimeLoop(start_time, deadlock_grace=deadlock_grace)


def simulation_loop_factory() -> VirtualTimeLoop:
    """Loop factory for ``asyncio.Runner(loop_factory=simulation_loop_factory)``."""
    return VirtualTimeLoop()


def run_simulation(
    coro: Coroutine[Any, Any, _T],
    *,
    start_time: float = 0.0,
    debug: bool = False,
    deadlock_grace: float = DEFAULT_DEADLOCK_GRACE,
) -> _T:
    """Run ``coro`` to completion in virtual time and return its result, like `asyncio.run`.

    ``debug=True`` forces asyncio debug mode; otherwise the usual defaults apply
    (``PYTHONASYNCIODEBUG``, ``-X dev``).
    """

    def factory() -> VirtualTimeLoop:
        return VirtualTimeLoop(start_time, deadlock_grace=deadlock_grace)

    with asyncio.Runner(debug=True if debug else None, loop_factory=factory) as runner:
        return runner.run(coro)


def is_simulated(loop: asyncio.AbstractEventLoop | None = None) -> bool:
    """True if ``loop`` (default: the running loop) runs on virtual time.

    Returns False when no loop is given and none is running.
    """
    if loop is None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
    return isinstance(loop, VirtualTimeLoop)
