"""Metrics of a scenario, computed from the recording (DESIGN.md section 6).

Definitions (seconds on the recording; part of the public contract):

- **stop latency**: onset of the user's interrupting speech -> last audible agent sample of
  the speech it interrupted.
- **yield rate**: share of genuine barge-ins after which the agent stopped within
  ``YIELD_WINDOW`` seconds of the onset.
- **false interruption rate**: share of backchannels (utterances made only of backchannel
  words) over agent speech after which the agent stopped or paused (a gap of at least
  ``PAUSE_GAP`` seconds opening before the utterance ended + ``PAUSE_GRACE``).
- **response latency**: end of user speech -> first audible agent sample after it (turns the
  agent was silent at).
- **overlap**: seconds in which both parties were audible at once.
- **truncation accuracy**: for each interrupted agent message, 1 - word error rate between
  the words the user heard (adapter transcripts up to the stop) and the text the agent
  recorded; averaged. Needs streaming transcripts.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bargein.text import normalize_words, word_error_rate

YIELD_WINDOW = 2.0
PAUSE_GAP = 0.45
PAUSE_GRACE = 1.0
TURN_GAP = 0.6  # agent audio gaps shorter than this belong to one agent turn
SPAN_WINDOW = 0.01  # resolution of the audible spans the metrics are computed on
NATIVE_LEAD = 0.06  # an agent turn ending this little before a barge-in's onset was cut by it


@dataclass
class UserUtterance:
    """One thing the simulated user said, as placed on the recording."""

    index: int
    onset: float  # first audible sample of the speech
    end: float  # last audible sample
    text: str
    barge_in: bool = False  # said over the agent on purpose (interrupt / unrolled form)
    trigger: str | None = None
    mode: str | None = None
    backchannel: bool = False


@dataclass
class InterruptionMeasure:
    """What happened after one barge-in."""

    utterance: int
    onset: float
    trigger: str | None
    mode: str | None
    agent_was_speaking: bool
    stopped_at: float | None
    stop_latency: float | None
    yielded: bool


@dataclass
class Metrics:
    """All metrics of one scenario run."""

    interruptions: list[InterruptionMeasure] = field(default_factory=list)
    stop_latency: list[float] = field(default_factory=list)
    yield_rate: float | None = None
    false_interruption_rate: float | None = None
    backchannels: int = 0
    response_latency: list[float] = field(default_factory=list)
    overlap: float = 0.0
    truncation_accuracy: float | None = None

    def summary(self) -> dict[str, float | None]:
        """Headline figures: medians and rates."""
        return {
            "stop_latency_p50": _median(self.stop_latency),
            "stop_latency_max": round(max(self.stop_latency), 4) if self.stop_latency else None,
            "yield_rate": self.yield_rate,
            "false_interruption_rate": self.false_interruption_rate,
            "response_latency_p50": _median(self.response_latency),
            "overlap": round(self.overlap, 4),
            "truncation_accuracy": self.truncation_accuracy,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        data["summary"] = self.summary()
        return _round(data)


def compute(room: Any, utterances: list[UserUtterance], agent_words: list[tuple[float, str]],
            agent_messages: list[tuple[float, str, bool]],
            streaming_transcripts: bool) -> Metrics:
    """Compute :class:`Metrics` from the room's recording and what the script did."""
    metrics = Metrics()
    agent_turns = merge_spans(room.agent_audible_spans(), TURN_GAP)
    agent_raw = room.agent_audible_spans()
    for u in utterances:
        if u.barge_in and not u.backchannel:
            metrics.interruptions.append(_measure(room, agent_turns, u))
    measured = [m for m in metrics.interruptions if m.agent_was_speaking]
    metrics.stop_latency = [m.stop_latency for m in measured if m.stop_latency is not None]
    if measured:
        metrics.yield_rate = sum(m.yielded for m in measured) / len(measured)
    backchannels = [u for u in utterances if u.backchannel and _inside(agent_turns, u.onset)]
    metrics.backchannels = len(backchannels)
    if backchannels:
        stopped = sum(_paused(agent_raw, u) for u in backchannels)
        metrics.false_interruption_rate = stopped / len(backchannels)
    for u in utterances:
        if u.backchannel or _inside(agent_turns, u.end):
            continue
        start = room.first_agent_sample_after(u.end)
        if start is not None:
            metrics.response_latency.append(start - u.end)
    metrics.overlap = _overlap(room.user_audible_spans(), agent_raw)
    if streaming_transcripts:
        metrics.truncation_accuracy = _truncation(metrics.interruptions, agent_turns,
                                                  agent_words, agent_messages)
    return metrics


