"""The wire protocol of ``bargein serve``: one WebSocket per conversation.

Binary messages carry audio: little-endian PCM16, mono, at the rate the client declared in
its ``hello``, in both directions. Text messages are JSON objects with a ``type``.

Client -> server:

- ``{"type": "hello", "protocol": 1, "sample_rate": 16000}``: must come first. The rate of
  the client's audio (both ways): one of :data:`CLIENT_RATES`.
- binary: microphone audio, in real time (at most :attr:`Limits.max_audio_bytes` a message).
- ``{"type": "played", "segment": k, "samples": n}``: ``n`` samples of agent segment ``k``
  have been played (sent as playback goes, every few tens of ms).
- ``{"type": "done", "segment": k, "samples": n}``: segment ``k`` was flushed and has played
  out, ``n`` samples in all.
- ``{"type": "bye"}``: the client leaves (the server closes with 1000).
- ``{"type": "truth", "words": [{"text": w, "start": s, "end": e}, ...]}``: only for a
  server started with ``--stt oracle`` (tests): the words the client's audio says, timed in
  seconds on its microphone stream (samples sent / rate). The session's oracle STT reports
  them as the audio passes; no recognition runs. Any other server refuses it (1008).

Server -> client:

- ``{"type": "ready", "session": id, "sample_rate": r, "limits": {...}}``: the session
  started.
- ``{"type": "segment", "segment": k}``: the binary messages that follow are agent segment
  ``k`` (one per speech, or per resumption of a speech).
- binary: agent audio of the current segment.
- ``{"type": "flush", "segment": k}``: segment ``k`` is complete; report ``done`` when it
  has played out.
- ``{"type": "clear", "segment": k}``: stop segment ``k`` now and drop its unplayed audio
  (a barge-in); this also ends a pause.
- ``{"type": "pause"}`` / ``{"type": "resume"}``: hold / continue playout (a possible false
  interruption).
- ``{"type": "event", "t": seconds, "event": name, ...}``: a session event (see
  :mod:`bargein.live.events`), for the page's timeline.

A message that breaks these rules closes *that* connection with a WebSocket close code and
a reason (:class:`ProtocolError`); other sessions are not affected.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

PROTOCOL_VERSION = 1
#: Sample rates a client may declare (the session itself runs at 16 kHz).
CLIENT_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)

#: WebSocket close codes used.
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_INVALID_DATA = 1007  # not PCM16 / not JSON / wrong field types
CLOSE_POLICY = 1008  # protocol order, unknown type, rate limit, bad token
CLOSE_TOO_BIG = 1009
CLOSE_SERVER_ERROR = 1011
CLOSE_TRY_AGAIN = 1013  # too many sessions


class ProtocolError(Exception):
    """A client broke the protocol: close its connection with ``code`` and ``reason``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason[:120]  # a close reason must fit in 123 bytes


@dataclass(frozen=True)
class Limits:
    """Per-connection limits of the server."""

    max_audio_bytes: int = 16384
    """Largest binary message (0.5 s of 16 kHz PCM16)."""
    max_text_bytes: int = 2048
    """Largest JSON message."""
    max_messages_per_second: float = 200.0
    """Sustained message rate (audio and control together), with a burst of twice that."""
    audio_speed: float = 1.5
    """Audio may arrive at most this many times faster than real time, sustained..."""
    audio_burst: float = 5.0
    """...plus this many seconds of audio at once (network jitter)."""
    hello_timeout: float = 5.0
    """Seconds a connection has to open its WebSocket and send its ``hello`` (a waiting
    connection holds no session slot, but it does hold a socket)."""
    idle_timeout: float = 60.0
    """A session whose client sends nothing for this many seconds is closed."""
    ping_timeout: float = 60.0
    """Seconds a WebSocket keepalive ping may wait for its pong (generous: a busy machine
    answers late, and a dead client is also noticed by its silence)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class TokenBucket:
    """``rate`` units a second, at most ``burst`` saved up; :meth:`take` says if allowed."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst = rate, burst
        self.level, self.updated = burst, now

    def take(self, amount: float, now: float) -> bool:
        self.level = min(self.burst, self.level + (now - self.updated) * self.rate)
        self.updated = now
        if amount > self.level:
            return False
        self.level -= amount
        return True


def parse_control(text: str, limits: Limits) -> dict[str, Any]:
    """A client's JSON message, checked; raises :class:`ProtocolError`."""
    if len(text.encode()) > limits.max_text_bytes:
        raise ProtocolError(CLOSE_TOO_BIG, f"JSON message over {limits.max_text_bytes} bytes")
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError(CLOSE_INVALID_DATA, "invalid JSON") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError(CLOSE_INVALID_DATA, "a JSON message must be an object with a type")
    kind = message["type"]
    if kind == "hello":
        rate = message.get("sample_rate")
        if not _is_int(rate) or rate not in CLIENT_RATES:
            raise ProtocolError(CLOSE_INVALID_DATA,
                                f"hello: sample_rate must be one of {list(CLIENT_RATES)}")
        version = message.get("protocol", PROTOCOL_VERSION)
        if version != PROTOCOL_VERSION:
            raise ProtocolError(CLOSE_POLICY, f"hello: protocol {PROTOCOL_VERSION} only")
    elif kind in ("played", "done"):
        for name in ("segment", "samples"):
            value = message.get(name)
            if not _is_int(value) or not 0 <= value < 2**40:
                raise ProtocolError(CLOSE_INVALID_DATA,
                                    f"{kind}: {name} must be a non-negative integer")
    elif kind == "truth":
        words = message.get("words")
        if not isinstance(words, list) or not 0 < len(words) <= 100 or not all(
                isinstance(w, dict) and isinstance(w.get("text"), str)
                and 0 < len(w["text"]) <= 64 and _is_time(w.get("start"))
                and _is_time(w.get("end")) and w["start"] <= w["end"] for w in words):
            raise ProtocolError(CLOSE_INVALID_DATA,
                                "truth: words must be 1-100 {text, start, end} objects")
    elif kind != "bye":
        raise ProtocolError(CLOSE_POLICY, f"unknown message type {kind[:40]!r}")
    return message


def check_audio(data: bytes, limits: Limits) -> None:
    """Raise :class:`ProtocolError` unless ``data`` is an acceptable PCM16 message."""
    if len(data) > limits.max_audio_bytes:
        raise ProtocolError(CLOSE_TOO_BIG,
                            f"audio message over {limits.max_audio_bytes} bytes")
    if not data or len(data) % 2:
        raise ProtocolError(CLOSE_INVALID_DATA,
                            "audio must be PCM16: a non-empty, even number of bytes")


def _is_time(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and 0 <= value < 1e7


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
