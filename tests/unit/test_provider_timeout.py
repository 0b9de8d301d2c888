"""with_timeout: a provider stream times out when one item takes over the limit, measured
from when that item was asked for, on the loop's clock; slow but steady streams never do."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bargein.agent.player import with_timeout
from bargein.errors import ProviderTimeoutError
from bargein.sim import run_simulation


async def _items(gaps: list[float]) -> AsyncIterator[int]:
    for i, gap in enumerate(gaps):
        await asyncio.sleep(gap)
        yield i


async def _collect(gaps: list[float], seconds: float,
                   hold: float = 0.0) -> tuple[list[tuple[int, float]], str | None, float]:
    loop = asyncio.get_running_loop()
    got: list[tuple[int, float]] = []
    error = None
    try:
        async for item in with_timeout(_items(gaps), seconds, "the TTS"):
            got.append((item, loop.time()))
            await asyncio.sleep(hold)  # the consumer's own time never counts
    except ProviderTimeoutError as exc:
        error = str(exc)
    return got, error, loop.time()


def test_a_steady_stream_slower_in_total_than_the_limit_never_times_out() -> None:
    got, error, _ = run_simulation(_collect([0.6] * 10, 1.0, hold=2.0))
    assert error is None
    assert [i for i, _ in got] == list(range(10))


def test_a_stalled_item_times_out_exactly_the_limit_after_it_was_asked_for() -> None:
    got, error, end = run_simulation(_collect([0.0, 0.3, 0.7, 5.0], 1.0, hold=0.25))
    assert [i for i, _ in got] == [0, 1, 2]
    assert error == "the TTS produced nothing for 1 s (provider_timeout)"
    asked = got[-1][1] + 0.25  # the fourth item was asked for after the consumer's hold
    assert end == pytest.approx(asked + 1.0, abs=1e-9)


def test_a_cancel_from_outside_stays_a_cancel() -> None:
    async def main() -> bool:
        task = asyncio.create_task(_collect([10.0], 5.0))
        await asyncio.sleep(1.0)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return True
        return False

    assert run_simulation(main())


def test_a_timeout_leaves_the_task_usable_and_uncancelled() -> None:
    async def main() -> tuple[str | None, int, float]:
        _, error, _ = await _collect([3.0], 1.0)
        task = asyncio.current_task()
        assert task is not None
        await asyncio.sleep(0.5)  # not cancelled again
        return error, task.cancelling(), asyncio.get_running_loop().time()

    error, cancelling, now = run_simulation(main())
    assert error is not None and cancelling == 0
    assert now == pytest.approx(1.5, abs=1e-9)
