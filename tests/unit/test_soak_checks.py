"""The soak's checks find what they claim to find, on a real room recording.

The agent here is a scripted fake (it plays planned speeches as a voice-like signal and
reports what a bargein agent would, true or false as the test needs): these tests are about
the checks. The soak runs the real stack (tests/integration/test_soak.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import numpy as np

from bargein.adapters import AgentAdapter, Capabilities
from bargein.audio import AudioFrame
from bargein.audio.framing import split_frames
from bargein.bench.soak.caller import CallerLine
from bargein.bench.soak.checks import CallFacts, Problem, check_call
from bargein.scenario import SimulatedCall
from bargein.scenario.metrics import UserUtterance
from bargein.sim import run_simulation

RATE = 16000


@dataclass
class Speech:
    """A planned agent speech: its words (offset, word) in 0.3 s steps from ``start``, played
    until ``played`` s (all of it if None); ``message``: what it puts in the history (the
    words heard if None)."""

    start: float
    words: list[str]
    played: float | None = None
    message: str | None = None
    source: str = "generate_reply"
    protected: bool = False

    @property
    def length(self) -> float:
        full = 0.3 * len(self.words)
        return full if self.played is None else min(full, self.played)

    def heard(self) -> list[str]:
        return [w for i, w in enumerate(self.words) if 0.3 * i < self.length - 1e-9]


@dataclass
class Script:
    speeches: list[Speech] = field(default_factory=list)
    user_messages: list[tuple[float, str]] = field(default_factory=list)
    errors: list[tuple[float, str]] = field(default_factory=list)
    voice: list[tuple[float, float]] = field(default_factory=list)  # the agent's VAD heard
    length: float = 12.0
    final: list[tuple[str, str]] | None = None  # the history as it ended: (role, text)
    exceeded: list[float] = field(default_factory=list)  # turn-limit cut-ins decided
    listening: list[float] = field(default_factory=list)  # the agent went back to listening


def lane(script: Script) -> AudioFrame:
    x = np.zeros(round(script.length * RATE))
    t = np.arange(len(x)) / RATE
    for s in script.speeches:
        a, b = round(s.start * RATE), round((s.start + s.length) * RATE)
        x[a:b] = 0.1 * np.sin(2 * np.pi * 180 * t[a:b])
    return AudioFrame.from_float(x, RATE)


class ScriptedAgent(AgentAdapter):
    name = "scripted"
    capabilities = Capabilities(streaming_transcripts=True, native_vad=False,
                                interruption=False)

    def __init__(self, script: Script) -> None:
        self.script = script

    async def start(self, link) -> None:
        self.link = link
        self.task = asyncio.get_running_loop().create_task(self._play())

    async def _play(self) -> None:
        for frame in split_frames(lane(self.script), 0.02):
            await self.link.audio_output.capture_frame(frame)

    async def close(self) -> None:
        self.task.cancel()
        report = self.link.report
        for t, text in self.script.user_messages:
            report("user_message", time=t, text=text)
        for t, source in self.script.errors:
            report("error", time=t, source=source, message="boom")
        for t in self.script.exceeded:
            report("user_turn_exceeded", time=t, reason="sentences", transcript="")
        for t in self.script.listening:
            report("agent_state", time=t, state="listening")
        for a, b in self.script.voice:
            report("user_state", time=a, state="speaking")
            report("user_state", time=b, state="listening")
        for i, s in enumerate(self.script.speeches):
            end = s.start + s.length
            report("agent_speech", time=s.start, id=f"s{i}", phase="started",
                   protected=s.protected, source=s.source)
            for k, word in enumerate(s.heard()):
                report("agent_words", time=s.start + 0.3 * k, words=(word,),
                       text=" ".join(s.words[:k + 1]))
            report("agent_speech", time=end, id=f"s{i}", phase="ended", protected=s.protected,
                   interrupted=s.played is not None, source=s.source)
            text = s.message if s.message is not None else " ".join(s.heard())
            if text:
                report("agent_message", time=end, text=text, interrupted=s.played is not None)
        if self.script.final is not None:
            report("history", messages=[{"role": r, "text": t, "interrupted": False}
                                        for r, t in self.script.final])


def line(onset: float, text: str, *, index: int = 0, wordy: bool = True) -> CallerLine:
    words = text.split()
    spans = [(onset + 0.3 * i, onset + 0.3 * i + 0.25) for i in range(len(words))]
    u = UserUtterance(index, onset, spans[-1][1], text, spans=spans)
    return CallerLine(index, "ask", wordy, u, [(a, w) for (a, _), w in zip(spans, words,
                                                                           strict=True)])


def check(script: Script, lines: list[CallerLine], facts: CallFacts | None = None
          ) -> list[Problem]:
    async def main() -> list[Problem]:
        call = SimulatedCall(ScriptedAgent(script))
        await call.start()
        await asyncio.sleep(script.length)
        await call.close()
        return check_call(call, lines, facts or CallFacts())[0]

    return run_simulation(main())


def kinds(problems: list[Problem]) -> list[str]:
    return [p.kind for p in problems]


QUESTION = "what are your business hours"
REPLY = "we are open from nine to five".split()


def answered_call(**changes) -> Script:
    script = Script([Speech(3.0, REPLY)], [(2.6, QUESTION)])
    for key, value in changes.items():
        setattr(script, key, value)
    return script


def test_a_question_answered_with_a_true_history_has_no_problem():
    assert check(answered_call(), [line(0.5, QUESTION)]) == []


def test_a_message_with_words_nobody_heard_is_a_history_mismatch():
    cut = Speech(3.0, REPLY, played=1.0, message=" ".join(REPLY))  # says it all, played 4 words
    problems = check(answered_call(speeches=[cut]), [line(0.5, QUESTION)])
    assert kinds(problems) == ["history_mismatch"]
    assert "we are open from" in problems[0].detail


def test_a_heard_speech_without_a_message_is_a_history_mismatch():
    problems = check(answered_call(speeches=[Speech(3.0, REPLY, message="")]),
                     [line(0.5, QUESTION)])
    assert kinds(problems) == ["history_mismatch"]


def test_a_turn_missing_from_the_history_is_lost():
    problems = check(answered_call(user_messages=[]), [line(0.5, QUESTION)])
    assert kinds(problems) == ["lost_turn"]
    assert "never reached the history" in problems[0].detail


def test_a_turn_taken_but_never_answered_is_lost():
    problems = check(answered_call(speeches=[]), [line(0.5, QUESTION)])
    assert kinds(problems) == ["lost_turn"]
    assert "never answered" in problems[0].detail


def test_a_turn_with_other_words_in_the_history_is_lost_with_the_oracle_only():
    script = answered_call(user_messages=[(2.6, "how do I get a refund")])
    assert kinds(check(script, [line(0.5, QUESTION)])) == ["lost_turn"]
    real_recognition = CallFacts(exact_words=False)
    assert check(script, [line(0.5, QUESTION)], real_recognition) == []


def test_words_said_over_protected_speech_are_excused_only_when_they_are_dropped():
    notice = Speech(0.2, "this call may be recorded for quality".split(), source="say",
                    protected=True)
    script = Script([notice], [])
    lines = [line(0.5, "hello can you hear me")]  # all said over the protected notice
    assert check(script, lines) == []
    kept = CallFacts(discards_over_protected=False)
    assert kinds(check(script, lines, kept)) == ["lost_turn"]


def test_an_injected_fault_excuses_a_lost_turn_and_another_error_is_unexpected():
    script = answered_call(speeches=[], errors=[(3.0, "tts")])
    assert kinds(check(script, [line(0.5, QUESTION)])) == ["unexpected_error", "lost_turn"]
    assert check(script, [line(0.5, QUESTION)], CallFacts(injected=frozenset({"tts"}))) == []


def test_an_error_flood_from_an_injected_fault_is_a_problem():
    script = answered_call(errors=[(2.0 + 0.1 * i, "vad") for i in range(30)])
    problems = check(script, [line(0.5, QUESTION)], CallFacts(injected=frozenset({"vad"})))
    assert kinds(problems) == ["unexpected_error"]
    assert "30 error events" in problems[0].detail


def test_two_answers_to_one_turn_are_a_double_answer():
    script = answered_call(speeches=[Speech(3.0, REPLY), Speech(6.0, REPLY)])
    problems = check(script, [line(0.5, QUESTION)])
    assert kinds(problems) == ["double_answer"]
    assert "answered 2 times" in problems[0].detail


def test_a_turn_taken_again_with_nothing_new_said_is_a_double_answer():
    script = answered_call(user_messages=[(2.6, QUESTION), (6.5, QUESTION)],
                           speeches=[Speech(3.0, REPLY), Speech(7.0, REPLY)])
    problems = check(script, [line(0.5, QUESTION)])
    assert kinds(problems) == ["double_answer"]
    assert "nothing said since" in problems[0].detail


def test_a_short_word_the_agent_never_heard_is_excused_a_long_one_or_a_heard_one_is_not():
    silent = Script(length=12.0)
    assert check(silent, [line(0.5, "stop")]) == []  # the VAD missed one short word
    assert kinds(check(silent, [line(0.5, QUESTION)])) == ["lost_turn"]  # a deaf agent
    heard = Script(voice=[(0.5, 0.8)], length=12.0)
    assert kinds(check(heard, [line(0.5, "stop")])) == ["lost_turn"]


def test_the_history_as_it_ended_may_update_a_user_message_but_not_an_answer():
    reply = " ".join(REPLY)
    guess = answered_call(user_messages=[(2.6, "what are")])  # an early, partial final
    assert kinds(check(guess, [line(0.5, QUESTION)])) == ["lost_turn"]
    guess.final = [("user", QUESTION), ("assistant", reply)]  # a late final completed it
    assert check(guess, [line(0.5, QUESTION)]) == []
    rewritten = answered_call(final=[("user", QUESTION), ("assistant", reply + " sharp")])
    problems = check(rewritten, [line(0.5, QUESTION)])
    assert kinds(problems) == ["history_mismatch"]
    assert "only at the end: assistant" in problems[0].detail
    dropped = answered_call(final=[("assistant", reply)])
    assert "history_mismatch" in kinds(check(dropped, [line(0.5, QUESTION)]))


def test_a_fault_while_a_paused_sentence_keeps_its_turn_open_excuses_its_first_part():
    """Soak seed 1, scenario 16: "What I really want to know is / how long the warranty
    lasts." with a 1.5 s endpointing is one turn, still open when the recognizer failed
    (after the second part began): the first part was waiting for its answer then."""
    first, second = line(0.5, "what I really want to know is"), line(4.0, "how long it lasts")
    second.move = first.move
    script = Script([Speech(11.0, REPLY)], [(10.5, "how long it lasts")], [(8.5, "stt")],
                    length=16.0)
    faulty = CallFacts(injected=frozenset({"stt"}))
    assert check(script, [first, second], faulty) == []
    assert kinds(check(script, [first, second], CallFacts())) == ["unexpected_error",
                                                                  "lost_turn"]
    script.user_messages.insert(0, (2.9, "what"))  # a turn taken before the fault
    assert "lost_turn" in kinds(check(script, [first, second], faulty))

    script.user_messages = [(7.0, "how long it lasts")]  # both taken, then the fault killed
    assert check(script, [first, second], faulty) == []  # ... the reply they waited for


MONOLOGUE = "i was charged twice this month"
CUT_IN = Speech(4.0, "sorry can i pause you there".split(), source="say", protected=True)
REFOCUS = Speech(6.5, "what do you need most today".split(), protected=True)


def test_a_question_begun_as_a_cut_in_is_decided_belongs_to_the_monologue():
    """Soak seed 1, scenario 118: "How" began 0.1 s before the turn limit cut in (the rest
    of the question was said over the cut-in and dropped); the runtime counts words said
    until the cut-in is heard as the monologue's, answered by the cut-in."""
    script = Script([CUT_IN, REFOCUS], [(3.9, MONOLOGUE)], exceeded=[3.9],
                    voice=[(2.0, 5.0)], length=16.0)
    late = [line(2.0, MONOLOGUE), line(3.8, "how do I get a refund", index=1)]
    assert check(script, late) == []
    early = [line(2.0, MONOLOGUE), line(3.3, "how do I get a refund", index=1)]
    assert kinds(check(script, early)) == ["lost_turn"]  # "how do" was said well before


