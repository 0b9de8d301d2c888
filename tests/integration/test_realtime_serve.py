"""``bargein serve --protocol realtime`` driven by software no one here wrote: the official
``openai`` SDK's realtime client, on loopback, with the real offline stack behind the server
(Silero VAD, pocketsphinx + Whisper, espeak-ng).

The caller speaks over the greeting (a VAD barge-in), truncates the greeting to what it
played, then cancels the answer with ``response.cancel`` (the native barge-in). Every event
either side sends is validated against the SDK's own pydantic models.
"""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.integration

openai = pytest.importorskip("openai")
pytest.importorskip("websockets")
from openai.types.realtime import RealtimeClientEvent, RealtimeServerEvent  # noqa: E402
from pydantic import TypeAdapter  # noqa: E402
from test_serve import Server  # noqa: E402

AGENT_FILE = Path(__file__).parent / "agents" / "support_agent.py"
TOKEN = "realtime-test-token"
RATE = 24000
TICK = 0.02
SERVER_EVENT = TypeAdapter(RealtimeServerEvent)
CLIENT_EVENT = TypeAdapter(RealtimeClientEvent)


class RealtimeServer(Server):
    """``bargein serve --protocol realtime`` in a subprocess."""

    def __init__(self, *args: str) -> None:
        # on stop, open sessions close first (a Whisper final in flight is slow on a busy
        # machine)
        super().__init__("--protocol", "realtime", "--token", TOKEN, *args, agent=AGENT_FILE,
                         start_within=120.0, stop_within=45.0)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


@pytest.fixture(scope="module")
def server():
    # admission control has its own tests (test_serve_limits.py): here a loaded machine must
    # not turn the protocol checks into "busy" refusals
    srv = RealtimeServer("--stt", "local", "--max-sessions", "8", "--busy-lag", "1000")
    yield srv
    assert srv.stop() == 0, "".join(srv.output[-40:])


@pytest.fixture(scope="module")
def question() -> np.ndarray:
    from bargein.providers.espeak_tts import EspeakTTS

    speech = asyncio.run(EspeakTTS(voice="en-us+m3", sample_rate=RATE).synthesize(
        "What are your business hours?"))
    return speech.audio.to_int16()


