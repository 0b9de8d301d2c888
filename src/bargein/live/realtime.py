"""One conversation over the OpenAI Realtime protocol (``bargein serve --protocol realtime``).

The subset spoken is described in :mod:`bargein.live.realtime_events`. How the session maps
onto it:

- the connection gets ``session.created`` at once; the conversation (and its session slot)
  starts with the client's first event, within the ``hello_timeout`` of the native protocol;
- user audio (``input_audio_buffer.append``, 24 kHz) feeds the session's input; its VAD
  reports ``input_audio_buffer.speech_started`` / ``speech_stopped``, its recognizer
  ``conversation.item.input_audio_transcription.completed``;
- every agent speech is one response: ``response.created``, its item and content part, the
  audio as ``response.output_audio.delta``, the words as
  ``response.output_audio_transcript.delta`` at the moment each is played, then the
  ``done`` events and ``response.done`` (``cancelled`` when it was cut off);
- a Realtime client reports no playout, so the server plays each delta in real time: a
  delta goes out when it starts to play (:class:`~bargein.io.PacedAudioOutput`), and what
  the session records as heard follows that clock. ``conversation.item.truncate`` then
  cuts the item's transcript to what the client says it played.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from bargein.audio.frame import AudioFrame
from bargein.audio.resample import StreamResampler
from bargein.io import PacedAudioOutput, QueueAudioInput
from bargein.live.connection import CallRecorder, Channel, ClientLeft
from bargein.live.events import SessionLog
from bargein.live.protocol import (
    CLOSE_GOING_AWAY,
    CLOSE_POLICY,
    Limits,
    ProtocolError,
    TokenBucket,
)
from bargein.live.realtime_events import (
    REALTIME_RATE,
    EventError,
    EventIds,
    decode_audio,
    error_event,
    parse_event,
    session_object,
)

if TYPE_CHECKING:
    from bargein.live.conversations import Conversation
    from bargein.live.server import LiveServer

__all__ = ["converse", "wait_for_first_event"]


async def wait_for_first_event(ws: Any, limits: Limits, ids: EventIds, model: str,
                               session_id: str) -> str:
    """Send ``session.created``; return the client's first event within the deadline."""
    from websockets.exceptions import ConnectionClosed

    created = {"type": "session.created", "event_id": ids.new("event"),
               "session": session_object(session_id, model, "")}
    try:
        await ws.send(json.dumps(created))
        first = await asyncio.wait_for(ws.recv(), limits.hello_timeout)
    except TimeoutError:
        raise ProtocolError(CLOSE_POLICY, "no event in time") from None
    except ConnectionClosed:
        raise ClientLeft from None
    # a message that is no event at all closes before any session starts; an event that is
    # refused is answered within the conversation
    with contextlib.suppress(EventError):
        parse_event(first)
    return str(first)


@dataclass
class _Response:
    """One agent speech as a Realtime response."""

    speech: int
    id: str
    item_id: str
    started_at: float | None = None  # session time of its first played sample
    words: list[tuple[float, str]] = field(default_factory=list)  # (offset s, word)
    transcript: str = ""
    done: bool = False


