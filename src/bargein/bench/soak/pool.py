"""Worker processes with a wall-clock limit per scenario.

A scenario that never yields to its event loop (a busy loop in an agent, a native call that
never returns) cannot be stopped from inside its own process. Each scenario therefore runs
in a worker process; the parent waits for its outcome at most ``wall_limit`` seconds, then
kills that worker (only it: by its own process handle), reports a hang with the seed, starts
a fresh worker and goes on. A worker that dies (a crash in native code) is reported the
same way, as an exception. Workers are started with ``spawn``: setups must be picklable
(the built-in ones are; so is :class:`~bargein.adapters.soak_agent.AgentFileSetup`).

This is live wall time, by design: it is the watchdog of the soak, outside every
simulated call.

Why not :func:`bargein.parallel.run_in_order` (the pool of ``bargein run --workers``): its
process pool cannot stop one job. A future that never completes can only be abandoned, its
worker stays busy (or spins) until the whole pool shuts down, and a killed worker breaks
the pool for every job still queued. The soak must go on past a hang with the other
scenarios, so it keeps its own workers, one pipe each, and replaces only the one it killed.
The number of workers is checked the same way (:func:`bargein.parallel.check_workers`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from bargein.bench.soak.checks import Problem
from bargein.bench.soak.plan import ScenarioPlan
from bargein.bench.soak.scenario import ScenarioOutcome, SoakSetup, run_scenario
from bargein.parallel import check_workers

__all__ = ["WALL_LIMIT", "run_plans"]

#: Wall seconds one scenario may take before its worker is killed and a hang reported.
#: Generous: a loaded 2-core machine runs a real-recognition scenario at 1-3x real time.
WALL_LIMIT = 600.0
_POLL = 1.0


def _serve(conn: Connection, setups: Sequence[SoakSetup]) -> None:
    """A worker: load the models once, then run each plan sent until told to stop."""
    from bargein.adapters.own_agent import shared_models

    by_name = {s.name: s for s in setups}
    shared_models()
    conn.send("ready")
    while True:
        plan = conn.recv()
        if plan is None:
            return
        conn.send(run_scenario(plan, by_name[plan.setup]))


@dataclass
class _Worker:
    process: Any
    conn: Connection
    plan: ScenarioPlan | None = None
    started: float = 0.0

    @classmethod
    def start(cls, setups: Sequence[SoakSetup]) -> _Worker:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        process = ctx.Process(target=_serve, args=(child, list(setups)), daemon=True,
                              name="bargein-soak-worker")
        process.start()
        child.close()
        return cls(process, parent)

    def give(self, plan: ScenarioPlan) -> None:
        self.conn.send(plan)
        self.plan, self.started = plan, time.perf_counter()  # wall-clock-ok: the watchdog

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.kill()


def run_plans(plans: Sequence[ScenarioPlan], setups: Sequence[SoakSetup], *, workers: int = 1,
              wall_limit: float = WALL_LIMIT,
              on_outcome: Callable[[ScenarioOutcome], None] | None = None,
              ) -> Iterator[ScenarioOutcome]:
    """Run ``plans`` on ``workers`` worker processes; yields each outcome as it comes (in
    the order they finish) and calls ``on_outcome`` with it."""
    check_workers(workers)
    todo = list(reversed(plans))
    pool = [_Worker.start(setups) for _ in range(max(1, min(workers, len(plans))))]
    idle: list[_Worker] = []
    try:
        for w in pool:  # wait until every worker has loaded its models
            w.conn.recv()
            idle.append(w)
        busy: list[_Worker] = []
        while todo or busy:
            while todo and idle:
                w = idle.pop()
                w.give(todo.pop())
                busy.append(w)
            ready = wait([w.conn for w in busy], timeout=_POLL)
            for w in list(busy):
                outcome = _collect(w, ready, wall_limit)
                if outcome is None:
                    continue
                busy.remove(w)
                if w.process.is_alive():
                    idle.append(w)
                else:
                    pool.remove(w)
                    fresh = _Worker.start(setups)
                    fresh.conn.recv()
                    pool.append(fresh)
                    idle.append(fresh)
                if on_outcome is not None:
                    on_outcome(outcome)
                yield outcome
    finally:
        for w in pool:
            w.stop()


def _collect(worker: _Worker, ready: list[Any], wall_limit: float) -> ScenarioOutcome | None:
    """The worker's outcome if it has one (or a hang / crash made up for it), else None."""
    plan = worker.plan
    assert plan is not None
    elapsed = time.perf_counter() - worker.started  # wall-clock-ok: the watchdog
    if worker.conn in ready:
        try:
            outcome: ScenarioOutcome = worker.conn.recv()
            return outcome
        except (EOFError, OSError):
            worker.process.join(timeout=5)
            code = worker.process.exitcode
            return _made_up(plan, "exception", f"the worker process died (exit code {code}) "
                            "while running this scenario", elapsed)
    if elapsed > wall_limit:
        worker.kill()
        return _made_up(plan, "hang", f"no outcome after {wall_limit:g} s of wall time: the "
                        "worker was killed", elapsed)
    return None


def _made_up(plan: ScenarioPlan, kind: str, detail: str, wall: float) -> ScenarioOutcome:
    return ScenarioOutcome(plan.seed, plan.index, plan.setup, plan.describe(), wall=wall,
                           problems=[Problem(kind, detail)], fault=plan.variant.fault,
                           stt=plan.variant.stt)
