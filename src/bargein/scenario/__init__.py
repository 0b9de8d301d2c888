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

from typing import Any

from bargein.adapters.base import AgentAdapter
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
               script: list[Any], **options: Any) -> ScenarioResult:
    """Run a scenario inside the current event loop (virtual or real time, as it is)."""
    from bargein.sim import is_simulated

    live = not is_simulated()
    return await ScenarioRun(name, description, agent, script, live=live, **options).run()


def run(name: str, description: str = "", *, agent: AgentAdapter, script: list[Any],
        live: bool = False, **options: Any) -> ScenarioResult:
    """Run a scenario and return its :class:`ScenarioResult`.

    In simulation (default) on a virtual clock, as fast as the CPU allows; with ``live=True``
    in real time. Options: ``seed``, ``sample_rate``, ``user_voice`` (espeak voice of the
    simulated user), ``user`` (a :class:`UserSimulator`), ``judge_llm`` (LLM for free-text
    judge criteria), ``interrupt_mode`` ("auto" | "native" | "vad"), ``max_duration``,
    ``settle`` (seconds of agent silence that end its turn), ``echo_gain``, ``backchannels``
    (the words that make a caller's line a backchannel; match the agent's own).
    """
    from bargein.sim import run_live, run_simulation

    scenario_run = ScenarioRun(name, description, agent, script, live=live, **options)
    if live:
        return run_live(scenario_run.run())
    return run_simulation(scenario_run.run())


__all__ = [
    "DEFAULT_PHRASES",
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
