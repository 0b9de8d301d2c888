"""One soak scenario, start to end, in its own virtual-time loop.

:func:`run_scenario` builds the agent of the plan's setup, plays the caller's moves on the
project's one harness (:class:`~bargein.scenario.call.SimulatedCall`), bounds the run in
virtual time (a hang is reported, never waited for), catches every exception (raised in the
harness, left unretrieved in a task, or logged as an error by the runtime), then runs the
checks of :mod:`bargein.bench.soak.checks`. The wall-clock limit is the worker pool's job
(:mod:`bargein.bench.soak.pool`): a scenario that never yields back to its loop cannot stop
itself.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bargein.adapters.base import AgentAdapter
from bargein.adapters.soak_agent import SoakVariant
from bargein.bench.soak.caller import Caller
from bargein.bench.soak.checks import CallFacts, Problem, TurnStats, check_call
from bargein.bench.soak.plan import ScenarioPlan
from bargein.scenario.call import SimulatedCall
from bargein.sim.run import run_simulation

__all__ = ["CLOSE_LIMIT", "VIRTUAL_LIMIT", "ScenarioOutcome", "SoakSetup", "run_scenario"]

#: Seconds of simulated time a scenario may take (its moves are bounded well below this).
VIRTUAL_LIMIT = 360.0
#: Seconds of simulated time the adapter may take to close.
CLOSE_LIMIT = 15.0


class SoakSetup(Protocol):
    """An agent the soak runs: a name, and a fresh adapter per scenario.

    ``discards_over_protected``: whether the agent drops words said over its
    uninterruptible speech (None: unknown; such words are then not counted lost).
    """

    name: str
    description: str
    discards_over_protected: bool | None

    def adapter(self, variant: SoakVariant) -> AgentAdapter:
        """A fresh adapter for one scenario, with the variant's recognizer and fault."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description."""
        ...


@dataclass
class ScenarioOutcome:
    """What one scenario found. ``digest`` is the SHA-256 of its stereo recording: the same
    seed and index give the same digest (``wall`` is the only figure that varies)."""

    seed: int
    index: int
    setup: str
    description: str
    simulated: float = 0.0
    wall: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    turns: TurnStats = field(default_factory=TurnStats)
    digest: str = ""
    fault: str | None = None
    stt: str = "oracle"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, without the wall time."""
        return {"index": self.index, "setup": self.setup, "stt": self.stt,
                "fault": self.fault, "simulated": round(self.simulated, 3),
                "utterances": self.turns.utterances, "answered": self.turns.answered,
                "excused": self.turns.excused or {}, "digest": self.digest,
                "problems": [p.to_dict() for p in self.problems]}


def run_scenario(plan: ScenarioPlan, setup: SoakSetup, *,
                 virtual_limit: float = VIRTUAL_LIMIT,
                 on_call: Callable[[SimulatedCall], None] | None = None) -> ScenarioOutcome:
    """Run ``plan`` against ``setup`` in a new virtual-time loop; never raises for what the
    agent or the harness does (it is reported in the outcome). ``on_call`` gets the call
    once it is over and checked (its timeline, recording and speeches, to look inside)."""
    started = time.perf_counter()  # wall-clock-ok: reported run cost, not runtime timing
    outcome = ScenarioOutcome(plan.seed, plan.index, setup.name, plan.describe(),
                              fault=plan.variant.fault, stt=plan.variant.stt)
    capture = _Capture()
    capture.attach()
    try:
        run_simulation(_play(plan, setup, outcome, capture, virtual_limit, on_call))
    except Exception as exc:  # the loop itself failed: report it, keep soaking
        outcome.problems.append(_exception("the scenario's loop failed", exc))
    finally:
        # tasks and generators the call left pending are destroyed (and complain) when
        # collected: now, while they count for this scenario, not in the next one a worker
        # runs (whose rerun alone would not show them)
        gc.collect()
        capture.detach()
    outcome.problems += capture.problems
    outcome.wall = time.perf_counter() - started  # wall-clock-ok
    return outcome


async def _play(plan: ScenarioPlan, setup: SoakSetup, outcome: ScenarioOutcome,
                capture: _Capture, limit: float,
                on_call: Callable[[SimulatedCall], None] | None) -> None:
    asyncio.get_running_loop().set_exception_handler(capture.loop_exception)
    call = SimulatedCall(setup.adapter(plan.variant))
    caller = Caller(plan, call)
    finished = False
    try:
        async with asyncio.timeout(limit) as deadline:
            await call.start()
            await caller.play()
            busy = await caller.finish()
            if busy is not None:
                outcome.problems.append(Problem("hang", busy, call.time))
            finished = busy is None
    except TimeoutError:
        if not deadline.expired():
            raise
        outcome.problems.append(Problem("hang", f"the scenario ran past {limit:g} s of "
                                        "simulated time", call.time))
    except Exception as exc:
        outcome.problems.append(_exception("the call failed", exc, call.time))
    finally:
        await caller.stop()
        await _close(call, outcome)
    caller.settle_lines()
    facts = CallFacts(exact_words=plan.variant.stt == "oracle",
                      discards_over_protected=setup.discards_over_protected,
                      injected=plan.variant.injected_sources,
                      fault_until=_fault_until(plan.variant))
    try:
        problems, outcome.turns = check_call(call, caller.lines, facts, turns=finished)
        outcome.problems += problems
    except Exception as exc:
        outcome.problems.append(_exception("the checks failed", exc))
    outcome.simulated = call.time
    if on_call is not None:
        on_call(call)
    outcome.digest = hashlib.sha256(call.room.recorder.channel("user").tobytes()
                                    + call.room.recorder.channel("agent").tobytes()).hexdigest()


async def _close(call: SimulatedCall, outcome: ScenarioOutcome) -> None:
    try:
        async with asyncio.timeout(CLOSE_LIMIT):
            await call.close()
    except TimeoutError:
        outcome.problems.append(Problem("hang", f"the agent did not close within "
                                        f"{CLOSE_LIMIT:g} s of simulated time", call.time))
    except Exception as exc:
        outcome.problems.append(_exception("closing the call failed", exc, call.time))


def _fault_until(variant: SoakVariant) -> float | None:
    """A VAD that is down from its first frame excuses what is said while it is down."""
    if variant.fault == "vad:raise":
        return variant.fault_after + 1.0
    return None


def _exception(what: str, exc: BaseException, at: float | None = None) -> Problem:
    frames = traceback.extract_tb(exc.__traceback__)[-3:]
    where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in reversed(frames))
    return Problem("exception", f"{what}: {type(exc).__name__}: {exc} ({where})", at)


class _Capture(logging.Handler):
    """Exceptions nobody awaited (the loop's handler) and errors the runtime logged."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.problems: list[Problem] = []

    def attach(self) -> None:
        logging.getLogger().addHandler(self)

    def detach(self) -> None:
        logging.getLogger().removeHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        detail = f"logged by {record.name}: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            detail += f" ({type(exc).__name__}: {exc})"
        self.problems.append(Problem("exception", detail))

    def loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        message = str(context.get("message", "unhandled exception"))
        if isinstance(exc, BaseException):
            self.problems.append(_exception(message, exc))
        else:
            self.problems.append(Problem("exception", message))
