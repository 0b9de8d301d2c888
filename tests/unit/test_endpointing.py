"""End of turn, rule by rule, as a table of timelines (no models, no event loop).

Each row feeds :class:`~bargein.agent.endpointing.Endpointing` the user's voice boundaries
and the recognizer's finals with explicit times; between events the runner plays the
session's timer (a tick whenever the deadline has come).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bargein.agent.endpointing import NOISE_BLIP, PROBE_PAUSE, Endpointing
from bargein.agent.options import EndpointingOptions

OPTIONS = EndpointingOptions(min_delay=0.6, max_wait=3.0, max_delay=2.5)


@dataclass(frozen=True)
class Ev:
    time: float
    kind: str  # "start", "end", "final", "final-empty", "interim"
    at: float = 0.0  # onset/offset on the audio for start/end


def start(t: float, onset: float) -> Ev:
    return Ev(t, "start", onset)


def end(t: float, offset: float) -> Ev:
    return Ev(t, "end", offset)


def final(t: float, text: bool = True) -> Ev:
    return Ev(t, "final" if text else "final-empty")


def interim(t: float) -> Ev:
    return Ev(t, "interim")


def frames(start: float, end: float, voiced: bool) -> list[Ev]:
    """One voiced or unvoiced frame every 20 ms in [start, end)."""
    out, t = [], start
    while t < end - 1e-9:
        out.append(Ev(round(t, 6), "voiced" if voiced else "unvoiced"))
        t += 0.02
    return out


def answer(t: float, complete: bool) -> Ev:
    return Ev(t, "complete" if complete else "incomplete")


def run(timeline: list[Ev], *, acks: bool = True,
        detector: bool = False) -> list[tuple[str, float]]:
    machine = Endpointing(OPTIONS, acknowledged_flush=acks, detector=detector)
    out = []

    def take(decisions) -> None:
        out.extend((d.action.value, round(d.time, 3)) for d in decisions)

    def tick_until(t: float | None) -> None:
        for _ in range(100):
            due = machine.deadline
            if due is None or (t is not None and due > t):
                return
            take(machine.tick(due))
        raise AssertionError("the deadline never moved on")

    for ev in timeline:
        tick_until(ev.time)
        if ev.kind == "start":
            take(machine.voice_started(ev.time, ev.at))
        elif ev.kind == "end":
            take(machine.voice_ended(ev.time, ev.at))
        elif ev.kind in ("voiced", "unvoiced"):
            take(machine.voicing(ev.time, ev.kind == "voiced"))
        elif ev.kind in ("complete", "incomplete"):
            take(machine.predicted(ev.time, ev.kind == "complete"))
        else:
            take(machine.transcript(ev.time, final=ev.kind != "interim",
                                    has_words=ev.kind != "final-empty"))
    tick_until(None)
    return out


CASES = [
    ("a question: flush at offset + min_delay, the turn ends at its final",
     [start(1.06, 1.0), end(2.45, 2.0), final(2.8)], True,
     [("flush", 2.6), ("end_of_turn", 2.8)]),
    ("the VAD decides late: the flush waits for the decision, not before",
     [start(1.06, 1.0), end(2.7, 2.0), final(2.9)], True,
     [("flush", 2.7), ("end_of_turn", 2.9)]),
    ("a final that never comes: the turn ends max_wait after the flush",
     [start(1.06, 1.0), end(2.45, 2.0)], False,
     [("flush", 2.6), ("end_of_turn", 5.6)]),
    ("an acknowledged empty final ends the turn at once (nothing to wait for)",
     [start(1.06, 1.0), end(2.45, 2.0), final(2.7, text=False)], True,
     [("flush", 2.6), ("end_of_turn", 2.7)]),
    ("the user goes on before the flush: one utterance, one end",
     [start(1.06, 1.0), end(2.45, 2.0), start(2.56, 2.5), end(3.9, 3.5), final(4.3)], True,
     [("flush", 4.1), ("end_of_turn", 4.3)]),
    ("the user goes on after the flush: the turn waits for the second final",
     [start(1.06, 1.0), end(2.45, 2.0), start(2.66, 2.6), final(2.7)], True,
     [("flush", 2.6)]),
    ("a blip after the flush, while the final is late, does not move the end",
     [start(1.06, 1.0), end(2.45, 2.0), start(2.86, 2.8), final(3.15),
      end(3.33, 2.88)], True,
     [("flush", 2.6), ("flush", 3.33), ("end_of_turn", 3.33)]),
    ("a blip before the flush: the flush takes it along, the end does not move",
     [start(1.06, 1.0), end(2.45, 2.0), start(2.51, 2.45), end(2.95, 2.55), final(3.1)],
     True, [("flush", 2.95), ("end_of_turn", 3.1)]),
    ("a blip with words in it is speech: the turn goes on from it",
     [start(1.06, 1.0), end(2.45, 2.0), final(2.7), start(2.86, 2.8), interim(2.95),
      end(3.33, 2.95), final(3.8)], True,
     [("flush", 2.6), ("end_of_turn", 2.7), ("flush", 3.55), ("end_of_turn", 3.8)]),
    ("a voice of NOISE_BLIP or more is speech: the turn waits for its final",
     [start(1.06, 1.0), end(2.45, 2.0), start(2.86, 2.8),
      end(3.45, 2.8 + NOISE_BLIP), final(3.6), final(4.1, text=False)], True,
     [("flush", 2.6), ("flush", 3.6), ("end_of_turn", 4.1)]),
    ("without acknowledgements a blip's flush is not waited for either",
     [start(1.06, 1.0), end(2.45, 2.0), start(2.86, 2.8), final(3.15), end(3.33, 2.88)],
     False, [("flush", 2.6), ("flush", 3.33), ("end_of_turn", 3.33)]),
    ("without acknowledgements a final answers every flush before it",
     [start(1.06, 1.0), end(2.45, 2.0), start(2.7, 2.64), end(3.5, 3.1), final(3.8)], False,
     [("flush", 2.6), ("flush", 3.7), ("end_of_turn", 3.8)]),
    ("no voice at all: nothing happens",
     [final(1.0, text=False), interim(2.0)], True, []),
    ("two turns in a row",
     [start(1.06, 1.0), end(2.45, 2.0), final(2.7), start(5.06, 5.0), end(6.45, 6.0),
      final(6.8)], True,
     [("flush", 2.6), ("end_of_turn", 2.7), ("flush", 6.6), ("end_of_turn", 6.8)]),
]


@pytest.mark.parametrize("name,timeline,acks,expected", CASES, ids=[c[0] for c in CASES])
def test_end_of_turn_timeline(name, timeline, acks, expected) -> None:
    assert run(timeline, acks=acks) == expected


# -- with a turn detector -----------------------------------------------------------------------

def voice_with_pause(onset: float, offset: float) -> list[Ev]:
    """A voice from ``onset`` to ``offset``, its frames, and the VAD's end 0.45 s later."""
    return [start(onset + 0.06, onset), *frames(onset + 0.08, offset, True),
            *frames(offset, offset + 0.44, False), end(offset + 0.45, offset)]


