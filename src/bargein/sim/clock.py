"""A virtual-time asyncio event loop.

`VirtualTimeLoop` is an ordinary `asyncio.SelectorEventLoop` whose clock is a number it owns.
Whenever no callback is ready, the clock jumps straight to the next scheduled timer, so code
that only waits on `asyncio.sleep` / loop timers runs as fast as the CPU allows, in a fully
deterministic order. See ``docs/simulation.md``.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import selectors
from collections.abc import Callable, Iterator
from contextvars import Context
from typing import Any, NoReturn, TypeVar

from bargein.errors import NetworkInSimulationError, SimulationDeadlockError

__all__ = ["DEFAULT_DEADLOCK_GRACE", "VirtualTimeLoop"]

_T = TypeVar("_T")

#: Wall seconds the loop waits for real I/O (or a thread's wake-up) before it declares a deadlock.
DEFAULT_DEADLOCK_GRACE = 0.05

# Timers closer than this to "now" fire together. Fixed (not the platform's monotonic clock
# resolution, which is 15.6 ms on Windows) so every platform runs the same timeline.
_CLOCK_RESOLUTION = 1e-9


def _resolution_at(now: float) -> float:
    # Past ~8e6 s, `now + 1e-9 == now` in floats and a due timer would never fire.
    return max(_CLOCK_RESOLUTION, 2.0 * math.ulp(now))


_MAX_TASKS_IN_MESSAGE = 10
_MAX_CHAIN_IN_MESSAGE = 6


class _FifoTimerHandle(asyncio.TimerHandle):
    """A timer handle whose ties (same `when`) fire in the order they were scheduled."""

    __slots__ = ("_seq",)

    def __init__(
        self,
        when: float,
        callback: Callable[..., object],
        args: tuple[Any, ...],
        loop: asyncio.AbstractEventLoop,
        context: Context | None,
        seq: int,
    ) -> None:
        super().__init__(when, callback, args, loop, context)
        self._seq = seq

    def __lt__(self, other: object) -> bool:
        if isinstance(other, _FifoTimerHandle):
            return (self._when, self._seq) < (other._when, other._seq)
        return super().__lt__(other)


class _VirtualTimeSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """Polls real file descriptors without blocking; advances virtual time instead of waiting."""

    def __init__(self) -> None:
        super().__init__()
        self._loop: VirtualTimeLoop | None = None

    def select(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        ready = super().select(0)
        if ready or timeout == 0:
            # Real I/O (e.g. the self-pipe) is handled without moving the clock.
            return ready
        loop = self._loop
        if loop is None:  # not attached (should not happen): behave like a real selector
            return super().select(timeout)
        if timeout is not None:
            loop._jump_to_next_timer()
            return ready
        # Nothing ready, no timer: only real I/O or another thread could wake us now.
        if loop._deadlock_grace > 0:
            ready = super().select(loop._deadlock_grace)
            if ready:
                return ready
        raise loop._deadlock_error()


def _refuse_network(name: str) -> Callable[..., Any]:
    async def refused(self: VirtualTimeLoop, *args: Any, **kwargs: Any) -> NoReturn:
        raise NetworkInSimulationError(
            f"loop.{name}() was called inside a virtual-time simulation, which forbids real "
            "network I/O (it would run in wall time and make results non-deterministic). "
            "Use a record/replay provider (cassette) in simulation, or run the session live."
        )

    refused.__name__ = refused.__qualname__ = name
    refused.__doc__ = "Refused in simulation: raises NetworkInSimulationError."
    return refused


def _refuse_process_io(name: str, what: str) -> Callable[..., Any]:
    async def refused(self: VirtualTimeLoop, *args: Any, **kwargs: Any) -> NoReturn:
        raise NetworkInSimulationError(
            f"loop.{name}() was called inside a virtual-time simulation, which forbids real "
            f"I/O: {what} run in wall time and cannot take part in virtual time. "
            "Do this work outside the simulation, or run the session live."
        )

    refused.__name__ = refused.__qualname__ = name
    refused.__doc__ = "Refused in simulation: raises NetworkInSimulationError."
    return refused


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """Event loop on a virtual clock that jumps to the next timer whenever all tasks wait.

    ``start_time`` is the initial value of ``time()``. ``deadlock_grace`` is how many wall
    seconds to poll real I/O before raising `SimulationDeadlockError` when nothing can run.
    """

    def __init__(
        self,
        start_time: float = 0.0,
        *,
        deadlock_grace: float = DEFAULT_DEADLOCK_GRACE,
    ) -> None:
        if deadlock_grace < 0:
            raise ValueError(f"deadlock_grace must be >= 0 seconds, got {deadlock_grace!r}")
        self._now = float(start_time)
        self._deadlock_grace = float(deadlock_grace)
        self._timer_seq = 0
        self._awaited: object = None
        selector = _VirtualTimeSelector()
        super().__init__(selector)
        selector._loop = self
        self._clock_resolution = _resolution_at(self._now)

    def close(self) -> None:
        """Close the loop (and its selector)."""
        selector = self._selector  # type: ignore[has-type]
        super().close()
        if isinstance(selector, _VirtualTimeSelector):
            selector._loop = None  # break the loop <-> selector reference cycle

    # -- clock ---------------------------------------------------------------------------

    def time(self) -> float:
        """Current virtual time in seconds."""
        return self._now

    def _jump_to_next_timer(self) -> None:
        # `_run_once` has just dropped cancelled timers from the heap head, so the head is
        # the next timer that will fire. Set the clock to its `when` exactly: no float drift.
        scheduled = self._scheduled  # type: ignore[attr-defined]
        if scheduled:
            when = scheduled[0]._when
            if when > self._now:
                if when == math.inf:
                    raise self._deadlock_error()
                self._now = when
                self._clock_resolution = _resolution_at(when)

    def call_at(  # type: ignore[override]
        self,
        when: float,
        callback: Callable[..., object],
        *args: Any,
        context: Context | None = None,
    ) -> asyncio.TimerHandle:
        """Schedule ``callback`` at virtual time ``when``; ties fire in scheduling order."""
        if when is None:
            raise TypeError("when cannot be None")
        self._check_closed()  # type: ignore[attr-defined]
        if self._debug:  # type: ignore[attr-defined]
            self._check_thread()  # type: ignore[attr-defined]
            self._check_callback(callback, "call_at")  # type: ignore[attr-defined]
        self._timer_seq += 1
        timer = _FifoTimerHandle(when, callback, args, self, context, self._timer_seq)
        if timer._source_traceback:  # type: ignore[attr-defined]
            del timer._source_traceback[-1]  # type: ignore[attr-defined]
        heapq.heappush(self._scheduled, timer)  # type: ignore[attr-defined]
        timer._scheduled = True  # type: ignore[attr-defined]
        return timer

    # -- running ---------------------------------------------------------------------------

    def run_until_complete(self, future: Any) -> Any:
        """Like `asyncio.BaseEventLoop.run_until_complete`; remembered for deadlock reports."""
        previous = self._awaited
        self._awaited = future
        try:
            return super().run_until_complete(future)
        finally:
            self._awaited = previous

    def _deadlock_error(self) -> SimulationDeadlockError:
        lines = [
            f"Simulation deadlock at virtual time {self._now:.6f} s: no callback is ready and "
            "no timer is scheduled, so virtual time can never move on. Every task is waiting "
            "on something that is not a timer (e.g. a future nobody will resolve, a queue "
            "nobody will fill, an Event nobody will set, or a thread: call_soon_threadsafe "
            "from other threads is not supported in simulation)."
        ]
        if self._awaited is not None:
            lines.append(f"run_until_complete was waiting for: {_describe(self._awaited)}")
        pending = sorted(asyncio.all_tasks(self), key=lambda task: task.get_name())
        if pending:
            lines.append(f"Pending tasks ({len(pending)}):")
            for task in pending[:_MAX_TASKS_IN_MESSAGE]:
                lines.append(f"  - {_describe(task)}")
            if len(pending) > _MAX_TASKS_IN_MESSAGE:
                lines.append(f"  ... and {len(pending) - _MAX_TASKS_IN_MESSAGE} more")
        return SimulationDeadlockError("\n".join(lines))

    # -- executor: inline -----------------------------------------------------------------

    def run_in_executor(  # type: ignore[override]
        self, executor: Any, func: Callable[..., _T], *args: Any
    ) -> asyncio.Future[_T]:
        """Run ``func(*args)`` inline, now, taking no virtual time; return a done future.

        ``executor`` is ignored: in simulation no thread is used, so results stay
        deterministic. Charge modeled latency separately with ``asyncio.sleep``.
        """
        self._check_closed()  # type: ignore[attr-defined]
        if asyncio.iscoroutine(func) or asyncio.iscoroutinefunction(func):
            raise TypeError("coroutines cannot be used with run_in_executor()")
        future: asyncio.Future[_T] = self.create_future()
        try:
            result = func(*args)
        except (KeyboardInterrupt, SystemExit):
            raise
        except StopIteration as exc:
            # A Future cannot hold StopIteration; wrap it as concurrent.futures would surface it.
            error = RuntimeError(f"{func!r} raised StopIteration")
            error.__cause__ = exc
            future.set_exception(error)
        except BaseException as exc:
            future.set_exception(exc)
        else:
            future.set_result(result)
        return future

    async def shutdown_default_executor(self, timeout: float | None = None) -> None:
        """Shut down a default executor set by the user, inline (no helper thread)."""
        self._executor_shutdown_called = True
        executor = self._default_executor  # type: ignore[attr-defined]
        if executor is not None:
            executor.shutdown(wait=True)

    # -- real I/O: refused ------------------------------------------------------------------

    create_connection = _refuse_network("create_connection")
    create_server = _refuse_network("create_server")
    create_datagram_endpoint = _refuse_network("create_datagram_endpoint")
    create_unix_connection = _refuse_network("create_unix_connection")
    create_unix_server = _refuse_network("create_unix_server")
    connect_accepted_socket = _refuse_network("connect_accepted_socket")
    start_tls = _refuse_network("start_tls")
    sendfile = _refuse_network("sendfile")
    getaddrinfo = _refuse_network("getaddrinfo")
    getnameinfo = _refuse_network("getnameinfo")
    sock_connect = _refuse_network("sock_connect")
    sock_accept = _refuse_network("sock_accept")
    sock_recv = _refuse_network("sock_recv")
    sock_recv_into = _refuse_network("sock_recv_into")
    sock_recvfrom = _refuse_network("sock_recvfrom")
    sock_recvfrom_into = _refuse_network("sock_recvfrom_into")
    sock_sendall = _refuse_network("sock_sendall")
    sock_sendto = _refuse_network("sock_sendto")
    sock_sendfile = _refuse_network("sock_sendfile")
    connect_read_pipe = _refuse_process_io("connect_read_pipe", "pipes")
    connect_write_pipe = _refuse_process_io("connect_write_pipe", "pipes")
    subprocess_exec = _refuse_process_io("subprocess_exec", "subprocesses")
    subprocess_shell = _refuse_process_io("subprocess_shell", "subprocesses")


def _describe(obj: object) -> str:
    """Name a task/coroutine and the chain of coroutines it is suspended in."""
    if isinstance(obj, asyncio.Task):
        head = f"task {obj.get_name()!r}"
        coro = obj.get_coro()
    elif asyncio.isfuture(obj):
        return repr(obj)
    else:
        head = "coroutine"
        coro = obj
    chain = list(_await_chain(coro))
    if not chain:
        return f"{head} ({coro!r})"
    return f"{head}: " + " -> ".join(chain)


def _await_chain(coro: object) -> Iterator[str]:
    for _ in range(_MAX_CHAIN_IN_MESSAGE):
        if coro is None:
            return
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        name = getattr(coro, "__qualname__", type(coro).__name__)
        if frame is not None:
            yield f"{name}() at {frame.f_code.co_filename}:{frame.f_lineno}"
        elif asyncio.isfuture(coro):
            yield f"awaiting {coro!r}"
            return
        elif type(coro).__name__ == "FutureIter":  # C iterator of `await future`
            yield "awaiting a Future"
            return
        else:
            yield f"{name}()"
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
