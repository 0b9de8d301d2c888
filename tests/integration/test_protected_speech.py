"""Protected (uninterruptible) speech in results: shown as protected, kept out of the yield and
stop figures of the scenario and of a suite's pooled totals, checked by "not interrupted".

The agent is examples/agents/uninterruptable.py (real Silero VAD and espeak-ng): its long
opening reply has ``allow_interruptions=False`` and the caller talks over it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bargein import scenario
from bargein.scenario.report import render_report, render_suite_summary

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples" / "scenarios"))

from _agents import uninterruptable_agent  # noqa: E402

OVER_IT = "Sorry to jump in, can you tell me about refunds instead?"


@pytest.fixture(scope="module")
def protected() -> scenario.ScenarioResult:
    return scenario.run("announcement", agent=uninterruptable_agent("limited"), script=[
        scenario.interrupt(OVER_IT, after=4.0), scenario.agent(),
        scenario.expect_not_interrupted()])


@pytest.fixture(scope="module")
def interruptible() -> scenario.ScenarioResult:
    sys.path.insert(0, str(Path(__file__).parent))
    from test_scenarios import FEATURES, adapter

    return scenario.run("barge-in", agent=adapter("limited"), script=[
        scenario.agent(), scenario.user(FEATURES),
        scenario.interrupt("Wait, what are your business hours?", after=1.0),
        scenario.agent(), scenario.expect_yielded()])


def test_protected_barge_in_is_measured_apart(protected) -> None:
    assert protected.success, protected.reasoning
    [m] = protected.metrics.interruptions
    assert m.agent_was_speaking and m.protected and m.not_interrupted is True
    assert m.stop_latency is None and not m.yielded
    summary = protected.metrics.summary()
    assert summary["yield_rate"] is None and summary["stop_latency_p50"] is None
    assert summary["protected_barge_ins"] == 1 and summary["protected_interrupted"] == 0
    data = json.loads(protected.to_json())
    assert data["metrics"]["interruptions"][0]["protected"] is True
    started = [e for e in data["timeline"] if e["kind"] == "agent_started_speaking"]
    assert started[0].get("protected") is True
    assert "played on to its end" in protected.checks[0].detail


def test_a_protected_speech_is_not_a_failed_yield_in_the_report(protected) -> None:
    page = render_report(protected)
    assert "protected: played on" in page
    assert "Protected barge-ins" in page


def test_suite_totals_pool_only_interruptible_barge_ins(protected, interruptible) -> None:
    assert interruptible.success, interruptible.reasoning
    stop = interruptible.metrics.stop_latency[0]
    page = render_suite_summary([(protected, Path("a")), (interruptible, Path("b"))], Path("."))
    total = page[page.index('<tr class="total">'):]
    # the pooled stop latency is the interruptible scenario's alone
    assert f"{stop:.3f}" in total
