"""The Twilio Media Streams adapter: bargein plays the phone network for a phone agent.

:class:`TwilioMediaStreamAdapter` connects to an agent's WebSocket endpoint (the URL Twilio
would stream a call to) and speaks the Media Streams protocol as Twilio does:

- it sends ``connected``, then ``start`` (stream and call ids, ``audio/x-mulaw`` at 8 kHz);
- the caller's audio (the scenario room's microphone) goes out as ``media`` messages, base64
  8 kHz μ-law in 20 ms frames, and the agent's ``media`` plays into the room's speaker;
- the agent's ``clear`` is its native stop: the audio not yet played is dropped at once (and
  reported as ``agent_interrupted`` with the seconds ``dropped``); its ``mark`` messages are
  echoed once the audio sent before them has played, as Twilio does;
- like Twilio, it takes the agent's messages only with the ``streamSid`` of its ``start``;
- ``stop`` ends the stream when the scenario ends.

The room's audio (16 kHz by default) is converted to and from 8 kHz μ-law at this edge.

Live mode only (real sockets, real time): ``scenario.run(..., live=True)``. Every protocol
wait is bounded on the wall clock (``connect_timeout``, ``answer_timeout``); a URL that
refuses, a peer that answers with something that is not Media Streams JSON (or for another
stream), or one that says nothing after ``start`` fails the start with one line naming the
step.

Needs ``websockets`` (extra ``live``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import contextlib
import json
import uuid
from typing import Any

from bargein._extras import require
from bargein.adapters.base import AdapterLink, AgentAdapter, Capabilities
from bargein.audio.frame import AudioFrame
from bargein.audio.mulaw import mulaw_decode, mulaw_encode
from bargein.audio.resample import StreamResampler
from bargein.errors import BargeinError

__all__ = ["TWILIO_RATE", "TwilioMediaStreamAdapter", "TwilioProtocolError"]

TWILIO_RATE = 8000
_FRAME_BYTES = 160  # 20 ms of 8 kHz μ-law


class TwilioProtocolError(BargeinError):
    """The agent's endpoint could not be reached or did not speak Media Streams."""


