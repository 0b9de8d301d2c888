"""Metrics of a call, computed from what was really said and heard (docs/metrics.md).

The definitions are part of the public contract and are written out, once, in
``docs/metrics.md``; this module implements them. In short (seconds on the recording):

- the caller's **onset**/**end** come from the ground truth of what the simulated mouth
  emitted (:class:`UserUtterance`), never from a level on the mixed user track;
- agent audio is **audible** per :mod:`bargein.audio.levels` (relative to the agent lane's
  noise floor) and grouped into **turns** and **stretches** per :mod:`bargein.scenario.turns`;
- per genuine barge-in (:class:`InterruptionMeasure`): **stop latency** (onset -> end of the
  stretch of agent audio playing at the onset), **talked over** (agent audio after that stop
  while the caller is still speaking), **overlap** (both audible from the onset to the
  caller's end), **response gap** (caller's end -> the agent's next audio), **yielded**
  (stopped within :data:`YIELD_WINDOW` and did not talk over the caller afterwards);
- barge-ins over **protected** (uninterruptible) speech are measured apart: they are left
  out of the stop latency and the yield rate, and their speech must not be interrupted;
- **false interruption rate**, **response latency**, **overlap** and **truncation accuracy**
  over the whole call.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bargein.audio.levels import Span, audible_spans, merge_spans, overlap_seconds
from bargein.scenario.turns import PAUSE_GAP, AgentSpeech, AgentTurn, agent_turns
from bargein.text import normalize_words, word_error_rate

__all__ = [
    "NATIVE_LEAD",
    "ONSET_TOLERANCE",
    "PAUSE_GAP",
    "PAUSE_GRACE",
    "TALK_OVER_LIMIT",
    "YIELD_WINDOW",
    "CallRecord",
    "InterruptionMeasure",
    "Metrics",
    "UserUtterance",
    "compute",
    "response_after",
]

YIELD_WINDOW = 2.0  # a yield stops the agent within this many seconds of the onset
TALK_OVER_LIMIT = 0.02  # agent audio over the caller after the stop, beyond this: no yield
PAUSE_GRACE = 1.0  # a backchannel's pause may open this long after the backchannel ended
NATIVE_LEAD = 0.06  # an agent turn ending this little before a barge-in's onset was cut by it
ONSET_TOLERANCE = 0.02  # an agent turn starting this little after an onset was playing at it


@dataclass
class UserUtterance:
    """One thing the simulated user said, as placed on the recording.

    ``onset``/``end`` are the first and last sample of speech in what the mouth emitted (the
    clean source: level of synthesized speech, a VAD for recordings); ``spans`` are its
    speech spans. ``backchannel`` marks an utterance not meant to take the turn
    ("uh-huh", or a cough in the benchmark)."""

    index: int
    onset: float
    end: float
    text: str
    barge_in: bool = False  # said over the agent on purpose (interrupt / unrolled form)
    trigger: str | None = None
    mode: str | None = None
    backchannel: bool = False
    spans: list[Span] = field(default_factory=list)

    def speech_spans(self) -> list[Span]:
        """``spans``, or ``[(onset, end)]`` when none were given."""
        return list(self.spans) or [(self.onset, self.end)]


@dataclass
class InterruptionMeasure:
    """What happened after one genuine barge-in (seconds on the recording)."""

    utterance: int
    onset: float
    trigger: str | None
    mode: str | None
    agent_was_speaking: bool
    stopped_at: float | None  # last audible agent sample of the stretch playing at the onset
    stop_latency: float | None  # None for protected speech (it is not meant to stop)
    yielded: bool
    end: float = 0.0  # the caller's last speech sample
    protected: bool = False  # the speech playing at the onset was uninterruptible
    not_interrupted: bool | None = None  # protected speech: it played to its end
    talked_over: float = 0.0  # agent audio after the stop while the caller still spoke
    talked_over_at: float | None = None  # where that audio began
    overlap: float = 0.0  # both audible between the onset and the caller's end
    response_gap: float | None = None  # caller's end -> the agent's next audio (<0: over it)

    def describe(self) -> str:
        """One sentence: what the agent did after this barge-in."""
        at = f"the caller's onset at {self.onset:.2f} s"
        if not self.agent_was_speaking:
            return f"the agent was not speaking at {at}"
        if self.protected:
            kept = {True: "played on to its end", False: "was interrupted",
                    None: "played on"}[self.not_interrupted]
            return f"the agent's protected speech {kept} over {at}"
        stop = self.stop_latency or 0.0
        text = f"the agent stopped {stop:.3f} s after {at}"
        if stop > YIELD_WINDOW:
            text = f"the agent kept talking {stop:.2f} s after {at}"
        if self.talked_over > TALK_OVER_LIMIT and self.talked_over_at is not None:
            text += (f", then talked over the caller from {self.talked_over_at:.2f} s for "
                     f"{self.talked_over:.2f} s (the caller spoke until {self.end:.2f} s)")
        return text


@dataclass
class Metrics:
    """All metrics of one call."""

    interruptions: list[InterruptionMeasure] = field(default_factory=list)
    stop_latency: list[float] = field(default_factory=list)
    yield_rate: float | None = None
    false_interruption_rate: float | None = None
    backchannels: int = 0
    response_latency: list[float] = field(default_factory=list)
    overlap: float = 0.0
    truncation_accuracy: float | None = None

    @property
    def measured(self) -> list[InterruptionMeasure]:
        """Barge-ins that count towards stop latency and yield: over interruptible speech."""
        return [m for m in self.interruptions if m.agent_was_speaking and not m.protected]

    @property
    def protected(self) -> list[InterruptionMeasure]:
        """Barge-ins over protected (uninterruptible) speech."""
        return [m for m in self.interruptions if m.agent_was_speaking and m.protected]

    def summary(self) -> dict[str, float | None]:
        """Headline figures: medians, rates and totals (``None``: not measured)."""
        measured = self.measured
        gaps = [m.response_gap for m in measured if m.response_gap is not None]
        protected = self.protected
        return {
            "stop_latency_p50": _median(self.stop_latency),
            "stop_latency_max": round(max(self.stop_latency), 4) if self.stop_latency else None,
            "yield_rate": self.yield_rate,
            "talked_over": round(sum(m.talked_over for m in measured), 4) if measured else None,
            "barge_in_overlap_p50": _median([m.overlap for m in measured]),
            "response_gap_p50": _median(gaps),
            "false_interruption_rate": self.false_interruption_rate,
            "response_latency_p50": _median(self.response_latency),
            "overlap": round(self.overlap, 4),
            "truncation_accuracy": self.truncation_accuracy,
            "protected_barge_ins": len(protected) if protected else None,
            "protected_interrupted": (sum(m.not_interrupted is False for m in protected)
                                      if protected else None),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        data["summary"] = self.summary()
        return _round(data)


@dataclass
class CallRecord:
    """Everything the metrics are computed from.

    ``agent_audio``: the agent lane of the recording (int16, from time 0);
    ``utterances``: what the simulated user said (ground truth); ``speeches``: the agent
    speeches the adapter reported (may be empty: a black box); ``agent_words``: ``(time,
    word)`` as each word became audible; ``agent_messages``: ``(time, text, interrupted)``.
    """

    sample_rate: int
    agent_audio: np.ndarray
    utterances: list[UserUtterance]
    speeches: list[AgentSpeech] = field(default_factory=list)
    agent_words: list[tuple[float, str]] = field(default_factory=list)
    agent_messages: list[tuple[float, str, bool]] = field(default_factory=list)
    streaming_transcripts: bool = False

    def agent_spans(self) -> list[Span]:
        """Audible spans of the agent lane (relative to its noise floor)."""
        return audible_spans(self.agent_audio, self.sample_rate)


def compute(record: CallRecord, spans: list[Span] | None = None,
            turns: list[AgentTurn] | None = None) -> Metrics:
    """Compute :class:`Metrics` from ``record`` (``spans``/``turns``: the agent lane's, when
    already known)."""
    spans = record.agent_spans() if spans is None else spans
    turns = agent_turns(spans, record.speeches) if turns is None else turns
    metrics = Metrics()
    for u in record.utterances:
        if u.barge_in and not u.backchannel:
            metrics.interruptions.append(_measure(spans, turns, u))
    measured = metrics.measured
    metrics.stop_latency = [m.stop_latency for m in measured if m.stop_latency is not None]
    if measured:
        metrics.yield_rate = sum(m.yielded for m in measured) / len(measured)
    backchannels = [(u, t) for u in record.utterances if u.backchannel
                    for t in [_turn_at(turns, u.onset)] if t is not None]
    metrics.backchannels = len(backchannels)
    if backchannels:
        paused = sum(_paused(t, u) for u, t in backchannels)
        metrics.false_interruption_rate = paused / len(backchannels)
    for u in record.utterances:
        latency = None if u.backchannel else response_after(spans, turns, u.end)
        if latency is not None:
            metrics.response_latency.append(latency)
    user = sorted(s for u in record.utterances for s in u.speech_spans())
    metrics.overlap = overlap_seconds(merge_spans(user, 1e-9), spans)
    if record.streaming_transcripts:
        metrics.truncation_accuracy = _truncation(metrics.interruptions, turns,
                                                  record.agent_words, record.agent_messages)
    return metrics


def response_after(spans: list[Span], turns: list[AgentTurn], end: float) -> float | None:
    """Response latency after a caller's turn that ended at ``end``: seconds to the first
    audible agent sample after it, if the agent was silent then (not inside one of its
    turns), else None."""
    if any(t.start - 1e-9 <= end <= t.end + 1e-9 for t in turns):
        return None
    start = next((a for a, _ in spans if a >= end - 1e-9), None)
    return None if start is None else start - end


def _turn_at(turns: list[AgentTurn], onset: float) -> AgentTurn | None:
    """The agent turn playing at ``onset``: its audio spans the onset, or its reported speech
    was still in progress then (the onset fell in a gap between its words), or it was cut
    just before it (a native cancel can silence the agent a frame before the caller's first
    sample; a turn known to have simply finished does not count)."""
    for t in turns:
        if t.start > onset + ONSET_TOLERANCE:
            continue
        if t.end >= onset:
            return t
        speech = t.speech
        if speech is not None and speech.end is not None and speech.end >= onset - 1e-9:
            return t
        finished = speech is not None and speech.interrupted is False
        if t.end >= onset - NATIVE_LEAD and not finished:
            return t
    return None


def _stretch_at(turn: AgentTurn, onset: float) -> Span | None:
    """The stretch of ``turn`` playing at ``onset`` (same tolerances as :func:`_turn_at`);
    for a reported speech still in progress, the last stretch before the onset."""
    stretches = turn.stretches
    for a, b in stretches:
        if a <= onset + ONSET_TOLERANCE and b >= onset - NATIVE_LEAD:
            return a, b
    if turn.speech is not None:
        started = [s for s in stretches if s[0] <= onset + ONSET_TOLERANCE]
        return started[-1] if started else None
    return None


def _measure(spans: list[Span], turns: list[AgentTurn], u: UserUtterance) -> InterruptionMeasure:
    def none(**kw: Any) -> InterruptionMeasure:
        return InterruptionMeasure(u.index, u.onset, u.trigger, u.mode, False, None, None,
                                   False, end=u.end, **kw)

    turn = _turn_at(turns, u.onset)
    stretch = _stretch_at(turn, u.onset) if turn is not None else None
    if turn is None or stretch is None:
        return none(overlap=overlap_seconds(u.speech_spans(), spans))
    stopped = stretch[1]
    over = [(max(a, stopped), min(b, u.end)) for a, b in spans if b > stopped and a < u.end]
    over = [(a, b) for a, b in over if b > a]
    talked = float(sum(b - a for a, b in over))
    nxt = next((a for a, _ in spans if a > stopped + 1e-9), None)
    m = InterruptionMeasure(
        u.index, u.onset, u.trigger, u.mode, True, stopped, None, False, end=u.end,
        protected=turn.protected, talked_over=talked,
        talked_over_at=over[0][0] if over else None,
        overlap=overlap_seconds(u.speech_spans(), spans),
        response_gap=None if nxt is None else nxt - u.end)
    if turn.protected:
        m.not_interrupted = None if turn.speech is None or turn.speech.interrupted is None \
            else not turn.speech.interrupted
        return m
    m.stop_latency = max(0.0, stopped - u.onset)
    m.yielded = m.stop_latency <= YIELD_WINDOW and talked <= TALK_OVER_LIMIT
    return m


def _paused(turn: AgentTurn, u: UserUtterance) -> bool:
    """Did the agent stop or pause (a stretch ended) between the onset of ``u`` and its end
    + PAUSE_GRACE? A reported speech that simply finished there does not count."""
    for _, b in turn.stretches:
        if not (u.onset - 1e-9 <= b <= u.end + PAUSE_GRACE):
            continue
        last = b >= turn.end - 1e-9
        if last and turn.speech is not None and turn.speech.interrupted is False:
            continue  # the speech played to its end there
        return True
    return False


def _truncation(measures: list[InterruptionMeasure], turns: list[AgentTurn],
                words: list[tuple[float, str]],
                messages: list[tuple[float, str, bool]]) -> float | None:
    scores = []
    interrupted = [m for m in messages if m[2]]
    for m in measures:
        turn = _turn_at(turns, m.onset)
        if m.stopped_at is None or turn is None or m.protected:
            continue
        heard = " ".join(w for at, w in words if turn.start - 0.05 <= at < m.stopped_at)
        # a cancel can be reported a frame before the turn's first audible sample
        message = next((text for at, text, _ in interrupted
                        if turn.start - NATIVE_LEAD <= at
                        <= m.stopped_at + PAUSE_GRACE + YIELD_WINDOW), None)
        if message is None:
            continue
        if not normalize_words(heard):
            scores.append(1.0 if not normalize_words(message) else 0.0)
            continue
        scores.append(max(0.0, 1.0 - word_error_rate(heard, message)))
    return sum(scores) / len(scores) if scores else None


def _median(values: list[float]) -> float | None:
    return round(float(statistics.median(values)), 4) if values else None


def _round(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_round(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return round(float(value), 4)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
