"""Tests of the virtual-time event loop (bargein.sim)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from bargein.errors import NetworkInSimulationError, SimulationDeadlockError
from bargein.sim import (
    VirtualTimeLoop,
    is_simulated,
    new_virtual_loop,
    run_simulation,
    simulation_loop_factory,
)

# -- clock ----------------------------------------------------------------------------------


def test_time_starts_at_zero_and_jumps_exactly() -> None:
    async def main() -> tuple[float, float, float]:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await asyncio.sleep(1.25)
        t1 = loop.time()
        await asyncio.sleep(0.1)
        return t0, t1, loop.time()

    t0, t1, t2 = run_simulation(main())
    assert t0 == 0.0
    assert t1 == 1.25
    assert t2 == 1.25 + 0.1


def test_time_starts_at_start_time() -> None:
    async def main() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await asyncio.sleep(1.25)
        return t0, loop.time()

    assert run_simulation(main(), start_time=100.0) == (100.0, 101.25)


def test_many_small_sleeps_land_on_expected_time() -> None:
    async def main() -> float:
        for _ in range(1000):
            await asyncio.sleep(0.001)
        for _ in range(500):
            await asyncio.sleep(0.02)
        return asyncio.get_running_loop().time()

    assert run_simulation(main()) == pytest.approx(11.0, abs=1e-9)


def test_call_at_and_call_later_fire_exactly_on_time() -> None:
    async def main() -> list[tuple[str, float]]:
        loop = asyncio.get_running_loop()
        fired: list[tuple[str, float]] = []
        loop.call_at(3.3, lambda: fired.append(("at", loop.time())))
        loop.call_later(0.7, lambda: fired.append(("later", loop.time())))
        cancelled = loop.call_later(0.5, lambda: fired.append(("cancelled", loop.time())))
        cancelled.cancel()
        await asyncio.sleep(10)
        return fired

    assert run_simulation(main()) == [("later", 0.7), ("at", 3.3)]


def test_timers_due_at_the_same_instant_fire_in_scheduling_order() -> None:
    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        order: list[int] = []
        for i in range(50):
            loop.call_at(2.0, order.append, i)
        await asyncio.sleep(3)
        return order

    assert run_simulation(main()) == list(range(50))


def test_long_sleep_costs_no_wall_time() -> None:
    async def main() -> float:
        await asyncio.sleep(3600 * 24 * 7)  # one week, beyond asyncio's 24 h select cap
        return asyncio.get_running_loop().time()

    start = time.perf_counter()
    assert run_simulation(main()) == 3600 * 24 * 7
    assert time.perf_counter() - start < 1.0


def test_timers_fire_at_very_large_virtual_times() -> None:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        times = []
        for _ in range(3):
            loop.call_at(loop.time(), lambda: None)  # due now: must fire, not spin
            await asyncio.sleep(1e-9)
            times.append(loop.time())
        return times

    times = run_simulation(main(), start_time=1e12)
    assert len(times) == 3
    assert times[-1] >= 1e12


# -- performance ----------------------------------------------------------------------------


def test_600_virtual_seconds_in_20ms_steps_take_no_real_time() -> None:
    async def main() -> float:
        for _ in range(30_000):
            await asyncio.sleep(0.02)
        return asyncio.get_running_loop().time()

    start = time.perf_counter()
    end = run_simulation(main())
    wall = time.perf_counter() - start
    print(f"\n600 s virtual in 30,000 x 20 ms sleeps: {wall * 1000:.0f} ms wall")
    assert end == pytest.approx(600.0, abs=1e-6)
    # Virtual, not real: 600 s of sleeps cost well under 1 s (the figure is printed; speed
    # is a benchmark's business). The bound only tells virtual time from real time, with room
    # for a machine that is busy many times over.
    assert wall < 30.0


def test_concurrent_periodic_tasks() -> None:
    async def ticker(period: float, until: float) -> int:
        loop = asyncio.get_running_loop()
        ticks = 0
        while loop.time() + period <= until + 1e-9:
            await asyncio.sleep(period)
            ticks += 1
        return ticks

    async def main() -> tuple[list[int], float]:
        counts = await asyncio.gather(ticker(0.01, 600), ticker(0.02, 600), ticker(0.03, 600))
        return counts, asyncio.get_running_loop().time()

    start = time.perf_counter()
    counts, end = run_simulation(main())
    wall = time.perf_counter() - start
    print(f"\n600 s virtual, 3 tasks (10/20/30 ms periods, 110k sleeps): {wall * 1000:.0f} ms wall")
    assert all(abs(c - e) <= 1 for c, e in zip(counts, [60_000, 30_000, 20_000], strict=True))
    assert end == pytest.approx(600.0, abs=1e-6)


# -- event order: virtual time replays the live timeline ------------------------------------

# Every timed event sits on its own integer slot of `unit` seconds (causal follow-ups share the
# slot of their cause), so live runs have a full slot of margin against scheduling jitter.
_EXPECTED_ORDER = [
    ("producer", "put 1"), ("consumer", "got 1"),  # slot 2
    ("fast", 1),  # 4
    ("waiter", "timeout"),  # 5
    ("slow", 1),  # 6
    ("consumer", "timeout"),  # 7
    ("fast", 2),  # 8
    ("setter", "set"), ("waiter", "event"),  # 9
    ("producer", "put 2"), ("consumer", "got 2"),  # 10
    ("callback", "call_later 11"),  # 11
    ("fast", 3),  # 12
    ("main", "cancel sleeper"), ("sleeper", "cancelled"),  # 13
    ("slow", 2),  # 14
    ("consumer", "timeout"),  # 15
    ("fast", 4),  # 16
    ("producer", "put 3"), ("consumer", "got 3"),  # 18
    ("callback", "call_later 19"),  # 19
    ("fast", 5),  # 20
    ("slow", 3),  # 22
    ("consumer", "timeout"),  # 23
    ("fast", 6),  # 24
    ("callback", "call_at 25"),  # 25
    ("producer", "stop"), ("consumer", "stopped"),  # 26
]  # fmt: skip


async def _timeline_program(unit: float) -> list[tuple[str, Any, float]]:
    """A small multi-task program; returns (name, step, loop time in units) per event."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    log: list[tuple[str, Any, float]] = []

    def record(name: str, step: Any) -> None:
        log.append((name, step, (loop.time() - t0) / unit))

    async def until(slot: float) -> None:
        await asyncio.sleep(max(0.0, t0 + slot * unit - loop.time()))

    async def periodic(name: str, first: int, period: int, count: int) -> None:
        for k in range(count):
            await until(first + k * period)
            record(name, k + 1)

    event = asyncio.Event()

    async def setter() -> None:
        await until(9)
        record("setter", "set")
        event.set()

    async def waiter() -> None:
        try:
            await asyncio.wait_for(event.wait(), timeout=5 * unit)
        except TimeoutError:
            record("waiter", "timeout")
        await asyncio.wait_for(event.wait(), timeout=10 * unit)
        record("waiter", "event")

    queue: asyncio.Queue[int | None] = asyncio.Queue()

    async def producer() -> None:
        for i, slot in enumerate((2, 10, 18), start=1):
            await until(slot)
            record("producer", f"put {i}")
            queue.put_nowait(i)
        await until(26)
        record("producer", "stop")
        queue.put_nowait(None)

    async def consumer() -> None:
        while True:
            item = await queue.get()
            if item is None:
                record("consumer", "stopped")
                return
            record("consumer", f"got {item}")
            try:
                async with asyncio.timeout(5 * unit):
                    item = await queue.get()
            except TimeoutError:
                record("consumer", "timeout")
            else:
                queue.put_nowait(item)  # not expected; keeps the program total

    async def sleeper() -> None:
        try:
            await asyncio.sleep(100 * unit)
        except asyncio.CancelledError:
            record("sleeper", "cancelled")
            raise

    loop.call_later(11 * unit, record, "callback", "call_later 11")
    loop.call_later(19 * unit, record, "callback", "call_later 19")
    loop.call_at(t0 + 25 * unit, record, "callback", "call_at 25")

    sleeping = asyncio.create_task(sleeper())
    tasks = [
        asyncio.create_task(periodic("fast", 4, 4, 6)),
        asyncio.create_task(periodic("slow", 6, 8, 3)),
        asyncio.create_task(setter()),
        asyncio.create_task(waiter()),
        asyncio.create_task(producer()),
        asyncio.create_task(consumer()),
    ]
    await until(13)
    record("main", "cancel sleeper")
    sleeping.cancel()
    await asyncio.gather(*tasks, return_exceptions=False)
    with pytest.raises(asyncio.CancelledError):
        await sleeping
    return log


