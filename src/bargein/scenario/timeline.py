"""The scenario's event timeline: who spoke when, interrupts, transcripts, agent states."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TimelineEvent:
    """One event; ``time`` in seconds on the recording.

    ``kind`` is one of: user_started_speaking, user_stopped_speaking, agent_started_speaking,
    agent_stopped_speaking, interrupt_fired, user_transcript, agent_words, agent_message,
    agent_state, agent_interrupted, agent_false_interruption, error, proceed_turn,
    interrupt_skipped.
    """

    time: float
    kind: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (times rounded to the sample at 48 kHz)."""
        return {"time": round(self.time, 5), "kind": self.kind, **_plain(self.data)}


class Timeline:
    """Events in time order (ties keep the order they were added)."""

    def __init__(self) -> None:
        self._events: list[tuple[float, int, TimelineEvent]] = []

    def add(self, time: float, kind: str, **data: Any) -> TimelineEvent:
        """Record an event."""
        event = TimelineEvent(float(time), kind, data)
        self._events.append((event.time, len(self._events), event))
        return event

    @property
    def events(self) -> list[TimelineEvent]:
        """All events sorted by time."""
        return [e for _, _, e in sorted(self._events, key=lambda x: (x[0], x[1]))]

    def of(self, kind: str) -> list[TimelineEvent]:
        """Events of one kind, in time order."""
        return [e for e in self.events if e.kind == kind]

    def to_list(self) -> list[dict[str, Any]]:
        """JSON-ready list."""
        return [e.to_dict() for e in self.events]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 5)
    return value
