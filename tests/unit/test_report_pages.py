"""Report pages from hand-made results (no models): protected speech read from the segments,
an empty call, and escaping. The real runs and the browser are in
tests/integration/test_report.py."""

from __future__ import annotations

import dataclasses

import numpy as np

from bargein.scenario.metrics import InterruptionMeasure, Metrics, UserUtterance
from bargein.scenario.report import render_report, render_suite_summary
from bargein.scenario.report.data import agent_turns, interruption_rows
from bargein.scenario.result import Recording, ScenarioResult, Segment
from bargein.scenario.timeline import Timeline

RATE = 16000


@dataclasses.dataclass(frozen=True)
class FlaggedSegment(Segment):
    """A segment with the optional ``protected`` field the report reads."""

    protected: bool = False


def call(protected: bool) -> ScenarioResult:
    """2 s: the agent speaks 0.2-1.8 s, the user barges in at 1.0 s; the agent plays on."""
    t = np.arange(2 * RATE) / RATE
    stereo = np.zeros((2 * RATE, 2), dtype=np.int16)
    stereo[round(0.2 * RATE):round(1.8 * RATE), 1] = 8000 * np.sin(2 * np.pi * 220 * t[:25600])
    stereo[round(1.0 * RATE):round(1.5 * RATE), 0] = 6000 * np.sin(2 * np.pi * 330 * t[:8000])
    timeline = Timeline()
    timeline.add(0.2, "agent_started_speaking")
    timeline.add(1.0, "interrupt_fired", trigger="after", mode="vad", content="Wait!")
    timeline.add(1.8, "agent_message", text="Please listen to this notice.", interrupted=False)
    timeline.add(1.8, "agent_stopped_speaking")
    utterance = UserUtterance(0, 1.0, 1.5, "Wait!", barge_in=True, trigger="after", mode="vad")
    measure = InterruptionMeasure(0, 1.0, "after", "vad", True, 1.8, 0.8, False)
    segments = [FlaggedSegment("agent", 1, 0.2, 1.8, "Please listen to this notice.",
                               protected=protected),
                Segment("user", 2, 1.0, 1.5, "Wait!")]
    return ScenarioResult(
        name="notice", description="", success=True, reasoning="ok", adapter="fake",
        capabilities={}, seed=0, live=False, timeline=timeline,
        metrics=Metrics(interruptions=[measure], stop_latency=[0.8], yield_rate=0.0),
        checks=[], utterances=[utterance], recording=Recording(stereo, RATE, segments))


def test_a_protected_segment_makes_its_turn_and_barge_in_protected():
    result = call(protected=True)
    assert [t.protected for t in agent_turns(result)] == [True]
    assert [r.verdict for r in interruption_rows(result)] == ["protected"]
    page = render_report(result)
    assert 'class="span-protected"' in page and "protected: played on" in page
    assert '<span class="bad">no</span>' not in page and "stop 0.80 s" not in page


def test_without_the_flag_the_same_barge_in_is_a_failure_to_yield():
    result = call(protected=False)
    assert [r.verdict for r in interruption_rows(result)] == ["no"]
    page = render_report(result)
    assert 'class="span-protected"' not in page and '<span class="bad">no</span>' in page
    assert "stop 0.80 s" in page


def test_an_empty_call_renders():
    empty = dataclasses.replace(
        call(False), timeline=Timeline(), utterances=[], metrics=Metrics(),
        recording=Recording(np.zeros((0, 2), dtype=np.int16), RATE, []))
    page = render_report(empty, embed_audio=False)
    assert "Nothing was said." in page and "No barge-ins in this run." in page


def test_texts_are_escaped_and_pages_are_deterministic(tmp_path):
    hostile = dataclasses.replace(call(True), name="<script>x</script>", reasoning="a<b")
    page = render_report(hostile)
    assert "<script>x" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert render_report(hostile) == page
    index = render_suite_summary([(hostile, tmp_path / "r")], tmp_path)
    assert "&lt;script&gt;" in index and 'href="r/report.html"' in index