def _order(log: list[tuple[str, Any, float]]) -> list[tuple[str, Any]]:
    return [(name, step) for name, step, _ in log]


def test_event_order_in_simulation_matches_design_and_times_are_exact() -> None:
    unit = 600 / 26
    log = run_simulation(_timeline_program(unit))
    assert _order(log) == _EXPECTED_ORDER
    slots = [t for _, _, t in log]
    assert all(abs(s - round(s)) < 1e-9 for s in slots), slots


def test_event_order_live_matches_simulation() -> None:
    """The one test that waits on wall time: the same program on the standard loop."""
    simulated = _order(run_simulation(_timeline_program(600 / 26)))
    assert simulated == _EXPECTED_ORDER
    live: list[tuple[str, Any]] = []
    for _ in range(3):  # OS scheduling hiccups on a loaded machine can reorder live events
        live = _order(asyncio.run(_timeline_program(0.03)))  # ~0.8 s wall
        if live == simulated:
            break
    assert live == simulated


# -- executor: inline -----------------------------------------------------------------------


def test_run_in_executor_runs_inline_and_takes_no_virtual_time() -> None:
    def work(x: int) -> tuple[int, int]:
        return x * 2, threading.get_ident()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(1.0)
        future = loop.run_in_executor(None, work, 21)
        assert future.done()  # already ran, synchronously
        value, thread_id = await future
        assert value == 42
        assert thread_id == threading.get_ident()
        assert loop.time() == 1.0
        assert await asyncio.to_thread(work, 1) == (2, threading.get_ident())

    run_simulation(main())


