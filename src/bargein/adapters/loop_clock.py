"""Third-party wall-clock reads answered from the event loop's clock while a session runs.

Frameworks such as LiveKit Agents and Pipecat read the time module (``time()``,
``perf_counter()``, ``monotonic()`` and their ``_ns`` forms) besides the event loop. Under
bargein's virtual-time loop those reads would run in wall time while everything else runs in
virtual time. :class:`LoopClockPatch` replaces the ``time`` attribute of every loaded module
under some package prefixes with :data:`LOOP_TIME`, a stand-in whose readings come from the
running loop when that loop is virtual, and from the real clocks otherwise; so the patch is
harmless on an ordinary (live) loop.

Adapters enter :meth:`LoopClockPatch.active` for as long as a session runs. Patches nest: the
modules are restored when the last user leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time as _time
import types
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["EPOCH", "LOOP_TIME", "REAL_TIME", "UPTIME", "LoopClockPatch", "loop_monotonic",
           "loop_perf_counter", "loop_wall_time"]

EPOCH = 1_700_000_000.0  # the wall-clock reading at virtual time 0: a plausible, fixed date
#: The ``monotonic()`` / ``perf_counter()`` reading at virtual time 0: never 0, since code
#: takes a zero reading for "clock not started" (Pipecat's SystemClock does).
UPTIME = 10_000.0
REAL_TIME = _time.time

_TICK = 1e-6  # reads within one loop instant step by this much, so they stay ordered
_last_read = [float("-inf")]


def _virtual_now() -> float | None:
    """The loop time if the caller runs on a virtual-time loop, else None.

    Successive reads at the same virtual instant are nudged apart by a microsecond:
    frameworks order things by these stamps (LiveKit's speech queue breaks ties with
    ``perf_counter_ns()``), and the virtual clock does not move while a tick runs.
    """
    from bargein.sim import is_simulated

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    if not is_simulated(loop):
        return None
    now = max(loop.time(), _last_read[0] + _TICK)
    _last_read[0] = now
    return now


def loop_wall_time() -> float:
    """The time module's ``time()`` on the loop clock (virtual time 0 is :data:`EPOCH`), or the
    real reading."""
    now = _virtual_now()
    return REAL_TIME() if now is None else EPOCH + now


def loop_perf_counter() -> float:
    """The time module's ``perf_counter()`` on the loop clock, or the real reading."""
    now = _virtual_now()
    return _time.perf_counter() if now is None else UPTIME + now


def loop_monotonic() -> float:
    """The time module's ``monotonic()`` on the loop clock, or the real reading."""
    now = _virtual_now()
    return _time.monotonic() if now is None else UPTIME + now


class _LoopTime(types.ModuleType):
    """Stands in for the ``time`` module: the clock reads follow the loop clock when the
    caller runs on a virtual-time loop; everything else is the real ``time`` module."""

    def __init__(self) -> None:
        super().__init__("time")
        self.time = loop_wall_time
        self.perf_counter = loop_perf_counter
        self.monotonic = loop_monotonic
        self.time_ns = lambda: int(loop_wall_time() * 1e9)
        self.perf_counter_ns = lambda: int(loop_perf_counter() * 1e9)
        self.monotonic_ns = lambda: int(loop_monotonic() * 1e9)

    def __getattr__(self, name: str) -> Any:
        return getattr(_time, name)


#: The stand-in ``time`` module patched into third-party modules.
LOOP_TIME = _LoopTime()


class LoopClockPatch:
    """Points the ``time`` of every module under ``prefixes`` at :data:`LOOP_TIME`.

    ``extra(install)`` may patch more (e.g. default factories captured at import); it is
    called with ``True`` on the first :meth:`install` and must undo itself with ``False``.
    """

    def __init__(self, *prefixes: str,
                 extra: Callable[[bool], None] | None = None) -> None:
        self.prefixes = tuple(p if p.endswith(".") else p + "." for p in prefixes)
        self._extra = extra
        self._users = 0
        self._patched: list[types.ModuleType] = []

    def install(self) -> None:
        """Patch the modules loaded now (nestable)."""
        self._users += 1
        if self._users > 1:
            return
        _last_read[0] = float("-inf")
        self.patch_new_modules()
        if self._extra is not None:
            self._extra(True)

    def patch_new_modules(self) -> None:
        """Patch modules loaded since :meth:`install` (frameworks import lazily)."""
        if self._users == 0:
            return
        for name, module in list(sys.modules.items()):
            if name.startswith(self.prefixes) and getattr(module, "time", None) is _time:
                module.time = LOOP_TIME  # type: ignore[attr-defined]
                self._patched.append(module)

    def uninstall(self) -> None:
        """Undo :meth:`install` once the last user leaves."""
        self._users -= 1
        if self._users > 0:
            return
        for module in self._patched:
            module.time = _time  # type: ignore[attr-defined]
        self._patched.clear()
        if self._extra is not None:
            self._extra(False)

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """The patch, for the duration of the block."""
        self.install()
        try:
            yield
        finally:
            self.uninstall()