def _turn_at(agent_turns: list[tuple[float, float]], onset: float) -> tuple[float, float] | None:
    """The agent turn playing at ``onset``, or one that stopped just before it (a native
    cancel can silence the agent a frame before the user's first sample)."""
    # spans are found on 10 ms analysis windows: a turn "starting" up to one window after
    # the onset may have begun, sample-wise, just before it (a first-audio barge-in)
    return next((t for t in agent_turns
                 if t[0] <= onset + SPAN_WINDOW and t[1] >= onset - NATIVE_LEAD), None)


def _measure(room: Any, agent_turns: list[tuple[float, float]],
             u: UserUtterance) -> InterruptionMeasure:
    turn = _turn_at(agent_turns, u.onset)
    if turn is None:
        return InterruptionMeasure(u.index, u.onset, u.trigger, u.mode, False, None, None, False)
    stopped = float(room.last_agent_sample_before(turn[1] + 0.02))
    latency = max(0.0, stopped - u.onset)
    return InterruptionMeasure(u.index, u.onset, u.trigger, u.mode, True, stopped, latency,
                               bool(latency <= YIELD_WINDOW))


def _truncation(measures: list[InterruptionMeasure], agent_turns: list[tuple[float, float]],
                words: list[tuple[float, str]],
                messages: list[tuple[float, str, bool]]) -> float | None:
    scores = []
    interrupted = [m for m in messages if m[2]]
    for m in measures:
        turn = _turn_at(agent_turns, m.onset)
        if m.stopped_at is None or turn is None:
            continue
        heard = " ".join(w for at, w in words if turn[0] - 0.05 <= at < m.stopped_at)
        message = next((text for at, text, _ in interrupted
                        if turn[0] <= at <= m.stopped_at + PAUSE_GRACE + YIELD_WINDOW), None)
        if message is None:
            continue
        if not normalize_words(heard):
            scores.append(1.0 if not normalize_words(message) else 0.0)
            continue
        scores.append(max(0.0, 1.0 - word_error_rate(heard, message)))
    return sum(scores) / len(scores) if scores else None


def merge_spans(spans: list[tuple[float, float]], gap: float) -> list[tuple[float, float]]:
    """Join spans separated by less than ``gap`` seconds."""
    out: list[tuple[float, float]] = []
    for start, end in spans:
        if out and start - out[-1][1] < gap:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _inside(spans: list[tuple[float, float]], t: float) -> bool:
    return any(s - 1e-9 <= t <= e + 1e-9 for s, e in spans)


def _paused(agent: list[tuple[float, float]], u: UserUtterance) -> bool:
    """Did the agent's audio stop for at least PAUSE_GAP, starting while the user spoke?"""
    for (_, end), (nxt, _) in itertools.pairwise(agent):
        if u.onset - 1e-9 <= end <= u.end + PAUSE_GRACE and nxt - end >= PAUSE_GAP:
            return True
    # the agent went silent for good during the backchannel (counted as a stop, though a
    # speech that simply ended there would be counted too: keep backchannels mid-speech)
    return bool(agent) and u.onset - 1e-9 <= agent[-1][1] <= u.end + PAUSE_GRACE


def _overlap(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    total = 0.0
    for s1, e1 in a:
        for s2, e2 in b:
            total += max(0.0, min(e1, e2) - max(s1, s2))
    return total


def _median(values: list[float]) -> float | None:
    return round(float(statistics.median(values)), 4) if values else None


def _round(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_round(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return round(float(value), 4)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
