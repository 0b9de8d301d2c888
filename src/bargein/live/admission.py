"""Admission control of ``bargein serve``: who gets a session, and when the server is full.

A connection goes through two stages:

1. **waiting**: connected, but has not started a conversation yet (no ``hello`` on the
   bargein protocol, no first event on the Realtime one). It holds no session slot. At most
   :attr:`Admission.max_waiting_per_ip` such connections per client address and
   :attr:`Admission.max_waiting` in all; each has :attr:`~bargein.live.protocol.Limits.
   hello_timeout` seconds to start. Idle sockets therefore cannot lock anyone out.
2. **in a session**: admitted if fewer than :attr:`Admission.max_sessions` sessions are open
   *and* the event loop keeps time (:class:`LoopLagGauge`: a loop that runs late is a machine
   that can no longer play the open sessions in real time). Otherwise the client is told
   "server busy" (close code 1013) and the sessions already open are left alone. A slot is
   given back the moment its client leaves.

The default :attr:`~Admission.max_sessions` comes from a measurement, not a guess:
``benchmarks/serve_capacity.py`` finds how many sessions one server process plays in real
time on the benchmark machine, per recognizer (see :data:`SESSIONS_PER_PROCESS`).
"""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass

__all__ = ["SESSIONS_PER_PROCESS", "Admission", "LoopLagGauge", "default_max_sessions"]

#: Default session limits of one server process, by recognizer, from
#: ``benchmarks/serve_capacity.py`` on a 2-core machine (tables and commands in
#: ``benchmarks/README.md``). All sessions run on one event loop, so one process uses about
#: one core for its Python work whatever the machine has: the limits are per process, not
#: per core. On a quiet machine the oracle kept real time up to the 20 callers tried (the
#: server near one full core), pocketsphinx + Whisper up to the 4 tried (also near one
#: core), Whisper finals 1 (with 2, each final stalled the audio by about a second). The
#: defaults keep a fifth in reserve; on a loaded machine the loop-lag check refuses sooner
#: (other jobs at a load of 8 to 10 brought the oracle down to 8 and the others to 1).
SESSIONS_PER_PROCESS: dict[str, int] = {"oracle": 16, "local": 3, "whisper": 1}


def default_max_sessions(stt: str) -> int:
    """The default session limit of a server using recognizer ``stt``."""
    return SESSIONS_PER_PROCESS.get(stt, min(SESSIONS_PER_PROCESS.values()))


class LoopLagGauge:
    """How late the event loop runs: a timer every ``interval`` seconds measures by how much
    it fires late; :attr:`lag` is the median lateness over the last ``window`` seconds.

    A live loop whose timers are late by tens of milliseconds, tick after tick, has no CPU
    to spare: its sessions are about to send audio late. The median ignores a single long
    pause (a garbage collection, a model loading), which is not a lack of capacity.
    """

    def __init__(self, interval: float = 0.05, window: float = 2.0) -> None:
        self.interval = interval
        self.window = window
        self._samples: collections.deque[tuple[float, float]] = collections.deque()
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0
        self._started = 0.0

    @property
    def lag(self) -> float:
        """Median lateness of the loop's timers (seconds) over the window; 0 until the gauge
        has run for half a window (too few ticks to say)."""
        if not self._samples or self._samples[-1][0] - self._started < self.window / 2:
            return 0.0
        values = sorted(late for _, late in self._samples)
        return values[len(values) // 2]

    def start(self) -> None:
        """Start measuring on the running loop."""
        loop = asyncio.get_running_loop()
        self._started = loop.time()
        self._due = self._started + self.interval
        self._handle = loop.call_at(self._due, self._tick)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._samples.append((now, max(0.0, now - self._due)))
        while self._samples[0][0] < now - self.window:
            self._samples.popleft()
        self._due = now + self.interval
        self._handle = loop.call_at(self._due, self._tick)


@dataclass
class Admission:
    """Counts waiting connections and open sessions, and says who may go on.

    Methods return None when the client may go on, else the reason to refuse it with.
    """

    max_sessions: int
    max_waiting: int = 64
    max_waiting_per_ip: int = 8
    busy_lag: float = 0.025
    """Median loop lateness (seconds) above which new sessions are refused."""

    def __post_init__(self) -> None:
        for name in ("max_sessions", "max_waiting", "max_waiting_per_ip"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not 0 < self.busy_lag < 60:
            raise ValueError(f"busy_lag must be in (0, 60) seconds, got {self.busy_lag!r}")
        self.sessions = 0
        self.waiting: collections.Counter[str] = collections.Counter()
        self.gauge = LoopLagGauge()

    def wait(self, address: str) -> str | None:
        """A connection from ``address`` starts waiting to begin a conversation."""
        if self.waiting[address] >= self.max_waiting_per_ip:
            return (f"too many connections from your address waiting to start "
                    f"(at most {self.max_waiting_per_ip})")
        if sum(self.waiting.values()) >= self.max_waiting:
            return f"server busy: {self.max_waiting} connections waiting to start"
        self.waiting[address] += 1
        return None

    def stop_waiting(self, address: str) -> None:
        """The connection from ``address`` started a conversation, or left."""
        self.waiting[address] -= 1
        if self.waiting[address] <= 0:
            del self.waiting[address]

    def admit(self) -> str | None:
        """Take a session slot, unless the server is full or running late."""
        if self.sessions >= self.max_sessions:
            return f"server busy: {self.max_sessions} sessions open, try again later"
        lag = self.gauge.lag
        if lag > self.busy_lag:
            return (f"server busy: the machine is loaded (loop {lag * 1000:.0f} ms late), "
                    "try again later")
        self.sessions += 1
        return None

    def release(self) -> None:
        """Give a session slot back (its client left)."""
        self.sessions = max(0, self.sessions - 1)