def test_run_in_executor_propagates_exceptions() -> None:
    def boom() -> None:
        raise ValueError("inference failed")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        with pytest.raises(ValueError, match="inference failed"):
            await loop.run_in_executor(None, boom)

    run_simulation(main())


# -- real I/O is refused --------------------------------------------------------------------


def test_open_connection_is_refused() -> None:
    async def main() -> None:
        await asyncio.open_connection("127.0.0.1", 9)

    with pytest.raises(NetworkInSimulationError, match="record/replay"):
        run_simulation(main())


@pytest.mark.parametrize(
    "call",
    [
        lambda loop: loop.getaddrinfo("localhost", 80),
        lambda loop: loop.getnameinfo(("127.0.0.1", 80)),
        lambda loop: loop.create_server(asyncio.Protocol, "127.0.0.1", 0),
        lambda loop: loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, remote_addr=("127.0.0.1", 9)
        ),
        lambda loop: loop.sock_connect(socket.socket(), ("127.0.0.1", 9)),
    ],
    ids=["getaddrinfo", "getnameinfo", "create_server", "datagram", "sock_connect"],
)
def test_network_calls_are_refused(call: Callable[[asyncio.AbstractEventLoop], Any]) -> None:
    async def main() -> None:
        await call(asyncio.get_running_loop())

    with pytest.raises(NetworkInSimulationError, match="forbids real network I/O"):
        run_simulation(main())


def test_subprocess_is_refused() -> None:
    async def main() -> None:
        await asyncio.create_subprocess_exec("true")

    with pytest.raises(NetworkInSimulationError, match="subprocesses"):
        run_simulation(main())


def test_real_ready_io_is_processed_without_advancing_time() -> None:
    async def main() -> tuple[bytes, float]:
        loop = asyncio.get_running_loop()
        reader, writer = socket.socketpair()
        try:
            reader.setblocking(False)
            got: asyncio.Future[bytes] = loop.create_future()

            def on_readable() -> None:
                loop.remove_reader(reader)
                got.set_result(reader.recv(16))

            loop.add_reader(reader, on_readable)
            loop.call_later(100.0, lambda: None)  # a pending timer must not be jumped to
            writer.send(b"ping")
            data = await got
            return data, loop.time()
        finally:
            reader.close()
            writer.close()

    assert run_simulation(main()) == (b"ping", 0.0)


