"""The Twilio Media Streams adapter against peers on loopback, in real time.

A minimal Media Streams agent (a WebSocket server written here against the protocol: it
greets with μ-law audio, and sends ``clear`` when the caller's audio gets loud) shows the
adapter's side of the protocol; bad peers show that every failure is one line naming the step,
within the wall-clock timeouts of live mode.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket

import numpy as np
import pytest

from bargein import scenario
from bargein.adapters.twilio import TwilioMediaStreamAdapter, TwilioProtocolError
from bargein.audio.mulaw import mulaw_decode, mulaw_encode
from bargein.sim import run_live

websockets = pytest.importorskip("websockets")
pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tone(seconds: float, rate: int = 8000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)


async def with_server(handler, body):  # type: ignore[no-untyped-def]
    from websockets.asyncio.server import serve

    port = free_port()
    async with serve(handler, "127.0.0.1", port):
        return await body(f"ws://127.0.0.1:{port}")


def test_mulaw_round_trip_keeps_speech_levels():
    samples = tone(0.1, 8000)
    decoded = mulaw_decode(mulaw_encode(samples))
    assert np.max(np.abs(decoded.astype(int) - samples)) < 400


def test_a_url_that_refuses_fails_the_connect_step_in_one_line():
    adapter = TwilioMediaStreamAdapter(f"ws://127.0.0.1:{free_port()}", connect_timeout=5)
    with pytest.raises(TwilioProtocolError) as info:
        scenario.run("refused", agent=adapter, script=[scenario.agent()], live=True)
    message = str(info.value)
    assert message.startswith("twilio: step connect:") and "\n" not in message


def test_garbage_after_start_fails_the_start_in_one_line():
    received: list[dict] = []

    async def garbage(ws):  # type: ignore[no-untyped-def]
        received.append(json.loads(await ws.recv()))
        received.append(json.loads(await ws.recv()))
        await ws.send("this is not json")
        await asyncio.sleep(1)

    async def body(url: str):  # type: ignore[no-untyped-def]
        adapter = TwilioMediaStreamAdapter(url, answer_timeout=5)
        return await scenario.arun("garbage", agent=adapter, script=[scenario.agent()])

    with pytest.raises(TwilioProtocolError) as info:
        run_live(with_server(garbage, body))
    connected, start = received
    assert connected["event"] == "connected" and "sequenceNumber" not in connected
    assert start["event"] == "start" and start["sequenceNumber"] == "1"  # as Twilio numbers
    assert str(info.value).startswith("twilio: step media: the agent sent something that is "
                                      "not Media Streams JSON")


def test_a_message_for_another_stream_is_refused_in_one_line():
    """Twilio takes the agent's messages only with the streamSid of its `start`."""

    async def wrong_stream(ws):  # type: ignore[no-untyped-def]
        await ws.recv()
        await ws.recv()
        payload = base64.b64encode(mulaw_encode(tone(0.02))).decode()
        await ws.send(json.dumps({"event": "media", "streamSid": "MZ" + "0" * 32,
                                  "media": {"payload": payload}}))
        await asyncio.sleep(1)

    async def body(url: str):  # type: ignore[no-untyped-def]
        adapter = TwilioMediaStreamAdapter(url, answer_timeout=5)
        return await scenario.arun("wrong stream", agent=adapter, script=[scenario.agent()])

    with pytest.raises(TwilioProtocolError) as info:
        run_live(with_server(wrong_stream, body))
    message = str(info.value)
    assert message.startswith("twilio: step media: the agent sent a media message for stream "
                              "'MZ000") and "not this call's 'MZ" in message
    assert "\n" not in message


def test_a_peer_that_never_answers_start_fails_within_the_timeout():
    async def silent(ws):  # type: ignore[no-untyped-def]
        await asyncio.sleep(10)

    async def body(url: str):  # type: ignore[no-untyped-def]
        adapter = TwilioMediaStreamAdapter(url, answer_timeout=1.0)
        return await scenario.arun("silent", agent=adapter, script=[scenario.agent()])

    with pytest.raises(TwilioProtocolError, match=r"^twilio: step start: .* sent nothing "
                                                  r"within 1 s of `start`"):
        run_live(with_server(silent, body))


def test_simulation_is_refused_with_the_way_out():
    adapter = TwilioMediaStreamAdapter("ws://127.0.0.1:9")
    with pytest.raises(TwilioProtocolError, match="live=True"):
        scenario.run("sim", agent=adapter, script=[scenario.agent()])


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="ws://"):
        TwilioMediaStreamAdapter("http://example.invalid")
    for bad in (0, -1, float("nan"), float("inf"), "3"):
        with pytest.raises(ValueError, match="connect_timeout"):
            TwilioMediaStreamAdapter("ws://127.0.0.1:9", connect_timeout=bad)  # type: ignore[arg-type]


def test_greeting_plays_and_the_agents_clear_stops_it_on_the_recording():
    """A protocol-level agent: greets with 3 s of tone (then a mark), and sends `clear` as
    soon as the caller's audio is loud. The recording shows the greeting stop and the mark."""
    events: list[str] = []

    async def agent(ws):  # type: ignore[no-untyped-def]
        start = json.loads(await ws.recv())
        assert start["event"] == "connected"
        start = json.loads(await ws.recv())
        sid = start["start"]["streamSid"]
        payload = mulaw_encode(tone(3.0))
        for i in range(0, len(payload), 160):
            await ws.send(json.dumps({"event": "media", "streamSid": sid, "media": {
                "payload": base64.b64encode(payload[i:i + 160]).decode()}}))
        await ws.send(json.dumps({"event": "mark", "streamSid": sid,
                                  "mark": {"name": "greeting"}}))
        async for raw in ws:
            message = json.loads(raw)
            events.append(message["event"])
            if message["event"] == "media":
                loud = np.abs(mulaw_decode(base64.b64decode(message["media"]["payload"])))
                if loud.max() > 2000 and "cleared" not in events:
                    events.append("cleared")
                    await ws.send(json.dumps({"event": "clear", "streamSid": sid}))

    async def body(url: str):  # type: ignore[no-untyped-def]
        adapter = TwilioMediaStreamAdapter(url, answer_timeout=10)
        return await scenario.arun("clear", agent=adapter, script=[
            scenario.interrupt("Sorry, wait a second.", after=1.0), scenario.sleep(1.0)])

    result = run_live(with_server(agent, body))
    [stop] = result.metrics.stop_latency
    print(f"\nstop latency {stop:.3f} s (agent's clear on the caller's first loud frame)")
    assert result.timeline.of("agent_interrupted")[0].data["reason"] == "clear"
    assert 0.0 < stop < 1.0  # generous: a loaded machine delays the socket, not the recording
    agent_lane = result.recording.stereo[:, 1]
    rate = result.recording.sample_rate
    barge = result.utterances[0]
    after = agent_lane[round((barge.onset + stop + 0.05) * rate):round(barge.end * rate)]
    assert np.abs(after).max() < 64  # silent after the clear
    assert events.count("mark") == 1  # the pending mark was answered at the clear
    assert "stop" in events