PROBE = round(2.0 + PROBE_PAUSE, 3)  # the voice ends at 2.0 s in these cases

DETECTOR_CASES = [
    ("complete: probe and prepare the reply after a short pause, end at min_delay",
     [*voice_with_pause(1.0, 2.0)[:-1], answer(2.3, True), end(2.45, 2.0), final(2.8)],
     [("probe", PROBE), ("preempt", PROBE), ("flush", 2.6), ("end_of_turn", 2.8)]),
    ("incomplete ('a table for'): wait max_delay; the user goes on in time",
     [*voice_with_pause(1.0, 2.0)[:-1], answer(2.3, False), end(2.45, 2.0),
      start(3.56, 3.5)],
     [("probe", PROBE), ("preempt", PROBE), ("cancel_preempt", 3.56)]),
    ("incomplete and nobody goes on: the turn ends at max_delay",
     [*voice_with_pause(1.0, 2.0)[:-1], answer(2.3, False), end(2.45, 2.0), final(4.7)],
     [("probe", PROBE), ("preempt", PROBE), ("flush", 4.5), ("end_of_turn", 4.7)]),
    ("the user goes on inside the VAD's voice: the prepared reply is dropped",
     [start(1.06, 1.0), *frames(1.08, 2.0, True), *frames(2.0, 2.3, False),
      answer(2.3, True), *frames(2.3, 2.4, False), *frames(2.4, 2.6, True)],
     [("probe", PROBE), ("preempt", PROBE), ("cancel_preempt", 2.4)]),
    ("a new VAD voice after the end drops the prepared reply too",
     [*voice_with_pause(1.0, 2.0)[:-1], answer(2.3, True), end(2.45, 2.0),
      start(2.56, 2.5)],
     [("probe", PROBE), ("preempt", PROBE), ("cancel_preempt", 2.56)]),
    ("no frames (no probe in the voice): probe at the end, the answer shortens the wait",
     [start(1.06, 1.0), end(2.45, 2.0), answer(2.5, True), final(2.8)],
     [("probe", 2.45), ("preempt", 2.45), ("flush", 2.6), ("end_of_turn", 2.8)]),
    ("a late 'complete' ends the wait at once",
     [start(1.06, 1.0), end(2.45, 2.0), answer(3.0, True), final(3.2)],
     [("probe", 2.45), ("preempt", 2.45), ("flush", 3.0), ("end_of_turn", 3.2)]),
    ("no answer at all: max_delay, as for an unfinished turn",
     [start(1.06, 1.0), end(2.45, 2.0), final(4.7)],
     [("probe", 2.45), ("preempt", 2.45), ("flush", 4.5), ("end_of_turn", 4.7)]),
    ("a blip after the prepared reply: dropped, then prepared again when it ends",
     [*voice_with_pause(1.0, 2.0)[:-1], answer(2.3, True), end(2.45, 2.0),
      start(2.56, 2.5), end(2.95, 2.58), final(3.1)],
     [("probe", PROBE), ("preempt", PROBE), ("cancel_preempt", 2.56), ("preempt", 2.95),
      ("flush", 2.95), ("end_of_turn", 3.1)]),
]


