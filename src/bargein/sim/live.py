"""A real-time event loop with sub-millisecond timers, for live runs.

The standard loop rounds every wait *up* to the next millisecond (epoll's resolution), so
each timer fires up to 1 ms late, and chains of timers (LLM first token, then TTS first
byte, then playout) pile that lateness up. This loop rounds waits *down* and polls the last
fraction of a millisecond, so timers fire within tens of microseconds: live runs then follow
the same timeline as simulated ones. The cost is a little CPU while a timer is imminent.
"""

from __future__ import annotations

import asyncio
import math
import selectors
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

_T = TypeVar("_T")


class _FlooringSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    def select(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        if timeout is not None and timeout > 0:
            timeout = math.floor(timeout * 1000.0) / 1000.0  # wake early, never late
        return super().select(timeout)


class PreciseEventLoop(asyncio.SelectorEventLoop):
    """``asyncio.SelectorEventLoop`` whose timers fire on time rather than up to 1 ms late."""

    def __init__(self) -> None:
        super().__init__(_FlooringSelector())


def run_live(coro: Coroutine[Any, Any, _T], *, debug: bool | None = None) -> _T:
    """Like ``asyncio.run`` on a :class:`PreciseEventLoop`.

    While it runs, Python switches threads every 0.5 ms instead of 5 ms, so inference in a
    worker thread (speech synthesis, recognition) cannot hold the loop's timers back by more
    than that.
    """
    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(previous, 0.0005))
    try:
        with asyncio.Runner(debug=debug, loop_factory=PreciseEventLoop) as runner:
            return runner.run(coro)
    finally:
        sys.setswitchinterval(previous)