class _RealtimeCall:
    """The state of one Realtime conversation: the session's records -> server events."""

    def __init__(self, channel: Channel, ids: EventIds, session: Any) -> None:
        self.channel, self.ids, self.session = channel, ids, session
        self.responses: list[_Response] = []
        self.items: dict[str, _Response] = {}
        self.user_item: str | None = None
        self.last_user_item: str | None = None
        self.cancelled_by_client: set[int] = set()
        self.out_rs = StreamResampler(16000, REALTIME_RATE)

    def emit(self, kind: str, **fields: Any) -> None:
        self.channel.send({"type": kind, "event_id": self.ids.new("event"), **fields})

    def playing(self) -> _Response | None:
        return next((r for r in self.responses if not r.done), None)

    # -- audio out (called as each frame starts to play) ---------------------------------

    def play(self, frame: AudioFrame, at: float) -> None:
        response = self.playing()
        if response is None:
            return
        if response.started_at is None:
            response.started_at = self.session.time
        out = self.out_rs.push(frame)
        if out is None or not out.num_samples:
            return
        delta = base64.b64encode(out.to_int16().astype("<i2").tobytes()).decode()
        self.emit("response.output_audio.delta", response_id=response.id,
                  item_id=response.item_id, output_index=0, content_index=0, delta=delta)

    # -- session records -> events -------------------------------------------------------

    def on_record(self, record: dict[str, Any]) -> None:
        handler = getattr(self, "_on_" + record["event"], None)
        if handler is not None:
            handler(record)

    def _on_user_state_changed(self, r: dict[str, Any]) -> None:
        ms = max(0, round(r["t"] * 1000))
        if r["new"] == "speaking" and self.user_item is None:
            self.user_item = self.ids.new("item")
            self.emit("input_audio_buffer.speech_started", audio_start_ms=ms,
                      item_id=self.user_item)
        elif r["new"] == "listening" and self.user_item is not None:
            self.emit("input_audio_buffer.speech_stopped", audio_end_ms=ms,
                      item_id=self.user_item)
            self.last_user_item, self.user_item = self.user_item, None

    def _on_user_input_transcribed(self, r: dict[str, Any]) -> None:
        item = self.user_item or self.last_user_item or self.ids.new("item")
        if r["is_final"]:
            self.emit("conversation.item.input_audio_transcription.completed",
                      item_id=item, content_index=0, transcript=r["transcript"],
                      usage={"type": "duration", "seconds": 0.0})
        else:
            self.emit("conversation.item.input_audio_transcription.delta", item_id=item,
                      content_index=0, delta=r["transcript"])

    def _on_speech_created(self, r: dict[str, Any]) -> None:
        response = _Response(r["speech"], self.ids.new("resp"), self.ids.new("item"))
        self.responses.append(response)
        self.items[response.item_id] = response
        item = _item(response, "in_progress", "")
        self.emit("response.created", response={
            "id": response.id, "object": "realtime.response", "status": "in_progress",
            "output": [], "output_modalities": ["audio"]})
        self.emit("response.output_item.added", response_id=response.id, output_index=0,
                  item=item)
        self.emit("conversation.item.added", item=item)
        self.emit("response.content_part.added", response_id=response.id,
                  item_id=response.item_id, output_index=0, content_index=0,
                  part={"type": "audio", "transcript": ""})

    def _on_agent_words_heard(self, r: dict[str, Any]) -> None:
        response = self._response(r["speech"])
        if response is None or not r["words"]:
            return
        offset = r["t"] - (response.started_at if response.started_at is not None else r["t"])
        text = " ".join(r["words"])
        delta = text if not response.words else " " + text
        response.words.extend((offset, w) for w in r["words"])
        self.emit("response.output_audio_transcript.delta", response_id=response.id,
                  item_id=response.item_id, output_index=0, content_index=0, delta=delta)

    def _on_speech_done(self, r: dict[str, Any]) -> None:
        response = self._response(r["speech"])
        if response is None:
            return
        response.done = True
        self.out_rs = StreamResampler(16000, REALTIME_RATE)
        interrupted = r["interrupted"]
        response.transcript = r["heard_text"] if interrupted else r["text"]
        ids = {"response_id": response.id, "item_id": response.item_id, "output_index": 0,
               "content_index": 0}
        self.emit("response.output_audio.done", **ids)
        self.emit("response.output_audio_transcript.done", transcript=response.transcript,
                  **ids)
        self.emit("response.content_part.done", part={"type": "audio",
                                                      "transcript": response.transcript}, **ids)
        item = _item(response, "incomplete" if interrupted else "completed",
                     response.transcript)
        self.emit("response.output_item.done", response_id=response.id, output_index=0,
                  item=item)
        self.emit("conversation.item.done", item=item)
        status: dict[str, Any] = {"type": "completed"}
        if interrupted:
            reason = ("client_cancelled" if response.speech in self.cancelled_by_client
                      else "turn_detected")
            status = {"type": "cancelled", "reason": reason}
        self.emit("response.done", response={
            "id": response.id, "object": "realtime.response", "status": status["type"],
            "status_details": status, "output": [item], "output_modalities": ["audio"]})

    def _response(self, speech: int) -> _Response | None:
        return next((r for r in self.responses if r.speech == speech), None)

    # -- client events ---------------------------------------------------------------------

    def cancel(self, event: dict[str, Any]) -> None:
        response = self.playing()
        if response is None:
            raise EventError("response_cancel_not_active", "no response is in progress",
                             event_id=event.get("event_id"))
        self.cancelled_by_client.add(response.speech)
        self.session.interrupt()

    def truncate(self, event: dict[str, Any]) -> None:
        response = self.items.get(event["item_id"])
        if response is None:
            raise EventError("item_not_found", "no assistant item with that item_id",
                             param="item_id", event_id=event.get("event_id"))
        if event["content_index"] != 0:
            raise EventError("invalid_value", "content_index must be 0",
                             param="content_index", event_id=event.get("event_id"))
        end = event["audio_end_ms"] / 1000
        heard = [w for offset, w in response.words if offset < end]
        response.transcript = " ".join(heard)
        self.emit("conversation.item.truncated", item_id=response.item_id, content_index=0,
                  audio_end_ms=event["audio_end_ms"])


