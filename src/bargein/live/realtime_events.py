"""The subset of the OpenAI Realtime protocol (GA event names) that ``bargein serve
--protocol realtime`` speaks: checking client events and building server events.

Client events understood (see ``docs/realtime.md``):

- ``session.update``: audio must stay ``audio/pcm`` at 24 kHz; turn detection must stay
  ``server_vad`` (the agent detects turns itself); other fields are accepted and ignored;
- ``input_audio_buffer.append``: base64 PCM16, mono, 24 kHz, in real time;
- ``input_audio_buffer.clear``: acknowledged (audio already heard is not unheard);
- ``response.create``: the agent replies now (optional ``response.instructions``);
- ``response.cancel``: stop the current reply: the native barge-in signal;
- ``conversation.item.truncate``: the client played ``audio_end_ms`` of an assistant item:
  its transcript is cut to the words heard by then.

Any other known event is answered with an ``error`` event (code ``unsupported_event``), an
unknown one with code ``unknown_event``, and the connection stays open. A message that is
not a JSON object with a ``type`` (or is binary, or too large) closes the connection.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
from typing import Any

from bargein.live.protocol import CLOSE_INVALID_DATA, CLOSE_TOO_BIG, ProtocolError

__all__ = [
    "AUDIO_FORMAT",
    "MAX_EVENT_BYTES",
    "REALTIME_RATE",
    "EventError",
    "EventIds",
    "decode_audio",
    "error_event",
    "parse_event",
    "session_object",
]

#: The one audio format spoken: PCM16 mono at 24 kHz, both ways.
REALTIME_RATE = 24000
AUDIO_FORMAT = {"type": "audio/pcm", "rate": REALTIME_RATE}
#: Largest client event (about 0.9 s of 24 kHz audio, base64-encoded, per append).
MAX_EVENT_BYTES = 60000

HANDLED = frozenset({
    "session.update", "input_audio_buffer.append", "input_audio_buffer.clear",
    "response.create", "response.cancel", "conversation.item.truncate",
})
#: Client events of the Realtime protocol that bargein does not implement.
UNSUPPORTED = frozenset({
    "input_audio_buffer.commit", "conversation.item.create", "conversation.item.delete",
    "conversation.item.retrieve", "output_audio_buffer.clear",
    "transcription_session.update",
})


class EventError(Exception):
    """A client event that is understood but cannot be done: answered with an ``error``
    event carrying ``code`` (the connection stays open)."""

    def __init__(self, code: str, message: str, *, param: str | None = None,
                 event_id: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.param, self.event_id = code, message, param, event_id


class EventIds:
    """Fresh ids of one connection: ``event_…``, ``item_…``, ``resp_…``."""

    def __init__(self) -> None:
        self._next = itertools.count(1)

    def new(self, prefix: str) -> str:
        return f"{prefix}_{next(self._next):06d}"


def parse_event(text: str | bytes) -> dict[str, Any]:
    """A client event, checked for shape and for the fields this server reads.

    Raises :class:`~bargein.live.protocol.ProtocolError` for a message that cannot be a
    Realtime event (close the connection) and :class:`EventError` for an event to refuse.
    """
    if isinstance(text, bytes):
        raise ProtocolError(CLOSE_INVALID_DATA, "Realtime events are JSON text, not binary")
    if len(text) > MAX_EVENT_BYTES:
        raise ProtocolError(CLOSE_TOO_BIG, f"event over {MAX_EVENT_BYTES} bytes")
    try:
        event = json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError(CLOSE_INVALID_DATA, "invalid JSON") from None
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise ProtocolError(CLOSE_INVALID_DATA, "an event must be a JSON object with a type")
    kind = event["type"]
    event_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
    if kind not in HANDLED:
        code = "unsupported_event" if kind in UNSUPPORTED else "unknown_event"
        what = "is not supported by bargein" if kind in UNSUPPORTED else "is unknown"
        raise EventError(code, f"event type {kind[:60]!r} {what}", param="type",
                         event_id=event_id)
    check = _CHECKS.get(kind)
    if check is not None:
        check(event, event_id)
    return event


def decode_audio(event: dict[str, Any]) -> bytes:
    """The PCM16 bytes of an ``input_audio_buffer.append``."""
    try:
        data = base64.b64decode(event["audio"], validate=True)
    except (binascii.Error, ValueError):
        raise EventError("invalid_value", "audio must be base64", param="audio",
                         event_id=event.get("event_id")) from None
    if not data or len(data) % 2:
        raise EventError("invalid_value", "audio must be PCM16: a non-empty, even number of "
                         "bytes", param="audio", event_id=event.get("event_id"))
    return data


def _check_append(event: dict[str, Any], event_id: str | None) -> None:
    if not isinstance(event.get("audio"), str):
        raise EventError("missing_required_parameter", "audio (base64 PCM16) is required",
                         param="audio", event_id=event_id)


def _check_truncate(event: dict[str, Any], event_id: str | None) -> None:
    if not isinstance(event.get("item_id"), str):
        raise EventError("missing_required_parameter", "item_id is required",
                         param="item_id", event_id=event_id)
    for name in ("content_index", "audio_end_ms"):
        value = event.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
            raise EventError("invalid_value", f"{name} must be a non-negative integer",
                             param=name, event_id=event_id)


def _check_session(event: dict[str, Any], event_id: str | None) -> None:
    session = event.get("session")
    if not isinstance(session, dict):
        raise EventError("missing_required_parameter", "session is required",
                         param="session", event_id=event_id)
    audio = session.get("audio") or {}
    if not isinstance(audio, dict):
        raise EventError("invalid_value", "session.audio must be an object",
                         param="session.audio", event_id=event_id)
    for side in ("input", "output"):
        part = audio.get(side) or {}
        fmt = part.get("format") if isinstance(part, dict) else None
        if fmt is not None and (not isinstance(fmt, dict) or fmt.get("type") != "audio/pcm"
                                or fmt.get("rate", REALTIME_RATE) != REALTIME_RATE):
            raise EventError("unsupported_format", "bargein speaks audio/pcm at 24000 Hz only",
                             param=f"session.audio.{side}.format", event_id=event_id)
    turn = (audio.get("input") or {}).get("turn_detection", {"type": "server_vad"}) \
        if isinstance(audio.get("input") or {}, dict) else None
    if not isinstance(turn, dict) or turn.get("type") != "server_vad":
        raise EventError("unsupported_turn_detection",
                         "a bargein agent detects turns itself: turn_detection must be "
                         "server_vad", param="session.audio.input.turn_detection",
                         event_id=event_id)


def _check_response(event: dict[str, Any], event_id: str | None) -> None:
    response = event.get("response", {})
    if not isinstance(response, dict) or not isinstance(response.get("instructions", ""), str):
        raise EventError("invalid_value", "response.instructions must be text",
                         param="response.instructions", event_id=event_id)


_CHECKS = {"input_audio_buffer.append": _check_append,
           "conversation.item.truncate": _check_truncate,
           "session.update": _check_session,
           "response.create": _check_response}


def error_event(ids: EventIds, code: str, message: str, *, param: str | None = None,
                event_id: str | None = None, kind: str = "invalid_request_error"
                ) -> dict[str, Any]:
    """A server ``error`` event."""
    error: dict[str, Any] = {"type": kind, "code": code, "message": message}
    if param is not None:
        error["param"] = param
    if event_id is not None:
        error["event_id"] = event_id
    return {"type": "error", "event_id": ids.new("event"), "error": error}


def session_object(session_id: str, model: str, instructions: str) -> dict[str, Any]:
    """The session as ``session.created`` / ``session.updated`` describe it."""
    return {
        "type": "realtime", "object": "realtime.session", "id": session_id, "model": model,
        "output_modalities": ["audio"], "instructions": instructions,
        "audio": {
            "input": {"format": dict(AUDIO_FORMAT), "turn_detection": {"type": "server_vad"}},
            "output": {"format": dict(AUDIO_FORMAT)},
        },
    }
