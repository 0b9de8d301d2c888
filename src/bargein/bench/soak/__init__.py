"""The soak: thousands of seeded random calls against agent setups, and what went wrong.

Each scenario draws an agent setup (bargein's agent under one of the built-in setups of
:mod:`bargein.adapters.soak_agent`, or your own), a recognizer, at most one injected provider
fault, and a random caller (questions, barge-ins at random moments, backchannels, coughs,
pauses inside a sentence, monologues, silences, background noise), then runs in virtual time
on the project's one harness (:class:`~bargein.scenario.call.SimulatedCall`) through the
agent's adapter. Every scenario is bounded in simulated and in wall time, and checked for
hangs, exceptions, lost turns, history mismatches, double answers and error events nobody
injected (:mod:`.checks`). ``bargein soak`` is a thin face over :func:`run_soak`::

    from bargein.bench.soak import run_soak
    from bargein.adapters.soak_agent import select_setups

    result = run_soak(200, seed=1, setups=select_setups(["words1", "turn-limit"]))
    print("\\n".join(result.summary_lines() + result.problem_lines()))

Scenario ``k`` of seed ``S`` is the same alone as among thousands: ``run_soak(seed=S,
only=[k])`` (``bargein soak --seed S --only k``) reruns it, and its recording's digest is
the same.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bargein.bench.soak.checks import PROBLEM_KINDS, Problem
from bargein.bench.soak.plan import ScenarioPlan, draw_scenario
from bargein.bench.soak.pool import WALL_LIMIT, run_plans
from bargein.bench.soak.report import SoakResult, outcome_lines
from bargein.bench.soak.scenario import ScenarioOutcome, SoakSetup, run_scenario
from bargein.markers import update_file

__all__ = ["PROBLEM_KINDS", "WALL_LIMIT", "Problem", "ScenarioOutcome", "ScenarioPlan",
           "SoakResult", "SoakSetup", "draw_scenario", "plans", "run_scenario", "run_soak",
           "update_readme"]

HEADING = "## Soak"


def plans(count: int, seed: int, setups: Sequence[SoakSetup], *,
          only: Sequence[int] | None = None) -> list[ScenarioPlan]:
    """The plans of scenarios ``0 .. count-1`` (or just ``only``) of run ``seed``."""
    names = [s.name for s in setups]
    if len(set(names)) != len(names):
        raise ValueError(f"setup names must be unique, got {', '.join(names)}")
    indexes = list(only) if only is not None else list(range(count))
    return [draw_scenario(seed, k, names) for k in indexes]


def run_soak(count: int = 100, *, seed: int = 0, setups: Sequence[SoakSetup],
             only: Sequence[int] | None = None, workers: int = 1,
             wall_limit: float = WALL_LIMIT, command: str | None = None,
             progress: Callable[[str], None] | None = None,
             checkpoint: Callable[[SoakResult], None] | None = None,
             checkpoint_every: int = 100) -> SoakResult:
    """Run ``count`` scenarios of ``seed`` (or the ones in ``only``) against ``setups`` on
    ``workers`` worker processes; ``command`` is how to rerun it (for the reproduce lines).
    ``progress`` gets a line now and then. The machine's load average is sampled as
    scenarios finish: a soak's speed says little without it. ``checkpoint`` gets the result
    so far every ``checkpoint_every`` scenarios (a long run stopped early keeps them)."""
    todo = plans(count, seed, setups, only=only)
    started = time.perf_counter()  # wall-clock-ok: reported run time
    done: list[ScenarioOutcome] = []
    loads = [_load()]

    rerun = command or f"bargein soak --seed {seed}"

    def result() -> SoakResult:
        return SoakResult(seed, [s.to_dict() for s in setups], list(done), rerun,
                          time.perf_counter() - started, workers,  # wall-clock-ok
                          load=sum(loads) / len(loads), planned=len(todo))

    def step(outcome: ScenarioOutcome) -> None:
        done.append(outcome)
        loads.append(_load())
        if checkpoint is not None and len(done) % checkpoint_every == 0 \
                and len(done) < len(todo):
            checkpoint(result())
        if progress is None:
            return
        for line in outcome_lines(outcome, rerun):  # problems as they come: a long run
            progress(line)                          # can be stopped at the first one
        if len(done) % 25 == 0 or len(done) == len(todo):
            wall = time.perf_counter() - started  # wall-clock-ok
            bad = sum(bool(o.problems) for o in done)
            progress(f"{len(done)}/{len(todo)} scenarios, {bad} with problems, "
                     f"{sum(o.simulated for o in done):.0f} s simulated in {wall:.0f} s")

    list(run_plans(todo, setups, workers=workers, wall_limit=wall_limit, on_outcome=step))
    return result()


def _load() -> float:
    """The 1-minute load average (0 where the system does not say)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def update_readme(path: str | Path, result: SoakResult, machine: str,
                  command: str | None = None) -> None:
    """Write the soak section of ``path`` (benchmarks/README.md) from ``result``, made by
    ``command``."""
    update_file(path, "soak", result.readme_section(machine, command), heading=HEADING)
