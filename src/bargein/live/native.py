"""One conversation over bargein's own WebSocket protocol (:mod:`bargein.live.protocol`).

:func:`wait_for_hello` is the waiting stage (see :mod:`bargein.live.admission`);
:func:`converse` runs the admitted conversation until the client leaves or breaks a rule.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import numpy as np

from bargein.audio.frame import AudioFrame
from bargein.io import QueueAudioInput, RemotePlayoutOutput
from bargein.live.connection import CallRecorder, Channel, ClientLeft
from bargein.live.events import SessionLog
from bargein.live.protocol import (
    CLOSE_GOING_AWAY,
    CLOSE_NORMAL,
    CLOSE_POLICY,
    Limits,
    ProtocolError,
    TokenBucket,
    check_audio,
    parse_control,
)

if TYPE_CHECKING:
    from bargein.live.conversations import Conversation
    from bargein.live.server import LiveServer

__all__ = ["converse", "wait_for_hello"]


async def wait_for_hello(ws: Any, limits: Limits) -> dict[str, Any]:
    """The client's ``hello``, within ``limits.hello_timeout`` seconds."""
    from websockets.exceptions import ConnectionClosed

    try:
        first = await asyncio.wait_for(ws.recv(), limits.hello_timeout)
    except TimeoutError:
        raise ProtocolError(CLOSE_POLICY, "no hello message in time") from None
    except ConnectionClosed:
        raise ClientLeft from None
    if not isinstance(first, str):
        raise ProtocolError(CLOSE_POLICY, "the first message must be a JSON hello")
    hello = parse_control(first, limits)
    if hello["type"] != "hello":
        raise ProtocolError(CLOSE_POLICY, "the first message must be a JSON hello")
    return hello


async def converse(server: LiveServer, ws: Any, conv: Conversation,
                   hello: dict[str, Any]) -> tuple[int, str]:
    """Run ``conv`` after its ``hello``; returns the close code and reason."""
    limits = server.limits
    rate: int = hello["sample_rate"]
    loop = asyncio.get_running_loop()
    channel = Channel(ws, idle_timeout=limits.idle_timeout)
    recording = CallRecorder(conv.recorder, server.session_rate, rate, loop.time())
    output = RemotePlayoutOutput(server.session_rate, channel.send, remote_rate=rate,
                                 on_played=recording.agent)
    audio_in = QueueAudioInput(rate)
    agent, session, truth = await server.new_session()
    channel.send({"type": "ready", "session": conv.id, "sample_rate": rate,
                  "limits": limits.as_dict()})
    conv.log = SessionLog(session, lambda r: channel.send({"type": "event", **r}))
    channel.start(conv.id)
    messages = TokenBucket(limits.max_messages_per_second,
                           2 * limits.max_messages_per_second, loop.time())
    audio = TokenBucket(limits.audio_speed, limits.audio_burst, loop.time())
    await session.start(agent, audio_input=audio_in, audio_output=output)
    try:
        while True:
            try:
                message = await channel.receive()
            except ClientLeft:
                return CLOSE_GOING_AWAY, "client left"
            now = loop.time()
            if not messages.take(1, now):
                raise ProtocolError(CLOSE_POLICY, "too many messages a second")
            if isinstance(message, bytes):
                check_audio(message, limits)
                frame = AudioFrame.from_int16(np.frombuffer(message, "<i2"), rate)
                if not audio.take(frame.duration, now):
                    raise ProtocolError(CLOSE_POLICY, "audio arrives faster than real time")
                recording.user(frame)
                audio_in.push(frame)
                continue
            control = parse_control(message, limits)
            kind = control["type"]
            if kind == "hello":
                raise ProtocolError(CLOSE_POLICY, "hello was already sent")
            if kind == "bye":
                return CLOSE_NORMAL, "bye"
            if kind == "truth":
                _add_truth(truth, control["words"])
                continue
            output.report(kind, control["segment"], control["samples"])
    finally:
        server.release(conv)  # the slot is free the moment the client is gone
        output.close()
        audio_in.close()
        await session.aclose()
        await channel.aclose()  # queued messages go out before the close reason


def _add_truth(truth: Any, words: list[dict[str, Any]]) -> None:
    if truth is None:
        raise ProtocolError(CLOSE_POLICY, "truth needs a server run with --stt oracle")
    from bargein.providers.types import WordTiming

    truth.add([WordTiming(w["text"], float(w["start"]), float(w["end"])) for w in words])