class SdkCaller:
    """An SDK realtime connection with a simulated microphone and speaker (real time)."""

    def __init__(self, conn, question: np.ndarray) -> None:
        self.conn = conn
        self.question = question
        self.received: list[dict] = []
        self.sent: list[dict] = []
        self.mic_at: int | None = None  # index in the question, None = silence
        self.audio: dict[str, float] = {}  # response id -> seconds received
        self.first_audio: dict[str, float] = {}  # response id -> wall time of first delta
        self.done: dict[str, dict] = {}

    async def send(self, event: dict) -> None:
        CLIENT_EVENT.validate_python(event)  # the SDK's own model of a client event
        self.sent.append(event)
        await self.conn.send(event)

    def played(self, response_id: str) -> float:
        """Seconds of that response a real-time speaker has played by now."""
        if response_id not in self.first_audio:
            return 0.0
        elapsed = asyncio.get_running_loop().time() - self.first_audio[response_id]
        return min(self.audio[response_id], elapsed)

    async def microphone(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        n = round(RATE * TICK)
        while True:
            next_at += TICK
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            frame = np.zeros(n, np.int16)
            if self.mic_at is not None:
                part = self.question[self.mic_at:self.mic_at + n]
                frame[:len(part)] = part
                self.mic_at = None if self.mic_at + n >= len(self.question) \
                    else self.mic_at + n
            await self.send({"type": "input_audio_buffer.append",
                             "audio": base64.b64encode(frame.astype("<i2").tobytes()).decode()})

    async def next_event(self) -> dict:
        raw = json.loads(await self.conn.recv_bytes())
        SERVER_EVENT.validate_python(raw)  # the SDK's own model of a server event
        self.received.append(raw)
        kind = raw["type"]
        loop = asyncio.get_running_loop()
        if kind == "response.output_audio.delta":
            rid = raw["response_id"]
            self.first_audio.setdefault(rid, loop.time())
            self.audio[rid] = self.audio.get(rid, 0.0) + len(
                base64.b64decode(raw["delta"])) / 2 / RATE
        elif kind == "response.done":
            self.done[raw["response"]["id"]] = raw
        return raw

    def named(self, kind: str) -> list[dict]:
        return [e for e in self.received if e["type"] == kind]


def test_the_openai_sdk_barges_in_by_voice_and_cancels_natively(server, question):
    async def main() -> SdkCaller:
        client = openai.AsyncOpenAI(api_key=TOKEN, base_url=server.base_url)
        async with client.realtime.connect(model="bargein") as conn:
            caller = SdkCaller(conn, question)
            assert (await caller.next_event())["type"] == "session.created"
            await caller.send({"type": "session.update", "session": {
                "type": "realtime", "output_modalities": ["audio"],
                "audio": {"input": {"format": {"type": "audio/pcm", "rate": RATE},
                                    "turn_detection": {"type": "server_vad"}},
                          "output": {"format": {"type": "audio/pcm", "rate": RATE}}}}})
            mic = asyncio.create_task(caller.microphone())
            responses: list[str] = []
            cancelled: list[str] = []  # the response the caller cancels
            try:
                async with asyncio.timeout(90):
                    while True:
                        event = await caller.next_event()
                        kind = event["type"]
                        if kind == "response.created":
                            responses.append(event["response"]["id"])
                        elif kind == "response.output_audio.delta" and len(responses) == 1 \
                                and caller.mic_at is None and caller.played(responses[0]) > 1.0 \
                                and not caller.named("input_audio_buffer.speech_started"):
                            caller.mic_at = 0  # talk over the greeting
                        elif kind == "response.done" and event["response"]["id"] == responses[0]:
                            item = event["response"]["output"][0]["id"]
                            await caller.send({
                                "type": "conversation.item.truncate", "item_id": item,
                                "content_index": 0,
                                "audio_end_ms": round(caller.played(responses[0]) * 1000)})
                        elif kind == "response.output_audio.delta" and not cancelled \
                                and event["response_id"] != responses[0] \
                                and caller.played(event["response_id"]) > 1.0:
                            cancelled.append(event["response_id"])  # heard 1 s of the answer
                            await caller.send({"type": "response.cancel"})
                        elif kind == "response.done" and cancelled \
                                and event["response"]["id"] == cancelled[0]:
                            break
                # an unsupported event is answered with an error; the connection stays open
                await caller.send({"type": "input_audio_buffer.commit"})
                final = "conversation.item.input_audio_transcription.completed"
                async with asyncio.timeout(30):  # the final may come late on a busy machine
                    while not caller.named("error") or not caller.named(final):
                        await caller.next_event()
            finally:
                mic.cancel()
                await asyncio.gather(mic, return_exceptions=True)
            return caller, responses[0], cancelled[0]

    caller, greeting_id, answer_id = asyncio.run(main())
    greeting, answer = caller.done[greeting_id]["response"], caller.done[answer_id]["response"]
    # the VAD barge-in: the server heard the caller, cut the greeting and says why
    assert caller.named("input_audio_buffer.speech_started")
    assert greeting["status"] == "cancelled"
    assert greeting["status_details"]["reason"] == "turn_detected"
    heard = greeting["output"][0]["content"][0]["transcript"]
    assert heard and heard.startswith("Hello"), heard
    truncated = caller.named("conversation.item.truncated")
    assert truncated and truncated[0]["item_id"] == greeting["output"][0]["id"]
    # the recognizer ran on what the caller said (its words vary with the machine's load)
    assert caller.named("conversation.item.input_audio_transcription.completed")
    # the native barge-in: response.cancel stopped the answer
    assert answer["status"] == "cancelled"
    assert answer["status_details"]["reason"] == "client_cancelled"
    said = answer["output"][0]["content"][0]["transcript"]
    assert said, "the caller heard a second of the answer before cancelling it"
    # the audio the caller received stops with each cut: nothing after response.done
    for rid in (greeting["id"], answer["id"]):
        done_at = next(i for i, e in enumerate(caller.received)
                       if e["type"] == "response.done" and e["response"]["id"] == rid)
        assert not any(e["type"] == "response.output_audio.delta" and e["response_id"] == rid
                       for e in caller.received[done_at:])
    error = caller.named("error")[0]["error"]
    assert error["code"] == "unsupported_event" and "commit" in error["message"]
    print(f"\nheard of the greeting: {heard!r}; of the answer: {said!r}; "
          f"{len(caller.received)} server events and {len(caller.sent)} client events, "
          "all valid SDK models")


def test_token_and_bad_input_on_the_realtime_endpoint(server):
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    url = f"ws://127.0.0.1:{server.port}/v1/realtime?model=x"
    auth = {"Authorization": f"Bearer {TOKEN}"}

    async def closed(ws) -> tuple[int, str]:
        try:
            async with asyncio.timeout(10):
                async for _ in ws:
                    pass
        except ConnectionClosed:
            pass
        return ws.close_code or 0, ws.close_reason or ""

    async def after_first(message) -> tuple[int, str]:
        async with connect(url, additional_headers=auth, max_size=2**20) as ws:
            await ws.recv()  # session.created
            await ws.send(message)
            return await closed(ws)

    async def main():
        client = openai.AsyncOpenAI(api_key="wrong", base_url=server.base_url)
        with pytest.raises(Exception) as info:
            async with client.realtime.connect(model="bargein") as conn:
                await conn.recv()
        assert "401" in str(info.value) or isinstance(info.value, InvalidStatus)
        results = {
            "not json": await after_first("{nope"),
            "binary": await after_first(b"\x00\x01"),
            "no type": await after_first(json.dumps({"audio": "AAAA"})),
            "too big": await after_first(json.dumps({"type": "input_audio_buffer.append",
                                                     "audio": "A" * 70000})),
        }
        async with connect(url, additional_headers=auth) as ws:  # stays open after errors
            await ws.recv()
            for event in ({"type": "launch.missiles"},
                          {"type": "input_audio_buffer.append", "audio": "not base64!"},
                          {"type": "conversation.item.truncate", "item_id": "nope",
                           "content_index": 0, "audio_end_ms": 5},
                          {"type": "session.update", "session": {"type": "realtime",
                           "audio": {"input": {"format": {"type": "audio/pcmu"}}}}},
                          {"type": "response.cancel"}):
                await ws.send(json.dumps(event))
            codes = []
            async with asyncio.timeout(10):
                while len(codes) < 5:
                    event = json.loads(await ws.recv())
                    if event["type"] == "error":
                        SERVER_EVENT.validate_python(event)
                        codes.append(event["error"]["code"])
            assert ws.close_code is None
        return results, codes

    results, codes = asyncio.run(main())
    assert results["not json"] == (1007, "invalid JSON")
    assert results["binary"][0] == 1007 and "binary" in results["binary"][1]
    assert results["no type"][0] == 1007
    assert results["too big"][0] == 1009
    assert codes == ["unknown_event", "invalid_value", "item_not_found", "unsupported_format",
                     "response_cancel_not_active"]


# -- bargein's own Realtime adapter against the same server -------------------------------------

BARGE_IN = "What are your business hours?"


def _realtime_scenario(server, name: str, mode: str):
    from bargein import scenario
    from bargein.adapters.realtime import RealtimeAdapter

    adapter = RealtimeAdapter(f"ws://127.0.0.1:{server.port}/v1/realtime", api_key=TOKEN)
    result = scenario.run(name, agent=adapter, live=True, max_duration=60, script=[
        scenario.interrupt(BARGE_IN, after=1.5, mode=mode), scenario.agent()])
    return result, adapter


def _greeting_cut(result, adapter):
    """The greeting's interruption, checked on the recording and in the adapter's events."""
    barge_in = result.utterances[0]
    stop = result.metrics.stop_latency[0]
    greeting = result.recording.segments[0]
    assert greeting.party == "agent" and greeting.start < barge_in.onset < greeting.end
    cut = [e for e in result.timeline.of("agent_message") if e.data["interrupted"]]
    assert cut and cut[0].data["text"].startswith("Hello")
    truncates = [e for e in adapter.sent if e["type"] == "conversation.item.truncate"]
    assert truncates and 1000 <= truncates[0]["audio_end_ms"] <= 10000
    return stop


def test_realtime_adapter_native_barge_in_measured_on_the_recording(server):
    result, adapter = _realtime_scenario(server, "realtime native barge-in", "native")
    stop = _greeting_cut(result, adapter)
    assert any(e["type"] == "response.cancel" for e in adapter.sent)
    [interrupted] = [e for e in result.timeline.of("agent_interrupted")][:1]
    assert interrupted.data["reason"] == "forced"
    # the cancel goes out with the user's first sample: the agent falls silent at once
    assert 0 <= stop <= 0.3, stop
    print(f"\nnative barge-in: agent silent {stop * 1000:.0f} ms after the user's onset")


def test_realtime_adapter_vad_barge_in_measured_on_the_recording(server):
    result, adapter = _realtime_scenario(server, "realtime vad barge-in", "vad")
    stop = _greeting_cut(result, adapter)
    assert not any(e["type"] == "response.cancel" for e in adapter.sent)
    [interrupted] = [e for e in result.timeline.of("agent_interrupted")][:1]
    assert interrupted.data["reason"] == "barge_in"
    # the server's own VAD decides: min_duration (0.5 s) of voice, then the stop
    assert 0.45 <= stop <= 1.2, stop
    print(f"\nVAD barge-in: agent silent {stop * 1000:.0f} ms after the user's onset")
