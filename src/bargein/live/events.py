"""Session events as plain records: what the console prints and the server sends as JSON.

:class:`SessionLog` subscribes to every event of an :class:`~bargein.agent.AgentSession`,
numbers its speeches (1, 2, ...) and turns each event into a small JSON-ready ``dict`` with
``t`` (seconds on the session's timeline) and ``event`` (the event's name), then hands it to
the sinks. It adds one record of its own, ``speech_done``, when a speech has finished.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bargein.agent import AgentSession
from bargein.agent.events import EVENT_TYPES

_log = logging.getLogger("bargein.live")

Record = dict[str, Any]
Sink = Callable[[Record], None]


class SessionLog:
    """Every event of ``session`` as a :data:`Record`, kept in :attr:`records` and sent to
    each sink (``sink(record)``); a failing sink is logged and never breaks the session."""

    def __init__(self, session: AgentSession, *sinks: Sink) -> None:
        self.session = session
        self.records: list[Record] = []
        self._sinks = list(sinks)
        self._numbers: dict[str, int] = {}
        for name in EVENT_TYPES:
            session.on(name, lambda event, n=name: self._on_event(n, event))

    def add_sink(self, sink: Sink) -> None:
        """Also send every later record to ``sink``."""
        self._sinks.append(sink)

    def note(self, event: str, **fields: Any) -> Record:
        """Add a record that is not a session event (e.g. ``typed`` in the console)."""
        record = {"t": round(self._now(), 3), "event": event, **fields}
        self._emit(record)
        return record

    def speech_number(self, speech_id: str) -> int:
        """1 for the session's first speech, 2 for the next, ... (0 if unknown)."""
        return self._numbers.get(speech_id, 0)

    def named(self, event: str) -> list[Record]:
        """The records of one kind, in order."""
        return [r for r in self.records if r["event"] == event]

    def _now(self) -> float:
        try:
            return self.session.time
        except RuntimeError:
            return 0.0

    def _emit(self, record: Record) -> None:
        self.records.append(record)
        for sink in list(self._sinks):
            try:
                sink(record)
            except Exception:
                _log.exception("a session log sink failed")

    def _on_event(self, name: str, event: Any) -> None:
        fields = self._fields(name, event)
        if fields is None:
            return
        t = getattr(event, "time", None)
        record = {"t": round(self._now() if t is None else t, 3), "event": name, **fields}
        self._emit(record)

    def _fields(self, name: str, e: Any) -> Record | None:
        if name == "speech_created":
            number = len(self._numbers) + 1
            self._numbers[e.speech.id] = number
            e.speech.add_done_callback(self._speech_done)
            return {"speech": number, "source": e.source,
                    "allow_interruptions": e.speech.allow_interruptions}
        if name == "agent_words_heard":
            return {"speech": self.speech_number(e.speech_id), "words": list(e.words),
                    "heard_text": e.heard_text}
        if name == "agent_interrupted":
            return {"speech": self.speech_number(e.speech.id), "reason": e.reason,
                    "heard_text": e.heard_text}
        if name in ("agent_state_changed", "user_state_changed"):
            return {"old": e.old_state, "new": e.new_state}
        if name == "user_input_transcribed":
            return {"transcript": e.transcript, "is_final": e.is_final,
                    "discarded": e.discarded}
        if name == "agent_false_interruption":
            return {"resumed": e.resumed}
        if name == "conversation_item_added":
            return {"role": e.item.role, "content": e.item.content,
                    "interrupted": e.item.interrupted}
        if name == "user_turn_exceeded":
            return {"transcript": e.transcript, "reason": e.reason, "words": e.words,
                    "sentences": e.sentences, "duration": round(e.duration, 3)}
        if name == "metrics":
            return {"name": e.name, "value": round(e.value, 4)}
        if name == "error":
            return {"source": e.source, "error": f"{type(e.error).__name__}: {e.error}"}
        return None

    def _speech_done(self, handle: Any) -> None:
        self._emit({
            "t": round(self._now() if handle.ended_at is None else handle.ended_at, 3),
            "event": "speech_done", "speech": self.speech_number(handle.id),
            "interrupted": bool(handle.interrupted),
            "started_at": handle.started_at, "text": handle.text,
            "heard_text": handle.heard_text,
        })