@pytest.mark.parametrize("name,timeline,expected", DETECTOR_CASES,
                         ids=[c[0] for c in DETECTOR_CASES])
def test_end_of_turn_with_a_detector(name, timeline, expected) -> None:
    assert run(timeline, detector=True) == expected


def test_an_answer_about_an_old_pause_is_ignored() -> None:
    machine = Endpointing(OPTIONS, acknowledged_flush=True, detector=True)
    machine.voice_started(1.06, 1.0)
    for ev in frames(1.08, 1.5, False):
        machine.voicing(ev.time, False)
    machine.voicing(1.5, True)  # the pause is over before the answer comes
    assert machine.predicted(1.55, True) == []
    assert not machine.preempted


def test_nothing_ends_while_the_voice_is_on() -> None:
    machine = Endpointing(OPTIONS, acknowledged_flush=True)
    machine.voice_started(1.06, 1.0)
    assert machine.voice_open and machine.deadline is None
    assert machine.tick(100.0) == []


def test_a_replaced_recognizer_is_not_waited_for() -> None:
    machine = Endpointing(OPTIONS, acknowledged_flush=True)
    machine.voice_started(1.06, 1.0)
    machine.voice_ended(2.45, 2.0)
    assert [d.action.value for d in machine.tick(2.6)] == ["flush"]
    assert machine.deadline == pytest.approx(5.6)  # waiting for the final
    machine.forget_pending_finals()
    assert [d.action.value for d in machine.tick(2.7)] == ["end_of_turn"]
