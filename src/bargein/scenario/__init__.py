"""The scenario test SDK: script a conversation, run it against an adapter, judge the result.

    from bargein import scenario

    result = scenario.run(
        "barge-in recovery", agent=adapter,
        script=[scenario.agent(), scenario.user("Tell me about your plans"),
                scenario.interrupt("Sorry, what are your opening hours?"),
                scenario.agent(), scenario.expect_stopped_within(0.6)],
    )
"""

from __future__ import annotations

import asyncio
from typing import Any

from bargein.adapters.base import AgentAdapter
from bargein.errors import ScenarioError
from bargein.scenario import validation as check
from bargein.scenario.call import SimulatedCall
from bargein.scenario.definition import Scenario
from bargein.scenario.expectations import (
    CheckResult,
    ExpectStep,
    expect_event,
    expect_metric,
    expect_no_overlap_longer_than,
    expect_not_interrupted,
    expect_reply_addresses_interruption,
    expect_reply_mentions,
    expect_stopped_within,
    expect_yielded,
)
from bargein.scenario.judging import (
    Criterion,
    JudgeStep,
    judge,
    metric,
    not_said,
    recovered_after_interruptions,
    said,
)
from bargein.scenario.metrics import InterruptionMeasure, Metrics, UserUtterance
from bargein.scenario.options import RUN_OPTIONS, check_run_options
from bargein.scenario.result import Recording, ScenarioResult, Segment
from bargein.scenario.runner import ScenarioRun
from bargein.scenario.simulator import DEFAULT_PHRASES, InterruptionConfig, UserSimulator
from bargein.scenario.steps import (
    agent,
    fail,
    interrupt,
    proceed,
    silence,
    sleep,
    succeed,
    user,
    validate,
)
from bargein.scenario.timeline import Timeline, TimelineEvent
from bargein.scenario.user_audio import UserSpeech


async def arun(name: str, description: str = "", *, agent: AgentAdapter,
               script: list[Any], live: bool | None = None,
               **options: Any) -> ScenarioResult:
    """Run a scenario inside the running event loop, on that loop's clock.

    On a simulation loop (:func:`bargein.sim.run_simulation`, or an ``asyncio.Runner`` with
    :func:`bargein.sim.simulation_loop_factory`) it runs in virtual time. On an ordinary
    loop (``asyncio.run``, an async test) the conversation would take real time, so that
    needs ``live=True``, said on purpose: without it :class:`ScenarioError` explains the
    choice instead of silently running for minutes.
    """
    from bargein.sim import is_simulated

    simulated = is_simulated()
    if live is not None:
        check.flag(live, "scenario.arun(live=...)")
    if simulated and live:
        raise ScenarioError(
            "scenario.arun(live=True) was awaited on a simulation (virtual-time) loop; run "
            "live scenarios on an ordinary loop, e.g. asyncio.run(scenario.arun(..., "
            "live=True)), or drop live=True to simulate")
    if not simulated and not live:
        raise ScenarioError(
            "scenario.arun() was awaited on an ordinary event loop, where the conversation "
            "would play in real time; pass live=True if that is what you want, or simulate "
            "it: call scenario.run(...) outside any loop, or await arun() inside "
            "bargein.sim.run_simulation(...)")
    check_run_options(options, where="scenario.arun()", voices=True)
    return await ScenarioRun(name, description, agent, script, live=not simulated,
                             **options).run()


def run(name: str, description: str = "", *, agent: AgentAdapter, script: list[Any],
        live: bool = False, **options: Any) -> ScenarioResult:
    """Run a scenario and return its :class:`ScenarioResult`.

    In simulation (default) on a virtual clock, as fast as the CPU allows; with ``live=True``
    in real time. Options: ``seed``, ``sample_rate``, ``user_voice`` (espeak voice of the
    simulated user), ``user`` (a :class:`UserSimulator`), ``criteria`` (what a bare
    ``judge()`` judges and an open-ended ``proceed()`` checks after every exchange; default:
    the ``description``, judged by an LLM), ``judge_llm`` (LLM for free-text judge
    criteria), ``interrupt_mode`` ("auto" | "native" | "vad"), ``max_duration``,
    ``max_turns`` (the most caller turns an open-ended ``proceed()`` lets the conversation
    reach, 10), ``settle`` (seconds of agent silence that end its turn), ``echo_gain``,
    ``backchannels`` (the words that make a caller's line a backchannel; match the agent's
    own). A value that cannot work (NaN, a negative duration, an unknown option...) raises
    :class:`~bargein.errors.ScenarioError` before anything runs.
    """
    from bargein.sim import run_live, run_simulation

    check.flag(live, "scenario.run(live=...)")
    if _loop_running():
        raise ScenarioError(
            "scenario.run() was called inside a running event loop (an async function or "
            "test); there, await scenario.arun(...) instead (see its docstring)")
    check_run_options(options, voices=True)
    scenario_run = ScenarioRun(name, description, agent, script, live=live, **options)
    if live:
        return run_live(scenario_run.run())
    return run_simulation(scenario_run.run())


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


__all__ = [
    "DEFAULT_PHRASES",
    "RUN_OPTIONS",
    "CheckResult",
    "Criterion",
    "ExpectStep",
    "InterruptionConfig",
    "InterruptionMeasure",
    "JudgeStep",
    "Metrics",
    "Recording",
    "Scenario",
    "ScenarioResult",
    "ScenarioRun",
    "Segment",
    "SimulatedCall",
    "Timeline",
    "TimelineEvent",
    "UserSimulator",
    "UserSpeech",
    "UserUtterance",
    "agent",
    "arun",
    "expect_event",
    "expect_metric",
    "expect_no_overlap_longer_than",
    "expect_not_interrupted",
    "expect_reply_addresses_interruption",
    "expect_reply_mentions",
    "expect_stopped_within",
    "expect_yielded",
    "fail",
    "interrupt",
    "judge",
    "metric",
    "not_said",
    "proceed",
    "recovered_after_interruptions",
    "run",
    "said",
    "silence",
    "sleep",
    "succeed",
    "user",
    "validate",
]