def test_the_pause_between_a_cut_in_and_its_protected_reply_is_protected():
    """Soak seed 1, scenario 171: a question begun in the 0.6 s between the cut-in and its
    (protected) refocusing reply is dropped by the runtime, as if said over them."""
    script = Script([CUT_IN, REFOCUS], [(3.9, MONOLOGUE)], exceeded=[3.9],
                    voice=[(2.0, 3.9), (6.0, 7.2)], length=16.0)
    asked = [line(2.0, MONOLOGUE), line(6.0, "how much is it", index=1)]
    assert check(script, asked) == []
    script.listening = [5.9]  # the agent listened in between: the gap was the caller's
    assert kinds(check(script, asked)) == ["lost_turn"]


def test_a_fault_on_the_turn_that_took_over_an_unanswered_one_excuses_both():
    """Soak seed 0, scenario 1699: a question was taken as the caller began another
    sentence; its reply was cancelled (a caller talking over a thinking agent is a
    barge-in), the next turn's reply would answer both, and the injected LLM fault killed
    it 4.1 s after the first question was taken."""
    first, second = line(0.5, QUESTION), line(3.2, "i tried to pay with my card", index=1)
    script = Script([], [(2.9, QUESTION), (6.5, "i tried to pay")], [(7.0, "llm")],
                    voice=[(0.5, 2.0), (3.2, 5.0)], length=16.0)  # the fault killed the reply
    faulty = CallFacts(injected=frozenset({"llm"}))
    assert check(script, [first, second], faulty) == []
    script.user_messages[1] = (7.2, "i tried to pay")  # the first waited 4.3 s unanswered
    assert kinds(check(script, [first, second], faulty)) == ["lost_turn"]
