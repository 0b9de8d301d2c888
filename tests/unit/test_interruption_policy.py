"""The barge-in policy, rule by rule, as a table of timelines (no models, no event loop).

Each row feeds :class:`~bargein.agent.interruption.InterruptionPolicy` a timeline of events
with explicit times and compares the decisions it returns, with their times. Between events
the runner plays the session's timer: whenever the policy's deadline has come, it feeds a
Tick at exactly that time.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bargein.agent.interruption import (
    Action,
    AgentActivityChanged,
    InterruptionPolicy,
    PolicyEvent,
    Tick,
    VoiceEnded,
    VoiceStarted,
    Voicing,
    WordsHeard,
)
from bargein.agent.options import InterruptionOptions

VAD = InterruptionOptions(min_duration=0.5)
VAD_NO_RESUME = InterruptionOptions(min_duration=0.5, resume_false_interruption=False)
VAD_INSTANT = InterruptionOptions(min_duration=0.0)
VAD_QUICK = InterruptionOptions(min_duration=0.2, false_interruption_timeout=0.5)
WORDS1 = InterruptionOptions(min_duration=0.5, min_words=1)
WORDS2 = InterruptionOptions(min_duration=0.2, min_words=2)


# -- timeline vocabulary ----------------------------------------------------------------------

def speaking(t: float) -> PolicyEvent:
    return AgentActivityChanged(t, "speaking")


def thinking(t: float) -> PolicyEvent:
    return AgentActivityChanged(t, "thinking")


def protected(t: float) -> PolicyEvent:
    return AgentActivityChanged(t, "speaking", protected=True)


def silent(t: float) -> PolicyEvent:
    return AgentActivityChanged(t, "silent")


def start(t: float, onset: float | None = None) -> PolicyEvent:
    """The VAD decides at ``t`` that the voice began at ``onset`` (default: 64 ms earlier)."""
    return VoiceStarted(t, t - 0.064 if onset is None else onset)


def voiced(t: float) -> PolicyEvent:
    return Voicing(t, True)


def unvoiced(t: float) -> PolicyEvent:
    return Voicing(t, False)


def end(t: float, offset: float) -> PolicyEvent:
    return VoiceEnded(t, offset)


def interim(t: float, text: str) -> PolicyEvent:
    return WordsHeard(t, tuple(text.split()), final=False)


def final(t: float, text: str) -> PolicyEvent:
    return WordsHeard(t, tuple(text.split()), final=True)


def voice(onset: float, offset: float, *, decided: float = 0.064,
          vad_end: float = 0.45) -> list[PolicyEvent]:
    """A continuous voice from ``onset`` to ``offset`` with a frame every 20 ms."""
    events: list[PolicyEvent] = [start(onset + decided, onset)]
    t = onset + decided + 0.02
    while t < offset + vad_end:
        events.append(voiced(t) if t < offset else unvoiced(t))
        t = round(t + 0.02, 6)
    events.append(end(offset + vad_end, offset))
    return events


def run(options: InterruptionOptions, timeline: list[PolicyEvent]) -> list[tuple]:
    policy = InterruptionPolicy(options)
    out = []

    def tick_until(t: float | None) -> None:
        for _ in range(100):
            due = policy.deadline
            if due is None or (t is not None and due > t):
                return
            out.extend(policy.feed(Tick(due)))
        raise AssertionError("the policy's deadline never moved on")

    for event in sorted(timeline, key=lambda e: e.time):
        tick_until(event.time)
        out.extend(policy.feed(event))
    tick_until(None)
    rows = []
    for d in out:
        row: tuple = (d.action.value, round(d.time, 3), d.reason)
        if d.action is Action.STOP:
            row += (round(d.audio_stopped_at, 3),)
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Case:
    name: str
    options: InterruptionOptions
    timeline: list[PolicyEvent]
    expected: list[tuple]


CASES = [
    # -- rule 1: only interruptible speech ---------------------------------------------------
    Case("silent agent: the user's voice is no barge-in", VAD,
         [*voice(1.0, 3.0), final(3.2, "hello there")], []),
    Case("protected speech: long voice and words change nothing", WORDS1,
         [protected(0.0), *voice(1.0, 3.0), interim(1.5, "stop talking")], []),
    Case("words while the agent is silent are not the policy's business", WORDS1,
         [interim(1.0, "stop"), final(1.2, "stop")], []),
    Case("voice that began in protected speech stays unheard when silence follows", VAD,
         [protected(0.0), *voice(1.0, 3.0)[:30], silent(1.5), *voice(1.0, 3.0)[30:]], []),

    # -- rule 5: voice alone -----------------------------------------------------------------
    Case("vad: min_duration of voice pauses, no words resumes 2 s after the voice", VAD,
         [speaking(0.0), *voice(1.0, 3.0)],
         [("pause", 1.5, "voice"), ("resume", 5.0, "no_words")]),
    Case("vad without resume: min_duration of voice stops", VAD_NO_RESUME,
         [speaking(0.0), *voice(1.0, 3.0)], [("stop", 1.5, "voice", 1.5)]),
    Case("vad: a voice shorter than min_duration does nothing", VAD,
         [speaking(0.0), *voice(1.0, 1.3)], []),
    Case("vad: min_duration in an unvoiced frame, the next voiced frame of that voice decides",
         VAD, [speaking(0.0), start(1.064, 1.0), voiced(1.2), unvoiced(1.4), unvoiced(1.5),
               unvoiced(1.6), voiced(1.62), voiced(1.7), unvoiced(2.0), end(2.4, 2.0)],
         [("pause", 1.62, "voice"), ("resume", 4.0, "no_words")]),
    Case("vad: unvoiced at min_duration and never again: no pause", VAD,
         [speaking(0.0), start(1.064, 1.0), voiced(1.2), unvoiced(1.4), unvoiced(1.6),
          end(1.8, 1.4)], []),
    Case("vad: min_duration 0 pauses at the VAD's decision", VAD_INSTANT,
         [speaking(0.0), *voice(1.0, 1.5)],
         [("pause", 1.064, "voice"), ("resume", 3.5, "no_words")]),
    Case("vad: min_duration is measured on the current voice, not the first one", VAD_QUICK,
         [speaking(0.0), *voice(1.0, 1.1), *voice(2.0, 2.5)],
         [("pause", 2.2, "voice"), ("resume", 3.0, "no_words")]),

    # -- rule 6: how a pause ends --------------------------------------------------------------
    Case("pause + real words: stop, the audio stopped at the pause", VAD,
         [speaking(0.0), *voice(1.0, 3.0), interim(1.8, "wait I")],
         [("pause", 1.5, "voice"), ("stop", 1.8, "words", 1.5)]),
    Case("pause + backchannel interim: resume as soon as the voice ends", VAD,
         [speaking(0.0), *voice(1.0, 1.8), interim(1.7, "uh-huh")],
         [("pause", 1.5, "voice"), ("resume", 2.25, "backchannel")]),
    Case("pause + backchannel final after the voice: resume at the final", VAD,
         [speaking(0.0), *voice(1.0, 1.8), final(3.0, "yeah, right.")],
         [("pause", 1.5, "voice"), ("resume", 3.0, "backchannel")]),
    Case("never resume while the voice is on: 3 s of words-free voice (Whisper-only)", VAD,
         [speaking(0.0), *voice(1.0, 4.5), final(5.9, "no I want to change plans")],
         [("pause", 1.5, "voice"), ("stop", 5.9, "words", 1.5)]),
    Case("never resume while the voice is on: a long wordless voice resumes after it", VAD,
         [speaking(0.0), *voice(1.0, 6.0)],
         [("pause", 1.5, "voice"), ("resume", 8.0, "no_words")]),
    Case("a new voice cancels the false-interruption wait; the wait restarts at its end", VAD,
         [speaking(0.0), *voice(1.0, 2.0), *voice(3.0, 3.5)],
         [("pause", 1.5, "voice"), ("resume", 5.5, "no_words")]),
    Case("the timeout counts from the end of the voice, not from the pause", VAD_QUICK,
         [speaking(0.0), *voice(1.0, 2.0)],
         [("pause", 1.2, "voice"), ("resume", 2.5, "no_words")]),
    Case("a second voice while paused does not pause twice", VAD,
         [speaking(0.0), *voice(1.0, 1.8), *voice(2.5, 3.5)],
         [("pause", 1.5, "voice"), ("resume", 5.5, "no_words")]),
    Case("words after the resume window do nothing", VAD_QUICK,
         [speaking(0.0), *voice(1.0, 2.0), final(3.0, "hello agent")],
         [("pause", 1.2, "voice"), ("resume", 2.5, "no_words")]),
    Case("after a resume a new voice opens a new episode", VAD_QUICK,
         [speaking(0.0), *voice(1.0, 2.0), *voice(4.0, 5.0)],
         [("pause", 1.2, "voice"), ("resume", 2.5, "no_words"),
          ("pause", 4.2, "voice"), ("resume", 5.5, "no_words")]),
    Case("after a backchannel resume, late real words still stop", VAD,
         [speaking(0.0), *voice(1.0, 1.8), interim(1.7, "yeah"),
          final(2.9, "yeah but wait")],
         [("pause", 1.5, "voice"), ("resume", 2.25, "backchannel"),
          ("stop", 2.9, "words", 2.9)]),

    # -- rule 4: words decide ------------------------------------------------------------------
    Case("words1: backchannels never count", WORDS1,
         [speaking(0.0), *voice(1.0, 2.0), interim(1.5, "uh-huh"), final(2.6, "uh-huh yeah")],
         []),
    Case("words1: a long wordless voice does not pause or stop", WORDS1,
         [speaking(0.0), *voice(1.0, 4.0)], []),
    Case("words1: a word before min_duration stops at min_duration", WORDS1,
         [speaking(0.0), *voice(1.0, 2.0), interim(1.3, "wait")],
         [("stop", 1.5, "words", 1.5)]),
    Case("words1: 'No.' shorter than min_duration stops once its word is heard", WORDS1,
         [speaking(0.0), *voice(1.0, 1.25), interim(1.35, "no")],
         [("stop", 1.5, "words", 1.5)]),
    Case("words1: 'Stop.' with a final-only recognizer, after the voice ended", WORDS1,
         [speaking(0.0), *voice(1.0, 1.3), final(2.4, "Stop.")],
         [("stop", 2.4, "words", 2.4)]),
    Case("words1: words later than the timeout after the voice do nothing", WORDS1,
         [speaking(0.0), *voice(1.0, 1.3), final(3.4, "Stop.")], []),
    Case("words2: one real word and a backchannel are not enough", WORDS2,
         [speaking(0.0), *voice(1.0, 2.0), interim(1.4, "yeah wait")], []),
    Case("words2: two real words stop", WORDS2,
         [speaking(0.0), *voice(1.0, 2.0), interim(1.4, "yeah no"), interim(1.6, "yeah no wait")],
         [("stop", 1.6, "words", 1.6)]),
    Case("words2: finals add up across voices; an interim adds to them", WORDS2,
         [speaking(0.0), *voice(1.0, 1.4), final(1.9, "hold"), *voice(2.2, 2.8),
          interim(2.6, "on")], [("stop", 2.6, "words", 2.6)]),
    Case("words2: an interim replaces the previous interim", WORDS2,
         [speaking(0.0), *voice(1.0, 2.0), interim(1.3, "stop"), interim(1.5, "stop")], []),
    Case("vad: words stop even without a pause (voice shorter than min_duration)", VAD,
         [speaking(0.0), *voice(1.0, 1.3), interim(1.4, "no")],
         [("stop", 1.5, "words", 1.5)]),

    # -- rule 3: thinking ------------------------------------------------------------------------
    Case("thinking: the reply is held at once, words cancel it", VAD,
         [thinking(0.0), *voice(1.0, 2.5), interim(1.6, "actually one more")],
         [("pause", 1.064, "hold"), ("stop", 1.6, "words", 1.064)]),
    Case("thinking: a cough holds the reply, which goes out after the timeout", VAD,
         [thinking(0.0), *voice(1.0, 1.15)],
         [("pause", 1.064, "hold"), ("resume", 3.15, "no_words")]),
    Case("thinking: a backchannel holds the reply until the voice ends", WORDS1,
         [thinking(0.0), *voice(1.0, 1.4), interim(1.5, "okay")],
         [("pause", 1.064, "hold"), ("resume", 1.85, "backchannel")]),
    Case("thinking, words1: the user goes on ('... four people'): cancelled", WORDS1,
         [thinking(0.0), *voice(1.0, 2.0), interim(1.4, "four"), interim(1.8, "four people")],
         [("pause", 1.064, "hold"), ("stop", 1.5, "words", 1.064)]),
    Case("thinking then audible while held: still held, words stop it", VAD,
         [thinking(0.0), *voice(1.0, 2.0), speaking(1.2), interim(1.9, "hang on")],
         [("pause", 1.064, "hold"), ("stop", 1.9, "words", 1.064)]),
    Case("thinking without resume: a held reply stops after min_duration of voice",
         VAD_NO_RESUME, [thinking(0.0), *voice(1.0, 2.0)],
         [("pause", 1.064, "hold"), ("stop", 1.5, "voice", 1.064)]),
    Case("thinking without resume: a short cough only delays the reply", VAD_NO_RESUME,
         [thinking(0.0), *voice(1.0, 1.2)],
         [("pause", 1.064, "hold"), ("resume", 3.2, "no_words")]),

    # -- rule 2: the agent starts while the user talks -----------------------------------------
    Case("agent starts over a user talking for a while: pause at once", VAD,
         [start(1.064, 1.0), voiced(1.5), voiced(2.0), speaking(2.0), voiced(2.02),
          unvoiced(2.5), end(2.9, 2.5)],
         [("pause", 2.0, "voice"), ("resume", 4.5, "no_words")]),
    Case("agent starts over a user talking for 0.2 s: pause at min_duration", VAD,
         [start(1.064, 1.0), speaking(1.2), voiced(1.22), voiced(1.5), voiced(1.52),
          unvoiced(2.0), end(2.4, 2.0)],
         [("pause", 1.5, "voice"), ("resume", 4.0, "no_words")]),
    Case("thinking starts while the user talks: held", WORDS1,
         [start(1.064, 1.0), voiced(1.1), thinking(1.2), interim(1.3, "and then")],
         [("pause", 1.2, "hold"), ("stop", 1.5, "words", 1.2)]),
    Case("protected speech ends into interruptible speech over a talking user", VAD,
         [protected(0.0), start(1.064, 1.0), voiced(1.5), speaking(2.0), voiced(2.02),
          unvoiced(2.6), end(3.0, 2.6)],
         [("pause", 2.0, "voice"), ("resume", 4.6, "no_words")]),

    # -- rule 7 and the end of the speech ------------------------------------------------------
    Case("the speech ends while paused: the episode is gone", VAD,
         [speaking(0.0), *voice(1.0, 3.0)[:40], silent(2.0), *voice(1.0, 3.0)[40:],
          final(3.8, "wait please")], [("pause", 1.5, "voice")]),
    Case("after a stop, more words decide nothing", WORDS1,
         [speaking(0.0), *voice(1.0, 2.0), interim(1.6, "stop"), interim(1.8, "stop now")],
         [("stop", 1.6, "words", 1.6)]),
    Case("after a stop, the next speech can be interrupted again", WORDS1,
         [speaking(0.0), *voice(1.0, 1.8), interim(1.6, "stop"), silent(1.7), thinking(3.0),
          speaking(3.5), *voice(4.0, 5.0), interim(4.6, "no")],
         [("stop", 1.6, "words", 1.6), ("stop", 4.6, "words", 4.6)]),
    Case("a voice just before the agent became silent leaves no trace", WORDS1,
         [speaking(0.0), *voice(1.0, 1.2)[:5], silent(1.1), *voice(1.0, 1.2)[5:],
          interim(1.4, "hello")], []),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_policy_timeline(case: Case) -> None:
    assert run(case.options, case.timeline) == case.expected


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 40


def test_deadline_follows_the_rules() -> None:
    policy = InterruptionPolicy(VAD)
    assert policy.deadline is None
    policy.feed(speaking(0.0))
    policy.feed(start(1.064, 1.0))
    assert policy.deadline == pytest.approx(1.5)
    assert policy.feed(Tick(1.5))[0].action is Action.PAUSE
    assert policy.paused and policy.deadline is None  # no resume while the voice is on
    policy.feed(end(2.4, 2.0))
    assert policy.deadline == pytest.approx(4.0)
    assert policy.episode_onset == pytest.approx(1.0)


def test_backchannels_are_the_options() -> None:
    policy = InterruptionPolicy(InterruptionOptions(backchannels=frozenset({"sure"})))
    assert policy.real_words(["Sure.", "uh-huh"]) == 2
    assert policy.real_words(["sure"]) == 0


def test_not_an_event() -> None:
    with pytest.raises(TypeError, match="not a policy event"):
        InterruptionPolicy(VAD).feed("voice")  # type: ignore[arg-type]
