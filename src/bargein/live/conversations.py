"""The server's conversations: the open ones in full, the closed ones as small summaries.

An open :class:`Conversation` holds its session's event log (and, with ``--record``, its
recording in memory). When it closes, :meth:`ConversationStore.close` writes the recording
to disk, turns the event records into one compact JSON summary of at most
``max_summary_bytes`` (the oldest events are dropped first, and the summary says how many),
and lets go of the session. Only the last ``keep_closed`` summaries are kept, so memory stays
bounded however many calls the server takes: ``keep_closed x max_summary_bytes`` at most.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bargein.audio.recorder import StereoRecorder
from bargein.live.events import SessionLog

_log = logging.getLogger("bargein.live")

__all__ = ["Conversation", "ConversationStore"]

#: Closed conversations kept for ``/api/sessions``.
KEEP_CLOSED = 100
#: Largest JSON summary kept for one closed conversation.
MAX_SUMMARY_BYTES = 128 * 1024


class Conversation:
    """One connection's conversation while it is open."""

    def __init__(self, ident: str, remote: str, protocol: str, *, record_rate: int | None
                 ) -> None:
        self.id = ident
        self.remote = remote
        self.protocol = protocol
        self.log: SessionLog | None = None
        self.recorder = (StereoRecorder(record_rate, ("user", "agent"))
                         if record_rate is not None else None)

    def summary(self) -> dict[str, Any]:
        """The open conversation as ``/api/sessions`` shows it."""
        return {"id": self.id, "protocol": self.protocol, "open": True, "close_code": None,
                "close_reason": "", "events": list(self.log.records) if self.log else []}


class ConversationStore:
    """Open conversations and the summaries of recently closed ones."""

    def __init__(self, *, keep_closed: int = KEEP_CLOSED,
                 max_summary_bytes: int = MAX_SUMMARY_BYTES,
                 record_dir: Path | None = None) -> None:
        if keep_closed < 0 or max_summary_bytes < 1024:
            raise ValueError("keep_closed must be >= 0 and max_summary_bytes >= 1024")
        self.keep_closed = keep_closed
        self.max_summary_bytes = max_summary_bytes
        self.record_dir = record_dir
        self.open: dict[str, Conversation] = {}
        self.closed: OrderedDict[str, str] = OrderedDict()  # id -> JSON summary

    def add(self, conversation: Conversation) -> None:
        self.open[conversation.id] = conversation

    def close(self, conversation: Conversation, code: int, reason: str) -> None:
        """Summarize ``conversation``, write its recording, and forget the rest of it."""
        self.open.pop(conversation.id, None)
        recorder, conversation.recorder = conversation.recorder, None
        if recorder is not None and recorder.num_samples and self.record_dir is not None:
            try:
                self.record_dir.mkdir(parents=True, exist_ok=True)
                recorder.write(self.record_dir / f"{conversation.id}.wav")
            except OSError as exc:
                _log.error("cannot write the recording of %s: %s", conversation.id, exc)
        records = list(conversation.log.records) if conversation.log else []
        conversation.log = None
        if self.keep_closed == 0:
            return
        self.closed[conversation.id] = self._summary_json(conversation, code, reason, records)
        while len(self.closed) > self.keep_closed:
            self.closed.popitem(last=False)

    def summaries_json(self) -> Iterator[str]:
        """Every conversation's summary as JSON, closed ones first (oldest first)."""
        yield from self.closed.values()
        for conversation in list(self.open.values()):
            yield json.dumps(conversation.summary(), separators=(",", ":"))

    @property
    def kept_bytes(self) -> int:
        """Bytes of JSON kept for closed conversations."""
        return sum(len(s) for s in self.closed.values())

    def _summary_json(self, conversation: Conversation, code: int, reason: str,
                      records: list[dict[str, Any]]) -> str:
        head = {"id": conversation.id, "protocol": conversation.protocol, "open": False,
                "close_code": code, "close_reason": reason}
        encoded = [json.dumps(r, separators=(",", ":")) for r in records]
        budget = self.max_summary_bytes - len(json.dumps(head)) - 64
        kept, size = 0, 0
        for text in reversed(encoded):  # keep the newest events that fit
            if size + len(text) + 1 > budget:
                break
            size += len(text) + 1
            kept += 1
        dropped = len(encoded) - kept
        body = ",".join(encoded[len(encoded) - kept:])
        return (json.dumps({**head, "events_dropped": dropped}, separators=(",", ":"))[:-1]
                + f',"events":[{body}]}}')