# -- deadlock -------------------------------------------------------------------------------


def _run_guarded(fn: Callable[[], Any], timeout: float = 10.0) -> BaseException | None:
    """Run ``fn`` in a daemon thread so a hang fails the test instead of hanging the suite."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            fn()
        except BaseException as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "the simulation hung instead of raising a deadlock error"
    return outcome[0]


def test_awaiting_a_future_nobody_resolves_is_a_deadlock() -> None:
    async def stuck_forever() -> None:
        await asyncio.get_running_loop().create_future()

    start = time.perf_counter()
    error = _run_guarded(lambda: run_simulation(stuck_forever()))
    assert isinstance(error, SimulationDeadlockError)
    assert time.perf_counter() - start < 2.0
    message = str(error)
    assert "no timer is scheduled" in message
    assert "stuck_forever" in message


def test_queue_nobody_fills_is_a_deadlock_after_timers_run_out() -> None:
    async def main() -> None:
        queue: asyncio.Queue[int] = asyncio.Queue()
        await asyncio.sleep(5.0)
        await queue.get()

    error = _run_guarded(lambda: run_simulation(main(), deadlock_grace=0.0))
    assert isinstance(error, SimulationDeadlockError)
    assert "5.000000" in str(error)
    assert "Queue.get" in str(error)


def test_sleeping_forever_is_a_deadlock() -> None:
    async def main() -> None:
        await asyncio.sleep(float("inf"))

    error = _run_guarded(lambda: run_simulation(main(), deadlock_grace=0.0))
    assert isinstance(error, SimulationDeadlockError)


def test_loop_stays_usable_after_a_deadlock() -> None:
    loop = new_virtual_loop()
    try:
        with pytest.raises(SimulationDeadlockError):
            loop.run_until_complete(loop.create_future())
        assert loop.run_until_complete(asyncio.sleep(2.0, result="ok")) == "ok"
        assert loop.time() == 2.0
    finally:
        loop.close()


# -- timeouts -------------------------------------------------------------------------------


def test_wait_for_and_timeout_work_in_virtual_time() -> None:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        times = []
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.sleep(10), timeout=2.5)
        times.append(loop.time())
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(1.5):
                await asyncio.sleep(10)
        times.append(loop.time())
        assert await asyncio.wait_for(asyncio.sleep(1, result="done"), timeout=3) == "done"
        times.append(loop.time())
        return times

    assert run_simulation(main()) == [2.5, 4.0, 5.0]


# -- runner helpers and shutdown ------------------------------------------------------------


def test_is_simulated() -> None:
    async def probe() -> bool:
        return is_simulated()

    assert run_simulation(probe()) is True
    assert asyncio.run(probe()) is False
    assert is_simulated() is False
    loop = new_virtual_loop()
    try:
        assert is_simulated(loop) is True
        assert isinstance(loop, VirtualTimeLoop)
    finally:
        loop.close()


def test_runner_with_simulation_loop_factory() -> None:
    async def main() -> float:
        await asyncio.sleep(42)
        return asyncio.get_running_loop().time()

    with asyncio.Runner(loop_factory=simulation_loop_factory) as runner:
        assert runner.run(main()) == 42.0
        assert runner.run(main()) == 84.0


def test_shutdown_closes_async_generators_and_user_executor() -> None:
    from concurrent.futures import ThreadPoolExecutor

    closed: list[str] = []

    async def ticks() -> Any:
        try:
            while True:
                await asyncio.sleep(1)
                yield asyncio.get_running_loop().time()
        finally:
            closed.append("agen")

    async def main() -> float:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=1))
        gen = ticks()
        await gen.__anext__()
        return await gen.__anext__()  # left suspended: shutdown_asyncgens must close it

    assert run_simulation(main(), debug=True) == 2.0
    assert closed == ["agen"]
