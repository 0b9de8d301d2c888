"""The Twilio Media Streams adapter against peers on loopback, in real time.

A minimal Media Streams agent (a WebSocket server written here against the protocol: it
greets with μ-law audio, and sends ``clear`` when the caller's audio gets loud) shows the
adapter's side of the protocol; bad peers show that every failure is one line naming the step,
within the wall-clock timeouts of live mode. Then the proof against software no one here
wrote: a Pipecat bot served by Pipecat's WebSocket server transport and Pipecat's
``TwilioFrameSerializer`` (``examples/pipecat/twilio_bot.py``), called by bargein scenarios.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import socket
import subprocess
import sys
from pathlib import Path

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
        return await scenario.arun("garbage", agent=adapter, live=True,
                                   script=[scenario.agent()])

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
        return await scenario.arun("wrong stream", agent=adapter, live=True,
                                   script=[scenario.agent()])

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
        return await scenario.arun("silent", agent=adapter, live=True,
                                   script=[scenario.agent()])

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
        return await scenario.arun("clear", agent=adapter, live=True, script=[
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


# -- against software no one here wrote: a Pipecat bot behind Pipecat's own Twilio serializer --

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "pipecat"


def example(name: str):  # type: ignore[no-untyped-def]
    """``examples/pipecat/<name>.py``, under its own module name."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))  # for the examples' _pipeline module
    spec = importlib.util.spec_from_file_location(f"pipecat_example_{name}",
                                                  EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def audible_seconds(text: str, voice: str) -> float:
    """First to last audible sample of espeak-ng saying ``text`` (the bot's TTS)."""
    from bargein.audio.frame import concat
    from bargein.providers.espeak_tts import EspeakTTS

    async def synthesize() -> np.ndarray:
        tts = EspeakTTS(voice=voice, sample_rate=16000)
        return concat([chunk.frame async for chunk in tts.stream(text)]).to_int16()

    loud = np.flatnonzero(np.abs(asyncio.run(synthesize()).astype(np.int32)) >= 64)
    return float(loud[-1] - loud[0]) / 16000


def quiet(result, start: float, end: float) -> bool:  # type: ignore[no-untyped-def]
    """The agent lane is silent on the recording between ``start`` and ``end``."""
    rate = result.recording.sample_rate
    lane = result.recording.stereo[round(start * rate):round(end * rate), 1]
    return not lane.size or int(np.abs(lane.astype(np.int32)).max()) < 64


@pytest.mark.skipif(importlib.util.find_spec("pipecat") is None,
                    reason="pipecat-ai is not installed (pip install 'bargein[pipecat]')")
def test_a_pipecat_phone_bot_over_its_own_twilio_serializer(tmp_path):
    """The bot (``examples/pipecat/twilio_bot.py``, its own process) is Pipecat's WebSocket
    server transport with Pipecat's TwilioFrameSerializer; bargein plays Twilio. One real-time
    call: the caller talks over the greeting (it plays to its end), barges in on an answer
    (the bot's `clear` stops it) and says "Uh-huh, yeah." over the next (Pipecat's default
    takes any voice for a new turn). Every check is on the recording."""
    caller, bot = example("twilio_call"), example("twilio_bot")  # the bot runs apart
    log = tmp_path / "twilio_bot.log"

    async def call():  # type: ignore[no-untyped-def]
        with log.open("wb") as stderr:
            async with caller.running_bot(log=stderr) as url:
                adapter = TwilioMediaStreamAdapter(url, answer_timeout=30.0)
                result = await scenario.arun("phone call", agent=adapter, live=True,
                                             script=caller.call_script())
        return result, adapter

    result, adapter = run_live(call())
    bot_log = log.read_text(errors="replace")[-3000:]
    assert result.success, f"{result.reasoning}\n--- bot log (end) ---\n{bot_log}"
    over_greeting, question, barge_in, backchannel = result.utterances
    turns = list(zip([e.time for e in result.timeline.of("agent_started_speaking")],
                     [e.time for e in result.timeline.of("agent_stopped_speaking")],
                     strict=True))
    print("\nagent turns", [(round(a, 2), round(b, 2)) for a, b in turns],
          "\nclears", [round(t, 2) for t in adapter.clears],
          "\nutterances", [(u.text, round(u.onset, 2), round(u.end, 2))
                           for u in result.utterances])

    # 1. the greeting plays to its end over the caller, who gets no reply for it
    greeting = turns[0]
    assert greeting[0] < over_greeting.onset < over_greeting.end < greeting[1]
    # all of it: μ-law and the 10 ms analysis windows of the recording blur its edges
    assert greeting[1] - greeting[0] >= audible_seconds(bot.GREETING, bot.VOICE) - 0.15
    assert not [t for t in adapter.clears if t < question.onset]
    assert turns[1][0] > question.end  # the next thing the bot says answers the question

    # 2. the barge-in: the bot's `clear` stops the answer, measured on the recording
    [measure] = [m for m in result.metrics.interruptions if m.utterance == barge_in.index]
    assert [t for t in adapter.clears if barge_in.onset < t < barge_in.onset + 3.0]
    assert measure.yielded and 0.0 < measure.stop_latency < 3.0  # generous: a busy machine
    assert quiet(result, measure.stopped_at + 0.05, barge_in.end)  # nothing more of it
    print(f"stop latency {measure.stop_latency:.3f} s (Pipecat VAD start_secs 0.2 s + the "
          "bot's audio path on a shared machine)")

    # 3. the backchannel: Pipecat's default stops for it too (a false interruption)
    assert backchannel.backchannel
    assert [t for t in adapter.clears if t > backchannel.onset]
    assert result.metrics.false_interruption_rate == 1.0


def run_example(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=EXAMPLES.parents[1], text=True,
                          capture_output=True, timeout=120)


def test_the_call_example_names_a_bot_that_is_not_there_in_one_line():
    proc = run_example("examples/pipecat/twilio_call.py", "--url",
                       f"ws://127.0.0.1:{free_port()}")
    assert proc.returncode == 1
    assert proc.stderr.startswith("twilio_call: twilio: step connect:")
    assert proc.stderr.count("\n") == 1


@pytest.mark.skipif(importlib.util.find_spec("pipecat") is None,
                    reason="pipecat-ai is not installed (pip install 'bargein[pipecat]')")
def test_the_bot_example_names_a_port_it_cannot_take_in_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = run_example("examples/pipecat/twilio_bot.py", "--port", str(port))
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("twilio_bot:")]
    assert errors == [errors[0]] and f"cannot serve on 127.0.0.1:{port}" in errors[0]
    assert "Traceback" not in proc.stderr
