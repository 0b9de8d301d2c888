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


@pytest.mark.parametrize("next_step", [scenario.agent(), scenario.proceed(turns=1)],
                         ids=["agent", "proceed"])
def test_a_barge_in_the_agent_discarded_needs_no_reply(next_step) -> None:
    """Issue 17 item 7: the caller talks over the end of the long protected reply; the agent
    discards the words (its default) and says nothing more. That is by design: the script
    goes on (``proceed``: the caller speaks next) instead of timing out after 30 s."""
    result = scenario.run("discarded", agent=uninterruptable_agent("limited"), script=[
        scenario.interrupt(OVER_IT, after=27.0, timeout=60), next_step])
    assert result.success, result.reasoning
    over_it = result.utterances[0]
    [measure] = result.metrics.interruptions
    reply_end = max(e.time for e in result.timeline.of("agent_stopped_speaking")
                    if e.time < over_it.end + 1.0)
    assert over_it.onset < reply_end < over_it.end  # the reply ended while the caller spoke
    assert measure.protected and measure.not_interrupted is True
    [discarded] = result.timeline.of("turn_discarded")
    assert discarded.data["utterance"] == 0 and discarded.time < over_it.end + 5.0
    finals = [e for e in result.timeline.of("user_transcript") if e.data["final"]]
    assert finals[0].data.get("discarded") is True  # what the adapter reported
    said = " ".join(e.data["text"] for e in result.timeline.of("agent_message"))
    assert "refunded in full" not in said  # the dropped question was never answered
    if next_step.kind == "proceed":
        assert len(result.utterances) == 2  # the caller went on, and was answered
        answered = [e for e in result.timeline.of("agent_message")
                    if e.time > result.utterances[1].end]
        assert answered and not answered[0].data["interrupted"]