def _item(response: _Response, status: str, transcript: str) -> dict[str, Any]:
    return {"id": response.item_id, "object": "realtime.item", "type": "message",
            "role": "assistant", "status": status,
            "content": [{"type": "output_audio", "transcript": transcript}]}


async def converse(server: LiveServer, ws: Any, conv: Conversation, first: str,
                   ids: EventIds, session_id: str) -> tuple[int, str]:
    """Run ``conv`` from its first client event; returns the close code and reason."""
    limits = server.limits
    loop = asyncio.get_running_loop()
    channel = Channel(ws, idle_timeout=limits.idle_timeout)
    recording = CallRecorder(conv.recorder, server.session_rate, REALTIME_RATE, loop.time())
    agent, session, _ = await server.new_session()
    call = _RealtimeCall(channel, ids, session)

    def play(frame: AudioFrame, at: float) -> None:
        recording.agent(frame, at)
        call.play(frame, at)

    output = PacedAudioOutput(server.session_rate, play)
    audio_in = QueueAudioInput(REALTIME_RATE)
    conv.log = SessionLog(session, call.on_record)
    channel.start(conv.id)
    messages = TokenBucket(limits.max_messages_per_second,
                           2 * limits.max_messages_per_second, loop.time())
    audio = TokenBucket(limits.audio_speed, limits.audio_burst, loop.time())
    model = f"bargein-{server.spec.name}"
    await session.start(agent, audio_input=audio_in, audio_output=output)
    message: str | bytes = first
    try:
        while True:
            now = loop.time()
            if not messages.take(1, now):
                raise ProtocolError(CLOSE_POLICY, "too many messages a second")
            try:
                event = parse_event(message)
                kind = event["type"]
                if kind == "input_audio_buffer.append":
                    frame = AudioFrame.from_int16(np.frombuffer(decode_audio(event), "<i2"),
                                                  REALTIME_RATE)
                    if not audio.take(frame.duration, now):
                        raise ProtocolError(CLOSE_POLICY, "audio arrives faster than real time")
                    recording.user(frame)
                    audio_in.push(frame)
                elif kind == "session.update":
                    call.emit("session.updated", session=session_object(
                        session_id, model, getattr(agent, "instructions", "")))
                elif kind == "input_audio_buffer.clear":
                    call.emit("input_audio_buffer.cleared")
                elif kind == "response.create":
                    instructions = event.get("response", {}).get("instructions") or None
                    session.generate_reply(instructions=instructions)
                elif kind == "response.cancel":
                    call.cancel(event)
                elif kind == "conversation.item.truncate":
                    call.truncate(event)
            except EventError as exc:
                channel.send(error_event(ids, exc.code, exc.message, param=exc.param,
                                         event_id=exc.event_id))
            try:
                message = await channel.receive()
            except ClientLeft:
                return CLOSE_GOING_AWAY, "client left"
    finally:
        server.release(conv)
        audio_in.close()
        await session.aclose()
        await output.aclose()
        await channel.aclose()