class TwilioMediaStreamAdapter(AgentAdapter):
    """Drives a phone agent over Twilio Media Streams at ``url`` (``ws://`` or ``wss://``).

    Declared capabilities: the agent hears the caller's audio and decides by itself when to
    stop (``native_vad``); Media Streams have no cancel signal from the caller's side
    (``interruption`` no) and no transcript of the agent (``streaming_transcripts`` no).

    ``answer_timeout`` bounds the wait for the agent's first message after ``start`` (a
    phone agent greets the caller); ``None`` skips that check for agents that wait for the
    caller to speak first. ``custom_parameters`` are sent in ``start`` as Twilio sends a
    TwiML ``<Parameter>``.
    """

    capabilities = Capabilities(streaming_transcripts=False, native_vad=True,
                                interruption=False)

    def __init__(self, url: str, *, name: str = "twilio", connect_timeout: float = 10.0,
                 answer_timeout: float | None = 10.0,
                 custom_parameters: dict[str, str] | None = None) -> None:
        if not isinstance(url, str) or not url.startswith(("ws://", "wss://")):
            raise ValueError(f"url must be a ws:// or wss:// URL, got {url!r}")
        for label, value in (("connect_timeout", connect_timeout),
                             ("answer_timeout", answer_timeout)):
            if value is not None and not (isinstance(value, (int, float)) and value > 0
                                          and value < float("inf")):
                raise ValueError(f"{label} must be a positive number of seconds, got {value!r}")
        self.url = url
        self.name = name
        self.connect_timeout = float(connect_timeout)
        self.answer_timeout = None if answer_timeout is None else float(answer_timeout)
        self.custom_parameters = dict(custom_parameters or {})
        self.stream_sid = "MZ" + uuid.uuid4().hex
        self.call_sid = "CA" + uuid.uuid4().hex
        self.clears: list[float] = []
        """Recording times at which the agent's ``clear`` messages arrived (each one, also
        when nothing was left to drop: an agent that paces its audio in real time may have
        stopped sending before it clears)."""
        self._ws: Any = None
        self._link: AdapterLink | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._queue: collections.deque[AudioFrame | str] = collections.deque()
        self._wakeup = asyncio.Event()
        self._captured = 0.0  # seconds of agent audio handed to the speaker
        self._played = 0.0    # seconds of it that started playing
        self._marks: list[tuple[float, str]] = []  # (captured position, mark name)
        self._sequence = 0
        self._clear_count = 0

    # -- start ---------------------------------------------------------------------------------

    async def start(self, link: AdapterLink) -> None:
        from bargein.sim import is_simulated

        if is_simulated():
            raise TwilioProtocolError(
                "twilio: Media Streams run over real sockets in real time; run the scenario "
                "with live=True")
        require("websockets", extra="live", feature="the Twilio Media Streams adapter")
        from websockets.asyncio.client import connect

        self._link = link
        try:
            self._ws = await asyncio.wait_for(connect(self.url, open_timeout=None,
                                                      max_size=2**20),
                                              self.connect_timeout)
        except TimeoutError:
            raise TwilioProtocolError(f"twilio: step connect: {self.url} did not answer within "
                                      f"{self.connect_timeout:g} s") from None
        except (OSError, ValueError) as exc:
            raise TwilioProtocolError(f"twilio: step connect: could not connect to "
                                      f"{self.url}: {_one_line(exc)}") from None
        except Exception as exc:  # websockets' handshake errors (InvalidStatus, InvalidURI...)
            raise TwilioProtocolError(f"twilio: step connect: {self.url} refused the "
                                      f"WebSocket: {_one_line(exc)}") from None
        await self._send({"event": "connected", "protocol": "Call", "version": "1.0.0"},
                         numbered=False)  # Twilio numbers the messages from `start` on
        await self._send({
            "event": "start", "streamSid": self.stream_sid,
            "start": {"streamSid": self.stream_sid, "callSid": self.call_sid,
                      "accountSid": "AC" + "0" * 32, "tracks": ["inbound"],
                      "customParameters": self.custom_parameters,
                      "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": TWILIO_RATE,
                                      "channels": 1}}})
        link.audio_output.add_listener(self._on_played)
        self._tasks.append(asyncio.create_task(self._send_caller_audio(), name="twilio-up"))
        self._tasks.append(asyncio.create_task(self._play_agent_audio(), name="twilio-play"))
        first = None
        if self.answer_timeout is not None:
            first = await self._first_message()
        self._tasks.append(asyncio.create_task(self._receive(first), name="twilio-down"))

    async def _first_message(self) -> Any:
        assert self.answer_timeout is not None
        try:
            raw = await asyncio.wait_for(self._ws.recv(), self.answer_timeout)
        except TimeoutError:
            await self.close()
            raise TwilioProtocolError(
                f"twilio: step start: the agent at {self.url} sent nothing within "
                f"{self.answer_timeout:g} s of `start` (pass answer_timeout=None for an agent "
                "that waits for the caller)") from None
        except Exception as exc:  # the peer closed the socket
            await self.close()
            raise TwilioProtocolError(f"twilio: step start: the agent closed the stream: "
                                      f"{_one_line(exc)}") from None
        try:
            return self._parse(raw)
        except TwilioProtocolError:
            await self.close()
            raise

    # -- the caller's audio, up ----------------------------------------------------------------

    async def _send_caller_audio(self) -> None:
        link = self._link
        assert link is not None
        resampler = (None if link.sample_rate == TWILIO_RATE
                     else StreamResampler(link.sample_rate, TWILIO_RATE))
        pending = b""
        sent = 0
        async for frame in link.audio_input:
            audio = frame if resampler is None else resampler.push(frame)
            if audio is None or not audio.num_samples:
                continue
            pending += mulaw_encode(audio.to_int16())
            while len(pending) >= _FRAME_BYTES:
                chunk, pending = pending[:_FRAME_BYTES], pending[_FRAME_BYTES:]
                await self._send({
                    "event": "media", "streamSid": self.stream_sid,
                    "media": {"track": "inbound", "chunk": str(sent + 1),
                              "timestamp": str(sent * 20),
                              "payload": base64.b64encode(chunk).decode("ascii")}})
                sent += 1

    async def _send(self, message: dict[str, Any], *, numbered: bool = True) -> None:
        if numbered:
            self._sequence += 1
            message = {**message, "sequenceNumber": str(self._sequence)}
        with contextlib.suppress(Exception):  # a closed socket ends the call; reported below
            await self._ws.send(json.dumps(message))

    # -- the agent's messages, down ------------------------------------------------------------

    def _parse(self, raw: Any) -> dict[str, Any]:
        try:
            message = json.loads(raw)
        except (TypeError, ValueError):
            raise TwilioProtocolError(
                f"twilio: step media: the agent sent something that is not Media Streams "
                f"JSON: {_preview(raw)}") from None
        if not isinstance(message, dict) or message.get("event") not in ("media", "mark",
                                                                         "clear"):
            raise TwilioProtocolError(
                f"twilio: step media: the agent sent an unknown message (expected an event "
                f"media, mark or clear): {_preview(raw)}")
        if message.get("streamSid") != self.stream_sid:  # Twilio rejects it (error 31951)
            raise TwilioProtocolError(
                f"twilio: step media: the agent sent a {message['event']} message for stream "
                f"{message.get('streamSid')!r}, not this call's {self.stream_sid!r} (the "
                "streamSid of `start`)")
        return message

    async def _receive(self, first: dict[str, Any] | None) -> None:
        link = self._link
        assert link is not None
        resampler = (None if link.sample_rate == TWILIO_RATE
                     else StreamResampler(TWILIO_RATE, link.sample_rate))
        try:
            if first is not None:
                self._handle(first, resampler)
            async for raw in self._ws:
                self._handle(self._parse(raw), resampler)
        except TwilioProtocolError as exc:
            link.report("error", source="twilio", message=str(exc))
        except Exception as exc:  # the socket closed under us
            link.report("error", source="twilio",
                        message=f"twilio: the agent closed the stream: {_one_line(exc)}")

    def _handle(self, message: dict[str, Any], resampler: StreamResampler | None) -> None:
        event = message["event"]
        if event == "media":
            try:
                payload = base64.b64decode(message["media"]["payload"], validate=True)
            except (KeyError, TypeError, binascii.Error):
                raise TwilioProtocolError(
                    "twilio: step media: a media message without valid base64 μ-law "
                    f"payload: {_preview(json.dumps(message))}") from None
            audio = AudioFrame.from_int16(mulaw_decode(payload), TWILIO_RATE)
            if resampler is not None:
                audio = resampler.push(audio)
            if audio is not None and audio.num_samples:
                self._queue.append(audio)
        elif event == "mark":
            name = str((message.get("mark") or {}).get("name", ""))
            self._queue.append(name)
        else:  # clear: the agent's native stop
            self._clear()
        self._wakeup.set()

    def _clear(self) -> None:
        link = self._link
        assert link is not None
        dropped = sum(item.duration for item in self._queue if isinstance(item, AudioFrame))
        dropped += max(self._captured - self._played, 0.0)
        names = [item for item in self._queue if isinstance(item, str)]
        self._queue.clear()
        self.clears.append(link.now())
        if dropped > 1e-9:
            link.report("agent_interrupted", reason="clear", dropped=round(dropped, 4))
        self._clear_count += 1
        link.audio_output.clear_buffer()
        self._played = self._captured
        names = [name for _, name in self._marks] + names
        self._marks.clear()
        for name in names:  # Twilio answers every pending mark when the buffer is cleared
            asyncio.get_running_loop().create_task(self._echo_mark(name))

    async def _play_agent_audio(self) -> None:
        link = self._link
        assert link is not None
        while True:
            if not self._queue:
                if self._captured - self._played <= 1e-9:
                    link.audio_output.flush()
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            item = self._queue.popleft()
            if isinstance(item, str):
                self._marks.append((self._captured, item))
                self._echo_played_marks()
                continue
            self._captured += item.duration
            clears = self._clear_count
            await link.audio_output.capture_frame(item)
            if clears != self._clear_count:  # cleared while this frame waited for room
                link.audio_output.clear_buffer()
                self._played = self._captured

    def _on_played(self, frame: AudioFrame, at: float) -> None:
        self._played += frame.duration
        self._echo_played_marks()

    def _echo_played_marks(self) -> None:
        while self._marks and self._marks[0][0] <= self._played + 1e-9:
            _, name = self._marks.pop(0)
            asyncio.get_running_loop().create_task(self._echo_mark(name))

    async def _echo_mark(self, name: str) -> None:
        await self._send({"event": "mark", "streamSid": self.stream_sid,
                          "mark": {"name": name}})

    # -- end -----------------------------------------------------------------------------------

    async def close(self) -> None:
        if self._link is not None:
            self._link.audio_output.remove_listener(self._on_played)
        if self._ws is not None:
            await self._send({"event": "stop", "streamSid": self.stream_sid,
                              "stop": {"accountSid": "AC" + "0" * 32,
                                       "callSid": self.call_sid}})
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws.close(), 5.0)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def _preview(raw: Any) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    text = " ".join(text.split())
    return repr(text[:80] + ("..." if len(text) > 80 else ""))
