"""Record and replay streamed HTTP answers, for deterministic tests of remote providers.

A :class:`Cassette` is a JSON file holding, per request, the server-sent events a remote
model streamed back and the time between them. Record once against the real server; then
replay without any network: the events come back with the recorded delays charged on the
event loop's clock, so a replay inside a simulation is deterministic and in virtual time.

Requests are keyed by a stable hash of the method, the URL path (not the host, so a server
on another port still matches) and the JSON body with sorted keys. Headers are never stored,
so API keys never reach the file.

Modes:

- ``"replay"``: never touch the network; a request with no recording raises
  :class:`CassetteMissError`.
- ``"record"``: always call the server and (over)write the recording.
- ``"auto"``: replay when a complete recording exists, else record.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bargein.errors import BargeinError
from bargein.providers.latency import Latency

__all__ = [
    "Cassette",
    "CassetteError",
    "CassetteMissError",
    "CassetteMode",
    "RecordedEvent",
    "Recorder",
    "Recording",
    "request_key",
]

CassetteMode = Literal["replay", "record", "auto"]
_MODES = ("replay", "record", "auto")
_FORMAT = "bargein-cassette"
_VERSION = 1


class CassetteError(BargeinError, RuntimeError):
    """A cassette file that cannot be used: unreadable, wrong format, incomplete recording."""


class CassetteMissError(CassetteError, LookupError):
    """Replay found no recording for a request; the message names the file and the key."""

    def __init__(self, path: Path, key: str, request: Mapping[str, Any] | None = None) -> None:
        self.path = path
        self.key = key
        self.request = request
        where = f"{request.get('method')} {request.get('path')} " if request else ""
        super().__init__(
            f"cassette {str(path)!r} has no recording for request {where}(key {key}). "
            "The request differs from the one recorded (model, messages, tools or options), "
            "or it was never recorded. Re-record it with Cassette(..., mode='record') "
            "(or mode='auto') against the real server."
        )


def request_key(method: str, path: str, body: Any) -> str:
    """Stable key of a request: hash of method, URL path and JSON body with sorted keys."""
    canonical = json.dumps(
        {"method": method.upper(), "path": path, "body": body},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True)
class RecordedEvent:
    """One server-sent event: its ``data`` text and the seconds since the previous one
    (since the request was sent, for the first)."""

    delay: float
    data: str


@dataclass
class Recording:
    """What the server answered to one request."""

    request: dict[str, Any]
    status: int = 200
    events: list[RecordedEvent] = field(default_factory=list)
    error_body: str | None = None
    """Body of an error answer (status >= 400)."""
    error_delay: float = 0.0
    """Seconds until an error answer arrived."""
    complete: bool = True
    """False when the stream was cancelled while recording (replay then ends with an error
    if more is asked of it than was recorded)."""

    def to_json(self) -> dict[str, Any]:
        response: dict[str, Any] = {"status": self.status, "complete": self.complete}
        if self.status >= 400:
            response["error_body"] = self.error_body or ""
            response["error_delay"] = self.error_delay
        else:
            response["events"] = [{"delay": e.delay, "data": e.data} for e in self.events]
        return {"request": self.request, "response": response}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Recording:
        response = obj["response"]
        return cls(
            request=dict(obj.get("request") or {}),
            status=int(response.get("status", 200)),
            events=[
                RecordedEvent(float(e["delay"]), str(e["data"])) for e in response.get("events", [])
            ],
            error_body=response.get("error_body"),
            error_delay=float(response.get("error_delay", 0.0)),
            complete=bool(response.get("complete", True)),
        )


class Cassette:
    """A JSON file of recorded streamed answers; see the module docs.

    Args:
        path: the cassette file (created on first recording).
        mode: ``"replay"`` (default, no network), ``"record"`` or ``"auto"``.
        ttft: replace the recorded delay before the first event with this latency model; it
            gets the recorded delay as its ``work_seconds`` (so ``Measured(0.5)`` halves it).
        chunk_delay: the same for the delays between later events.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        mode: CassetteMode = "replay",
        *,
        ttft: Latency | None = None,
        chunk_delay: Latency | None = None,
    ) -> None:
        if mode not in _MODES:
            raise ValueError(f"cassette mode must be one of {_MODES}, got {mode!r}")
        self.path = Path(path)
        self.mode: CassetteMode = mode
        self.ttft = ttft
        self.chunk_delay = chunk_delay
        self._recordings: dict[str, Recording] | None = None

    def __repr__(self) -> str:
        return f"Cassette({str(self.path)!r}, mode={self.mode!r})"

    # -- lookup ----------------------------------------------------------------------------

    def key(self, method: str, path: str, body: Any) -> str:
        """The key a request is stored under (see :func:`request_key`)."""
        return request_key(method, path, body)

    def get(self, key: str) -> Recording | None:
        """The recording stored under ``key``, if any."""
        return self._load().get(key)

    def keys(self) -> list[str]:
        """Keys of every recording in the file."""
        return sorted(self._load())

    def should_replay(self, key: str) -> bool:
        """True if a request with this key is to be replayed rather than sent."""
        if self.mode == "replay":
            return True
        if self.mode == "record":
            return False
        rec = self.get(key)
        return rec is not None and rec.complete

    def lookup(self, key: str, request: Mapping[str, Any] | None = None) -> Recording:
        """The recording for ``key``, or :class:`CassetteMissError`."""
        rec = self.get(key)
        if rec is None:
            raise CassetteMissError(self.path, key, request)
        return rec

    # -- replay ----------------------------------------------------------------------------

    async def play(self, recording: Recording) -> AsyncIterator[str]:
        """Yield the recorded event data, sleeping the (modeled) delays on the loop clock."""
        for i, event in enumerate(recording.events):
            model = self.ttft if i == 0 else self.chunk_delay
            delay = event.delay if model is None else model.delay(event.delay)
            if delay > 0:
                await asyncio.sleep(delay)
            yield event.data
        if not recording.complete:
            raise CassetteError(
                f"cassette {str(self.path)!r}: the recording of "
                f"{recording.request.get('method')} {recording.request.get('path')} stops after "
                f"{len(recording.events)} events because the stream was cancelled while "
                "recording, and this replay asked for more. Re-record it with mode='record' "
                "and let the stream finish."
            )

    # -- record ----------------------------------------------------------------------------

    def recorder(self, key: str, method: str, path: str, body: Any) -> Recorder:
        """Start recording the answer to a request; time starts now on the loop clock."""
        request = {"method": method.upper(), "path": path, "body": body}
        return Recorder(self, key, Recording(request=request))

    def store(self, key: str, recording: Recording) -> None:
        """Add or replace a recording and write the file."""
        recordings = self._load()
        recordings[key] = recording
        self._save(recordings)

    # -- file ------------------------------------------------------------------------------

    def _load(self) -> dict[str, Recording]:
        if self._recordings is not None:
            return self._recordings
        if not self.path.exists():
            self._recordings = {}
            return self._recordings
        try:
            obj = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CassetteError(f"cannot read cassette {str(self.path)!r}: {exc}") from exc
        if not isinstance(obj, dict) or obj.get("format") != _FORMAT:
            raise CassetteError(
                f'{str(self.path)!r} is not a bargein cassette (expected "format": {_FORMAT!r})'
            )
        if obj.get("version") != _VERSION:
            raise CassetteError(
                f"cassette {str(self.path)!r} has version {obj.get('version')!r}; this bargein "
                f"reads version {_VERSION}. Re-record it with mode='record'."
            )
        try:
            self._recordings = {
                key: Recording.from_json(value)
                for key, value in (obj.get("interactions") or {}).items()
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise CassetteError(f"cassette {str(self.path)!r} is malformed: {exc!r}") from exc
        return self._recordings

    def _save(self, recordings: Mapping[str, Recording]) -> None:
        obj = {
            "format": _FORMAT,
            "version": _VERSION,
            "interactions": {key: rec.to_json() for key, rec in recordings.items()},
        }
        text = json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name, suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class Recorder:
    """Collects one streamed answer with its timing, then stores it in the cassette."""

    def __init__(self, cassette: Cassette, key: str, recording: Recording) -> None:
        self.cassette = cassette
        self.key = key
        self.recording = recording
        self._loop = asyncio.get_running_loop()
        self._last = self._loop.time()
        self._stored = False

    def _elapsed(self) -> float:
        now = self._loop.time()
        delay, self._last = now - self._last, now
        return round(max(delay, 0.0), 4)

    def event(self, data: str) -> None:
        """Note one event as it arrives."""
        self.recording.events.append(RecordedEvent(self._elapsed(), data))

    def error(self, status: int, body: str) -> None:
        """Note an error answer and store it."""
        self.recording.status = status
        self.recording.error_body = body
        self.recording.error_delay = self._elapsed()
        self.finish()

    def finish(self, *, complete: bool = True) -> None:
        """Store the recording (once)."""
        if self._stored:
            return
        self._stored = True
        self.recording.complete = complete
        self.cassette.store(self.key, self.recording)
