"""The OpenAI Realtime adapter: test any agent that speaks the Realtime WebSocket protocol.

:class:`RealtimeAdapter` is a client of the protocol (GA event names). It opens the
WebSocket, asks for 24 kHz PCM audio and server VAD (``session.update``), streams the
scenario's user audio as ``input_audio_buffer.append`` in real time, and plays the
server's ``response.output_audio.delta`` into the scenario room. What it reports:

- ``agent_words``: the words of ``response.output_audio_transcript.delta`` as they arrive
  (a bargein server sends them as each word plays; a hosted model sends them as generated);
- ``agent_state``: ``speaking`` from a response's first audio, ``listening`` once it has
  played out or was cut;
- ``user_transcript``: the server's transcription of the user's audio;
- ``agent_message`` and ``agent_interrupted``: from ``response.done``; a cancelled response
  is cut at once (the audio not yet played is dropped) and the adapter sends
  ``conversation.item.truncate`` with the milliseconds the room really played, so the
  server's history holds what was heard.

The native barge-in (:meth:`RealtimeAdapter.interrupt`) is ``response.cancel``. A VAD
barge-in is the user's audio alone: the server's own turn detection must stop the agent.

Live mode only (a real socket). Needs the extra ``live`` (``websockets``). Point it at a
bargein server (``ws://127.0.0.1:8765/v1/realtime``, ``bargein serve PATH --protocol
realtime``) or at a hosted endpoint with a key (see ``docs/realtime.md``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from typing import Any

import numpy as np

from bargein._extras import require
from bargein.adapters.base import AdapterLink, AgentAdapter, Capabilities
from bargein.audio.frame import AudioFrame
from bargein.audio.resample import StreamResampler
from bargein.errors import BargeinError

__all__ = ["REALTIME_CAPABILITIES", "RealtimeAdapter"]

RATE = 24000
REALTIME_CAPABILITIES = Capabilities(streaming_transcripts=True, native_vad=True,
                                     interruption=True, sample_rates=(8000, 16000, 24000))
_FLUSH = object()


class RealtimeAdapter(AgentAdapter):
    """A Realtime-protocol agent at ``url`` (``ws://`` or ``wss://``).

    Args:
        url: the WebSocket endpoint, e.g. ``ws://127.0.0.1:8765/v1/realtime`` or
            ``wss://api.openai.com/v1/realtime?model=gpt-realtime``.
        api_key: sent as ``Authorization: Bearer``: the token of a ``bargein serve``, or
            the key of a hosted endpoint. Never logged.
        session: extra fields for the ``session.update`` sent first (e.g. ``instructions``,
            ``audio.output.voice``); the audio formats and ``server_vad`` are set by the
            adapter.
        headers: more HTTP headers for the WebSocket handshake.
        open_timeout: seconds to connect.
    """

    capabilities = REALTIME_CAPABILITIES

    def __init__(self, url: str, *, api_key: str | None = None,
                 session: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
                 name: str = "realtime", open_timeout: float = 10.0) -> None:
        if not isinstance(url, str) or not url.startswith(("ws://", "wss://")):
            raise BargeinError(f"RealtimeAdapter needs a ws:// or wss:// URL, got {url!r}")
        self.url = url
        self.name = name
        self._api_key = api_key
        self._session = dict(session or {})
        self._headers = dict(headers or {})
        self.open_timeout = open_timeout
        self.sent: list[dict[str, Any]] = []
        """Every client event sent, audio payloads left out (for tests and debugging)."""
        self.received: list[dict[str, Any]] = []
        """Every server event received, audio payloads left out."""
        self._ws: Any = None
        self._link: AdapterLink | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._playing: str | None = None  # response whose segment is open in the room
        self._finished: dict[str, float] = {}  # response id -> seconds it played in all
        self._cut: set[str] = set()  # responses cut: their late audio is dropped
        self._cancelled_by_us: set[str] = set()
        self._current: str | None = None  # the response in progress
        self._items: dict[str, str] = {}  # response id -> its item id

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self, link: AdapterLink) -> None:
        require("websockets", extra="live", feature="the Realtime adapter")
        from websockets.asyncio.client import connect

        self._link = link
        headers = dict(self._headers)
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        try:
            self._ws = await connect(self.url, additional_headers=headers, max_size=2**24,
                                     open_timeout=self.open_timeout, ping_timeout=60)
        except (OSError, TimeoutError) as exc:
            raise BargeinError(f"cannot connect to the Realtime endpoint {self.url}: "
                               f"{exc}") from exc
        except Exception as exc:  # an HTTP refusal: wrong token, wrong path...
            raise BargeinError(f"the Realtime endpoint {self.url} refused the connection: "
                               f"{exc}") from exc
        session = {"type": "realtime", "output_modalities": ["audio"], **self._session}
        audio = dict(session.get("audio") or {})
        audio["input"] = {**(audio.get("input") or {}),
                          "format": {"type": "audio/pcm", "rate": RATE},
                          "turn_detection": {"type": "server_vad"}}
        audio["output"] = {**(audio.get("output") or {}),
                           "format": {"type": "audio/pcm", "rate": RATE}}
        session["audio"] = audio
        await self._send({"type": "session.update", "session": session})
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._microphone(), name="bargein-rt-mic"),
                       loop.create_task(self._receive(), name="bargein-rt-recv"),
                       loop.create_task(self._speaker(), name="bargein-rt-speaker")]

    async def interrupt(self) -> None:
        """The native barge-in: ``response.cancel`` for the response in progress."""
        if self._current is not None and self._current not in self._cut:
            self._cancelled_by_us.add(self._current)
            await self._send({"type": "response.cancel"})

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws.close(), 5)

    # -- sending ---------------------------------------------------------------------------

    async def _send(self, event: dict[str, Any]) -> None:
        if event["type"] != "input_audio_buffer.append":
            self.sent.append(event)
        await self._ws.send(json.dumps(event))

    async def _microphone(self) -> None:
        link = self._link
        assert link is not None
        resampler = None if link.audio_input.sample_rate == RATE else \
            StreamResampler(link.audio_input.sample_rate, RATE)
        async for frame in link.audio_input:
            out = frame if resampler is None else resampler.push(frame)
            if out is None or not out.num_samples:
                continue
            data = base64.b64encode(out.to_int16().astype("<i2").tobytes()).decode()
            await self._send({"type": "input_audio_buffer.append", "audio": data})

    # -- receiving -------------------------------------------------------------------------

    async def _receive(self) -> None:
        from websockets.exceptions import ConnectionClosed

        link = self._link
        assert link is not None
        rate = link.audio_output.sample_rate
        resampler = None if rate == RATE else StreamResampler(RATE, rate)
        try:
            async for message in self._ws:
                event = json.loads(message)
                kind = event.get("type")
                if kind == "response.output_audio.delta":
                    rid = event.get("response_id")
                    if rid in self._cut:
                        continue
                    samples = np.frombuffer(base64.b64decode(event["delta"]), "<i2")
                    frame = AudioFrame.from_int16(samples, RATE)
                    out = frame if resampler is None else resampler.push(frame)
                    if out is not None and out.num_samples:
                        self._queue.put_nowait((rid, out))
                    continue
                self.received.append(event)
                self._on_event(event)
        except ConnectionClosed as exc:
            link.report("error", source="realtime",
                        message=f"connection closed: {exc.rcvd.code if exc.rcvd else 1006} "
                                f"{exc.rcvd.reason if exc.rcvd else ''}".strip())

    def _on_event(self, event: dict[str, Any]) -> None:
        link = self._link
        assert link is not None
        kind = event.get("type")
        if kind == "response.created":
            self._current = event["response"]["id"]
            link.report("agent_state", state="thinking")
        elif kind == "response.output_item.added":
            self._items[event["response_id"]] = event["item"]["id"]
        elif kind == "response.output_audio_transcript.delta":
            if event.get("response_id") not in self._cut:
                words = tuple(str(event.get("delta", "")).split())
                if words:
                    link.report("agent_words", words=words)
        elif kind == "response.output_audio.done":
            self._queue.put_nowait((event.get("response_id"), _FLUSH))
        elif kind == "response.done":
            self._on_response_done(event["response"])
        elif kind == "conversation.item.input_audio_transcription.delta":
            link.report("user_transcript", text=str(event.get("delta", "")), final=False)
        elif kind == "conversation.item.input_audio_transcription.completed":
            link.report("user_transcript", text=str(event.get("transcript", "")), final=True)
        elif kind == "error":
            error = event.get("error") or {}
            link.report("error", source="realtime",
                        message=f"{error.get('code') or error.get('type')}: "
                                f"{error.get('message', '')}")

    def _on_response_done(self, response: dict[str, Any]) -> None:
        link = self._link
        assert link is not None
        rid = response.get("id")
        if rid == self._current:
            self._current = None
        output = response.get("output") or [{}]
        content = (output[0].get("content") or [{}]) if output else [{}]
        text = str(content[0].get("transcript") or content[0].get("text") or "")
        if response.get("status") != "cancelled":
            link.report("agent_message", text=text, interrupted=False)
            return
        self._cut.add(rid)
        if self._playing == rid:  # still playing (or playing out its last frames): stop it
            played = link.audio_output.played
            link.audio_output.clear_buffer()
        else:
            played = self._finished.get(rid, 0.0)
        reason = "forced" if rid in self._cancelled_by_us else "barge_in"
        link.report("agent_interrupted", reason=reason, played=round(played, 4))
        link.report("agent_message", text=text, interrupted=True)
        link.report("agent_state", state="listening")
        item = self._items.get(rid)
        if item is not None:
            asyncio.get_running_loop().create_task(self._send({
                "type": "conversation.item.truncate", "item_id": item, "content_index": 0,
                "audio_end_ms": round(played * 1000)}))

    async def _speaker(self) -> None:
        """Plays queued audio into the room, one output segment per response."""
        link = self._link
        assert link is not None
        output = link.audio_output
        while True:
            rid, frame = await self._queue.get()
            if rid in self._cut:
                continue
            if frame is _FLUSH:
                if self._playing == rid:
                    output.flush()
                    finished = await output.wait_for_playout()
                    self._finished[rid] = finished.position
                    self._playing = None
                    if not finished.interrupted:
                        link.report("agent_state", state="listening")
                continue
            if self._playing != rid:
                self._playing = rid
                link.report("agent_state", state="speaking")
            await output.capture_frame(frame)
            if rid in self._cut:  # cut while this frame waited for room: it must not play
                output.clear_buffer()
