"""The reference's script shapes run as written (issue 18 item 2) and a discarded turn is
answered by design (issue 17 item 7).

- a bare ``judge()`` judges the scenario's own criteria (or its description, with an LLM);
- ``proceed()`` picks up where the script left off: the agent answers the caller's last
  line before the simulated caller speaks again;
- ``proceed()`` without ``turns`` runs until the judge decides or ``max_turns``;
- ``Scenario`` takes ``user=``, ``seed=``, ``criteria=`` and documents every option;
- a caller line the agent reports as discarded (said over protected speech) needs no reply.

The agent is a scripted fake (a tone per reply, reported as a message): these tests are
about the script's timing logic on the audio timeline, which needs no real models. The real
stack is exercised in tests/integration (test_example_scenarios.py, test_protected_speech.py).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest

from bargein import scenario
from bargein.adapters import AgentAdapter, Capabilities
from bargein.audio import AudioFrame
from bargein.errors import ScenarioError
from bargein.providers.llm import LLMChunk
from bargein.scenario.options import RUN_OPTIONS

FRAME = 0.02
DOCS = Path(__file__).resolve().parents[2] / "docs" / "scenarios.md"


class ToneAgent(AgentAdapter):
    """Answers each caller turn (0.6 s after the caller's voice ends) with a tone of
    ``reply`` seconds, reported as the message "reply N"; stops on the cancel signal.

    ``opening`` plays a first speech of that length at the start; ``protected`` makes it
    uninterruptible (reported so), and a caller turn that starts during it is dropped: with
    ``flag_discards`` its final transcript is reported with ``discarded=True``.
    """

    name = "tone"

    def __init__(self, *, reply: float = 3.0, opening: float = 0.0, protected: bool = False,
                 drops_turns_over_opening: bool = False, flag_discards: bool = True) -> None:
        self.reply, self.opening = reply, opening
        self.protected = protected
        self.drops = protected or drops_turns_over_opening
        self.flag_discards = flag_discards
        self.capabilities = Capabilities(streaming_transcripts=False, native_vad=True,
                                         interruption=not protected)

    async def start(self, link):
        self.link, self.replies = link, 0
        self.speaking: asyncio.Task | None = None
        self.opening_span: tuple[float, float] | None = None
        self.task = asyncio.create_task(self._listen())
        if self.opening:
            self.speaking = asyncio.create_task(self._speak(self.opening, opening=True))

    async def _listen(self):
        quiet, onset = 0.0, None
        async for frame in self.link.audio_input:
            if np.abs(frame.to_int16()).max() > 64:
                quiet = 0.0
                onset = self.link.now() if onset is None else onset
            elif onset is not None:
                quiet += frame.duration
                if quiet >= 0.6:  # longer than the pauses inside a spoken line
                    self._turn_ended(onset)
                    onset = None

    def _turn_ended(self, onset: float) -> None:
        span = self.opening_span
        if self.drops and span is not None and span[0] <= onset <= span[1]:
            flag = {"discarded": True} if self.flag_discards else {}
            self.link.report("user_transcript", text="(caller)", final=True, **flag)
            return
        self.link.report("user_transcript", text="(caller)", final=True)
        if self.speaking is not None and not self.speaking.done():
            return  # still speaking (protected): nothing to answer yet
        self.speaking = asyncio.create_task(self._speak(self.reply))

    async def _speak(self, seconds: float, opening: bool = False) -> None:
        out = self.link.audio_output
        t = np.arange(round(FRAME * 16000)) / 16000
        frame = AudioFrame.from_float((0.2 * np.sin(2 * np.pi * 300 * t)).astype(np.float32),
                                      16000)
        self.replies += 1
        sid, start = f"speech-{self.replies}", self.link.now()
        protected = opening and self.protected
        if opening:
            self.opening_span = (start, start + seconds)
        self.link.report("agent_state", state="speaking")
        self.link.report("agent_speech", id=sid, phase="started", protected=protected)
        try:
            for _ in range(round(seconds / FRAME)):
                await out.capture_frame(frame)
            out.flush()
            await out.wait_for_playout()
            self.link.report("agent_message", text=f"reply {self.replies}", interrupted=False)
        except asyncio.CancelledError:
            self.link.report("agent_message", text=f"reply {self.replies}", interrupted=True)
            raise
        finally:
            self.link.report("agent_speech", id=sid, phase="ended", protected=protected)
            self.link.report("agent_state", state="listening")

    async def interrupt(self):
        if self.speaking is not None:
            self.speaking.cancel()
        self.link.audio_output.clear_buffer()

    async def close(self):
        self.task.cancel()
        if self.speaking is not None:
            self.speaking.cancel()


def run(script, agent=None, **options):
    return scenario.run("case", agent=agent or ToneAgent(), settle=0.5, script=script,
                        **options)


def agent_reply_between(result, start: float, end: float) -> bool:
    """True if an agent message finished between ``start`` and ``end``."""
    return any(start < e.time < end and not e.data["interrupted"]
               for e in result.timeline.of("agent_message"))


# -- proceed() picks up where the script left off -------------------------------------------


def test_proceed_lets_the_agent_answer_the_scripted_line_first():
    result = run([scenario.user("I need help with my account"), scenario.proceed(turns=2)])
    assert result.success, result.reasoning
    lines = result.utterances
    assert len(lines) == 3 and not any(u.barge_in for u in lines)
    for before, after in itertools.pairwise(lines):
        # never two caller lines back to back: a complete reply separates them
        assert agent_reply_between(result, before.end, after.onset), (before, after)
    plan = result.timeline.of("proceed_turn")
    assert [e.data.get("answers") for e in plan] == ["script", None, None]


def test_proceed_may_cut_the_reply_to_the_scripted_line():
    config = scenario.InterruptionConfig(probability=1.0, delay_range=(0.5, 0.5))
    result = run([scenario.user("I need help with my account"),
                  scenario.proceed(turns=1, interruptions=config)])
    first = result.timeline.of("proceed_turn")[0]
    assert first.data == {"step": 2, "turn": 0, "interrupt": True, "delay": 0.5,
                          "answers": "script"}
    fired = result.timeline.of("interrupt_fired")[0]
    reply_start = min(e.time for e in result.timeline.of("agent_started_speaking"))
    assert abs(fired.time - reply_start - 0.5) <= FRAME  # 0.5 s of heard reply
    assert result.utterances[1].barge_in


def test_proceed_after_agent_wait_false_barges_into_that_reply():
    config = scenario.InterruptionConfig(probability=1.0, delay_range=(1.0, 1.0))
    result = run([scenario.user("Tell me everything"), scenario.agent(wait=False),
                  scenario.proceed(turns=1, interruptions=config)])
    fired = result.timeline.of("interrupt_fired")[0]
    reply_start = min(e.time for e in result.timeline.of("agent_started_speaking"))
    assert abs(fired.time - reply_start - 1.0) <= FRAME


# -- proceed() without turns: until the judge decides, or max_turns ---------------------------


def test_open_ended_proceed_ends_when_the_criteria_are_met():
    result = run([scenario.proceed(), scenario.judge()], criteria=[scenario.said("reply 3")])
    assert result.success
    assert result.reasoning == "the judge's criteria were all met after 3 caller turn(s)"
    assert len(result.utterances) == 3  # it stopped as soon as the judge decided
    assert [c.description for c in result.checks] == ["judge: agent said ['reply 3']"]
    decided = result.timeline.of("judge_decided")
    assert len(decided) == 1 and decided[0].data == {"turns": 3}


def test_open_ended_proceed_stops_at_max_turns_and_the_judge_fails_it():
    result = run([scenario.user("Hello"), scenario.proceed(), scenario.judge()],
                 criteria=[scenario.said("reply 99")], max_turns=4)
    assert not result.success
    assert "judge: agent said ['reply 99']: missing ['reply 99']" in result.reasoning
    assert len(result.utterances) == 4  # the scripted line counts as a caller turn
    assert result.timeline.of("proceed_max_turns")[0].data["max_turns"] == 4
    assert result.timeline.of("judge_decided") == []


def test_open_ended_proceed_without_criteria_runs_max_turns():
    result = run([scenario.proceed()], max_turns=3)
    assert result.success and len(result.utterances) == 3


# -- a bare judge() judges the scenario's own criteria ---------------------------------------


def test_bare_judge_judges_the_scenario_criteria():
    script = [scenario.user("Hello"), scenario.agent(), scenario.judge()]
    passed = run(script, criteria=[scenario.said("reply 1")])
    assert passed.success
    assert [(c.description, c.passed) for c in passed.checks] == [
        ("judge: agent said ['reply 1']", True)]
    failed = run(script, criteria=[scenario.said("refund")])
    assert not failed.success and "missing ['refund']" in failed.reasoning


class SpyJudge:
    """An LLM judge with a fixed answer (records what it was asked)."""

    def __init__(self, passed: bool) -> None:
        self.passed, self.asked = passed, []

    async def chat(self, messages, *, tools=None):
        self.asked.append(messages[-1].content)
        criterion = messages[-1].content.split("Criteria:\n- ", 1)[1].strip()
        yield LLMChunk(text=json.dumps({"verdicts": [
            {"criterion": criterion, "passed": self.passed, "reason": "as told"}]}))


def test_bare_judge_without_criteria_judges_the_description_with_an_llm():
    script = [scenario.user("Hello"), scenario.agent(), scenario.judge()]
    spy = SpyJudge(passed=True)
    result = scenario.run("case", "The agent answers the caller.", agent=ToneAgent(),
                          settle=0.5, script=script, judge_llm=spy)
    assert result.success
    assert [c.description for c in result.checks] == ["judge: The agent answers the caller."]
    assert "USER" in spy.asked[0] and "AGENT" in spy.asked[0]  # it saw the conversation


class MumblingJudge:
    """An LLM judge that does not answer in the expected form."""

    async def chat(self, messages, *, tools=None):
        yield LLMChunk(text="I think it went fine.")


def test_open_ended_proceed_asks_an_llm_judge_and_fails_clearly_when_it_mumbles():
    script = [scenario.proceed(), scenario.judge()]
    spy = SpyJudge(passed=True)
    result = scenario.run("case", "The agent answers the caller.", agent=ToneAgent(),
                          settle=0.5, script=script, judge_llm=spy)
    assert result.success and len(spy.asked) == 1  # asked after the first exchange
    assert result.reasoning == "the judge's criteria were all met after 1 caller turn(s)"
    result = scenario.run("case", "The agent answers the caller.", agent=ToneAgent(),
                          settle=0.5, script=script, judge_llm=MumblingJudge())
    assert not result.success
    assert result.reasoning.startswith("the judge could not decide during proceed(): the "
                                       "judge LLM did not answer in the expected JSON form")


def test_bare_judge_needs_something_to_judge():
    script = [scenario.user("Hello"), scenario.agent(), scenario.judge()]
    with pytest.raises(ScenarioError, match=r"step 3 \(judge\(\)\) judges the scenario's own "
                                            "criteria, and this scenario has none"):
        run(script)
    with pytest.raises(ScenarioError, match=r"judges the scenario's description \(it has no "
                                            r"criteria=\[...\]\), which needs an LLM judge"):
        scenario.run("case", "The agent is polite.", agent=ToneAgent(), script=script)


def test_bare_judge_ends_the_script():
    with pytest.raises(ScenarioError, match=r"step 2 \(agent\(\)\) comes after judge\(\), "
                                            "which ends the scenario"):
        scenario.validate([scenario.judge(), scenario.agent()])
    # a judge with criteria of its own is a check: the script may go on
    scenario.validate([scenario.judge([scenario.said("x")]), scenario.agent()])


# -- Scenario(user=, seed=, criteria=) -------------------------------------------------------


def test_scenario_takes_user_seed_and_criteria():
    caller = scenario.UserSimulator(goals=["What are your business hours?"])
    case = scenario.Scenario("fields", agent=ToneAgent, user=caller, seed=4,
                             criteria=[scenario.said("reply 1")], options={"settle": 0.5},
                             script=[scenario.proceed(turns=1), scenario.judge()])
    result = case.run()
    assert result.success and result.seed == 4
    assert result.utterances[0].text == "What are your business hours?"
    assert case.run(seed=9).seed == 9  # run(seed=...) overrides the scenario's own


def test_an_option_given_twice_is_refused():
    with pytest.raises(ScenarioError, match="seed is given twice, as seed= and in options"):
        scenario.Scenario("x", agent=ToneAgent, seed=1, options={"seed": 2},
                          script=[scenario.succeed()])
    with pytest.raises(ScenarioError, match="scenario 'x': option seed must be an integer"):
        scenario.Scenario("x", agent=ToneAgent, seed="1", script=[scenario.succeed()])


def test_every_run_option_is_documented():
    table = DOCS.read_text()
    for name in RUN_OPTIONS:
        assert f"``{name}``" in scenario.Scenario.__doc__, name
        assert f"``{name}``" in scenario.run.__doc__, name
        assert re.search(rf"^\| `{name}` \|", table, re.MULTILINE), name


# -- a turn the agent discarded by design needs no reply (issue 17 item 7) -------------------

BARGE_IN = "Sorry to jump in, can you tell me about refunds instead?"


def discard_script() -> list:
    # the barge-in starts 4 s into a 5 s protected opening and ends after it
    return [scenario.interrupt(BARGE_IN, after=4.0), scenario.agent(timeout=5.0)]


def test_a_discarded_turn_is_answered_by_design():
    result = run(discard_script(), agent=ToneAgent(opening=5.0, protected=True))
    assert result.success, result.reasoning
    discarded = result.timeline.of("turn_discarded")
    assert len(discarded) == 1 and discarded[0].data["utterance"] == 0
    barge_in = result.utterances[0]
    assert barge_in.onset < 5.0 < barge_in.end  # the opening ended while the caller spoke
    assert len(result.timeline.of("agent_message")) == 1  # no reply: by design


def test_a_discarded_turn_inside_proceed_is_followed_by_the_next_line():
    result = run([*discard_script()[:1], scenario.proceed(turns=1)],
                 agent=ToneAgent(opening=5.0, protected=True))
    assert result.success, result.reasoning
    assert len(result.timeline.of("turn_discarded")) == 1
    assert len(result.utterances) == 2  # the caller went on
    assert agent_reply_between(result, result.utterances[1].end, result.duration + 1)


def test_silence_without_a_discard_report_is_still_a_timeout():
    result = run(discard_script(), agent=ToneAgent(opening=5.0, protected=True,
                                                   flag_discards=False))
    assert not result.success
    assert result.reasoning == ("step 2 (agent()): the agent did not start speaking within "
                                "5 s")


def test_a_discard_outside_protected_speech_is_not_by_design():
    result = run(discard_script(), agent=ToneAgent(opening=5.0, drops_turns_over_opening=True))
    assert not result.success
    assert "the agent discarded the caller's words although no uninterruptible speech was " \
           "playing" in result.reasoning
