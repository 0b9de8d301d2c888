"""What an agent "turn" is on the recording: the one definition the metrics, the timeline and
the reports use.

An agent turn is a stretch of the agent lane that belongs to one speech:

- when the adapter reports **speech boundaries** (``agent_speech`` events: bargein's own
  agent and LiveKit do), each reported speech is one turn, holding the audible agent audio
  between its start and the next speech's start. A reply cut by a barge-in and the next
  reply are two turns however close they are; a speech that pauses and resumes stays one;
- for a **black box** (no boundaries, or agent audio outside every reported speech), the
  gap rule applies: audible agent audio separated by less than :data:`PAUSE_GAP` seconds is
  one turn. A silence that long is never a gap between the agent's words or sentences
  (espeak-ng at 140 words per minute pauses at most 0.44 s between sentences), so it means
  the agent paused or stopped. A new reply that starts less than :data:`PAUSE_GAP` after a
  cut cannot be told apart from a pause inside one reply on the audio alone, so a black box
  that does this is measured as one turn.

Inside a turn, audible audio separated by less than :data:`PAUSE_GAP` forms a **stretch**:
the agent "stops" or "pauses" where a stretch ends. Times are seconds on the recording;
audibility is the definition of :mod:`bargein.audio.levels`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bargein.audio.levels import Span, merge_spans

__all__ = ["BOUNDARY_TOLERANCE", "PAUSE_GAP", "AgentSpeech", "AgentTurn", "agent_turns"]

#: Seconds of agent silence that end a stretch: a pause, a stop, or (black boxes) a turn.
PAUSE_GAP = 0.45
#: Reported speech boundaries may differ from the audio by up to one frame (seconds).
BOUNDARY_TOLERANCE = 0.02


@dataclass
class AgentSpeech:
    """One agent speech as the adapter reported it (``agent_speech`` events).

    ``start``: when its first frame played; ``end``: when its playout ended (``None`` if it
    was still playing when the call ended); ``protected``: it could not be interrupted
    (``allow_interruptions=False``); ``interrupted``: it was cut before its end (``None``
    until it ended).
    """

    id: str
    start: float
    end: float | None = None
    protected: bool = False
    interrupted: bool | None = None


@dataclass
class AgentTurn:
    """A turn on the agent lane: ``start``/``end`` are its first and last audible samples,
    ``spans`` its audible spans, ``speech`` the reported speech it belongs to (``None`` for a
    black-box turn)."""

    start: float
    end: float
    spans: list[Span] = field(default_factory=list)
    speech: AgentSpeech | None = None

    @property
    def protected(self) -> bool:
        """True if the adapter reported this speech as uninterruptible."""
        return self.speech is not None and self.speech.protected

    @property
    def stretches(self) -> list[Span]:
        """The turn's audible audio, joined across silences shorter than :data:`PAUSE_GAP`."""
        return merge_spans(self.spans, PAUSE_GAP)


def agent_turns(spans: list[Span], speeches: list[AgentSpeech] | None = None) -> list[AgentTurn]:
    """The agent turns of a lane with audible ``spans`` and reported ``speeches`` (see the
    module docstring), sorted by start."""
    ordered = sorted((s for s in speeches or () if s.end is None or s.end >= s.start),
                     key=lambda s: s.start)
    turns: list[AgentTurn] = []
    claimed: list[Span] = []
    for i, speech in enumerate(ordered):
        lo = speech.start - BOUNDARY_TOLERANCE
        hi = speech.end + BOUNDARY_TOLERANCE if speech.end is not None else float("inf")
        if i + 1 < len(ordered):
            hi = min(hi, ordered[i + 1].start - BOUNDARY_TOLERANCE)
        mine = [(max(a, lo), min(b, hi)) for a, b in spans if b > lo and a < hi]
        mine = [(a, b) for a, b in mine if b > a]
        claimed.append((lo, hi))
        if mine:
            turns.append(AgentTurn(mine[0][0], mine[-1][1], mine, speech))
    for start, end in merge_spans(_unclaimed(spans, claimed), PAUSE_GAP):
        inside = [(a, b) for a, b in _unclaimed(spans, claimed) if a >= start and b <= end]
        turns.append(AgentTurn(start, end, inside))
    turns.sort(key=lambda t: t.start)
    return turns


#: Audible edges are refined to the millisecond: a leftover shorter than that is float noise
#: of a claim's edge (``end + tolerance``), not agent audio outside the speech.
_EDGE_RESOLUTION = 0.001


def _unclaimed(spans: list[Span], claimed: list[Span]) -> list[Span]:
    """The parts of ``spans`` outside every ``claimed`` interval (pieces under a millisecond
    are dropped)."""
    out: list[Span] = []
    for a, b in spans:
        pieces = [(a, b)]
        for lo, hi in claimed:
            pieces = [p for x, y in pieces for p in ((x, min(y, lo)), (max(x, hi), y))
                      if p[1] - p[0] >= _EDGE_RESOLUTION]
        out.extend(pieces)
    return sorted(out)
