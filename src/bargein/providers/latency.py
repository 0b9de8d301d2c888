"""Latency models: how long a provider's answer takes, on the event loop's clock.

A model maps the wall time the real work took to the delay to report. The same provider code
then works in both clock modes (DESIGN.md section 2): :class:`WorkTimer` sleeps only for the
part of the target delay the loop clock has not already seen. Live, real work already took
real time, so a fixed model acts as a floor; in simulation, inline work takes no virtual time
and the whole modeled delay is charged.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@runtime_checkable
class Latency(Protocol):
    """Delay model for one provider step (TTS first byte, STT final, LLM first token...)."""

    def delay(self, work_seconds: float) -> float:
        """Seconds the step should take, given the wall seconds its real work took."""
        ...


@dataclass(frozen=True)
class Fixed:
    """Always the same delay: deterministic, the default in simulation."""

    seconds: float

    def __post_init__(self) -> None:
        if not self.seconds >= 0:
            raise ValueError(f"latency must be >= 0 s, got {self.seconds!r}")

    def delay(self, work_seconds: float) -> float:
        return self.seconds


@dataclass
class Uniform:
    """A delay drawn uniformly from ``[low, high]``; the same ``seed`` gives the same draws."""

    low: float
    high: float
    seed: int | None = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0 <= self.low <= self.high:
            raise ValueError(f"need 0 <= low <= high, got low={self.low} high={self.high}")
        self._rng = random.Random(self.seed)

    def delay(self, work_seconds: float) -> float:
        return self._rng.uniform(self.low, self.high)


@dataclass(frozen=True)
class Measured:
    """The wall time the real inference took (times ``scale``): realistic, not deterministic."""

    scale: float = 1.0

    def delay(self, work_seconds: float) -> float:
        return work_seconds * self.scale


_overrun = 0.0


def work_overrun() -> float:
    """Seconds by which real provider work outlasted its latency model, summed over this
    process. In simulation the work costs no loop time, so this stays 0; live, a busy CPU
    makes work slower than modeled, and a live run lags its simulated twin by at most this."""
    return _overrun


class WorkTimer:
    """Measures one provider step and charges its modeled latency to the loop clock.

    Use ``timer = WorkTimer()`` before the work, then ``await timer.settle(model)`` when the
    result is ready and before handing it out.
    """

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_start = self._loop.time()
        self._wall_start = time.perf_counter()  # wall-clock-ok: measures inference cost only

    def work_seconds(self) -> float:
        """Wall seconds since the timer started."""
        return time.perf_counter() - self._wall_start  # wall-clock-ok: inference cost only

    async def settle(self, model: Latency) -> float:
        """Sleep until ``model``'s delay has passed on the loop clock; returns that delay."""
        global _overrun
        target = model.delay(self.work_seconds())
        already = self._loop.time() - self._loop_start
        if target > already:
            await asyncio.sleep(target - already)
        else:
            _overrun += already - target
        return target
