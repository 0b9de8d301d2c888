"""``bargein serve``: a browser barges in through a fake microphone, 20 concurrent callers
barge in while both cores are busy with other work, and malformed frames close only their
own connection.

The server runs as a subprocess (``python -m bargein.cli serve``) on loopback, port 0. The
browser test needs Debian's Chromium (``apt-get install -y chromium``): skipped without it
locally, failed when the environment variable CI is set.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from bargein.audio import AudioFrame, concat, write_wav
from bargein.live.caller import ScriptedCaller

pytestmark = pytest.mark.integration

websockets = pytest.importorskip("websockets")
from websockets.asyncio.client import connect  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
AGENT_FILE = ROOT / "examples" / "agents" / "interrupt_user.py"
BARGE_IN = "What are your business hours?"
REPLY_START = "our support team is available"  # the rule-based answer to business hours
USER_RGB = (15, 118, 110)
AGENT_RGB = (67, 56, 202)
RED_RGB = (220, 38, 38)
RATE = 16000
FRAME = 320  # 20 ms


# -- the server ---------------------------------------------------------------------------------


def default_sigint() -> None:
    """In the server's process: Ctrl+C works even when pytest itself runs with SIGINT
    ignored (a background job), which the child would otherwise inherit."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Server:
    """``bargein serve AGENT --port 0 ARGS`` in a subprocess; ``url`` and ``port`` once it
    listens (within ``start_within`` s); :meth:`stop` waits ``stop_within`` s for it."""

    def __init__(self, *args: str, agent: Path = AGENT_FILE, start_within: float = 90.0,
                 stop_within: float = 15.0) -> None:
        cmd = [sys.executable, "-m", "bargein.cli", "serve", str(agent), "--port", "0", *args]
        env = {**os.environ, "COLUMNS": "200"}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env=env, cwd=ROOT,
                                     preexec_fn=default_sigint)
        self.stop_within = stop_within
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()  # never let the pipe fill
        deadline = time.monotonic() + start_within
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                assert self.proc.poll() is None, "server died:\n" + "".join(self.output)
                continue
            found = re.search(r"on (http://127\.0\.0\.1:(\d+)/)", line)
            if found:
                self.url = found.group(1)
                self.port = int(found.group(2))
                return
        raise AssertionError("server did not start:\n" + "".join(self.output))

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put(line)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "ws"

    def sessions(self) -> list[dict]:
        with urllib.request.urlopen(self.url + "api/sessions", timeout=5) as r:
            return json.loads(r.read())["sessions"]

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=self.stop_within)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return -9


@pytest.fixture(scope="module")
def oracle_server():
    server = Server("--stt", "oracle")
    yield server
    assert server.stop() == 0, "".join(server.output[-30:])


@pytest.fixture(scope="module")
def speech():
    from bargein.providers.espeak_tts import EspeakTTS

    return asyncio.run(EspeakTTS(voice="en-us+m3").synthesize(BARGE_IN))


@pytest.fixture(scope="module")
def phrase(speech) -> np.ndarray:
    return speech.audio.to_int16()


def named(events: list[dict], name: str) -> list[dict]:
    return [e for e in events if e["event"] == name]


def check_barge_in(events: list[dict]) -> dict:
    """The conversation's barge-in, checked: the user's speech began while speech 1 played,
    speech 1 stopped early with only what was heard, the final transcript is the user's
    question, and the agent's next speech answers it. Returns the interruption record."""
    cuts = [e for e in named(events, "agent_interrupted") if e["reason"] == "barge_in"]
    assert len(cuts) == 1, cuts
    cut = cuts[0]
    assert cut["speech"] == 1
    first_words = named(events, "agent_words_heard")[0]
    onsets = [e["t"] for e in named(events, "user_state_changed") if e["new"] == "speaking"]
    assert onsets and first_words["t"] < onsets[0] < cut["t"], (onsets, cut)
    done = next(e for e in named(events, "speech_done") if e["speech"] == 1)
    assert done["interrupted"]
    assert done["text"].startswith(done["heard_text"]) and done["heard_text"] != done["text"]
    finals = [e["transcript"] for e in named(events, "user_input_transcribed") if e["is_final"]]
    assert finals and "business hours" in finals[0].lower(), finals
    reply = " ".join(w for e in named(events, "agent_words_heard") if e["speech"] == 2
                     for w in e["words"])
    assert REPLY_START in reply.lower().replace(",", ""), reply
    return cut


# -- malformed input --------------------------------------------------------------------------

HELLO = json.dumps({"type": "hello", "protocol": 1, "sample_rate": RATE})


def _malformed(kind: str, rng: random.Random) -> tuple[bool, list[bytes | str]]:
    """(send a valid hello first?, the messages) for one kind of bad client."""
    noise = bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 400)))
    return {
        "odd_bytes": (True, [noise + b"\x00" if len(noise) % 2 == 0 else noise]),
        "empty_binary": (True, [b""]),
        "oversized_audio": (True, [bytes(20000)]),
        "over_max_size": (True, [bytes(300_000)]),
        "bad_json": (True, ["{not json" + noise.hex()[:50]]),
        "json_not_object": (True, ["[1, 2, 3]"]),
        "deep_json": (True, ["[" * 900 + "]" * 900]),
        "unknown_type": (True, [json.dumps({"type": "launch_missiles"})]),
        "bad_report": (True, [json.dumps({"type": "played", "segment": "x", "samples": -1})]),
        "second_hello": (True, [HELLO]),
        "audio_flood": (True, [bytes(16000)] * 60),  # 30 s of audio at once
        "binary_first": (False, [bytes(640)]),
        "bad_hello": (False, [json.dumps({"type": "hello", "sample_rate": 12345})]),
        "text_garbage": (False, [noise.decode("latin-1")]),
        "bad_truth": (True, [json.dumps({"type": "truth", "words": [{"text": "x"}]})]),
    }[kind]


FUZZ_KINDS = ("odd_bytes", "empty_binary", "oversized_audio", "over_max_size", "bad_json",
              "json_not_object", "deep_json", "unknown_type", "bad_report", "second_hello",
              "audio_flood", "binary_first", "bad_hello", "text_garbage", "bad_truth")


async def bad_client(url: str, kind: str, rng: random.Random) -> tuple[int, str]:
    """Connect, misbehave, and return the server's close code and reason."""
    hello, messages = _malformed(kind, rng)
    async with connect(url, max_size=2**20) as ws:

        async def read() -> None:  # like a browser: keep reading while sending
            with contextlib.suppress(ConnectionClosed):
                async for _ in ws:
                    pass

        reader = asyncio.create_task(read())
        try:
            if hello:
                await ws.send(HELLO)
            for m in messages:
                await ws.send(m)
        except ConnectionClosed:
            pass
        try:
            async with asyncio.timeout(10):
                await reader
        except TimeoutError:
            return 0, f"no close within 10 s (after {kind})"
        return ws.close_code or 0, ws.close_reason or ""


async def fuzz(url: str, *, rounds: int, seconds: float, seed: int = 7) -> list[tuple]:
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    results = []
    for i in range(rounds):
        if loop.time() > deadline:
            break
        kind = FUZZ_KINDS[i % len(FUZZ_KINDS)] if i < len(FUZZ_KINDS) else rng.choice(FUZZ_KINDS)
        results.append((kind, *await bad_client(url, kind, rng)))
    return results


# -- tests ------------------------------------------------------------------------------------


def test_each_kind_of_malformed_message_closes_with_a_clear_reason(oracle_server):
    expected = {
        "odd_bytes": (1007, "PCM16"), "empty_binary": (1007, "PCM16"),
        "oversized_audio": (1009, "over 16384 bytes"), "over_max_size": (1009, ""),
        "bad_json": (1007, "invalid JSON"), "json_not_object": (1007, "object with a type"),
        "deep_json": (1007, ""), "unknown_type": (1008, "unknown message type"),
        "bad_report": (1007, "segment must be"), "second_hello": (1008, "already"),
        "audio_flood": (1008, "faster than real time"), "binary_first": (1008, "hello"),
        "bad_hello": (1007, "sample_rate"), "text_garbage": (1007, ""),
        "bad_truth": (1007, "truth: words"),
    }

    async def main():
        rng = random.Random(1)
        return {k: await bad_client(oracle_server.ws_url, k, rng) for k in FUZZ_KINDS}

    got = asyncio.run(main())
    for kind, (code, words) in expected.items():
        assert got[kind][0] == code, (kind, got[kind])
        assert words in got[kind][1], (kind, got[kind])
        if kind != "over_max_size":
            assert got[kind][1], f"{kind}: no close reason"


@contextlib.contextmanager
def cpu_hog():
    """One busy-looping process per core for the duration (a loaded CI machine)."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(os.cpu_count() or 2)]
    try:
        yield
    finally:
        for proc in hogs:
            proc.kill()
            proc.wait()


def test_twenty_concurrent_callers_on_a_loaded_machine_get_served_or_a_clear_busy(
        oracle_server, phrase, speech):
    """20 scripted callers, started 0.5 s apart, each talk over the greeting 1 s into it
    (real time, 20 ms frames), while a busy-looping process runs on every core and one more
    client keeps connecting and sending malformed frames.

    Admission control decides how many of them the loaded machine can play in real time:
    every caller must either be refused at once with a clear "busy" (1013), or hold a whole
    conversation in which the real Silero VAD heard the barge-in, the greeting stopped with
    only what was heard, and the question was answered. Nobody is dropped midway, nobody
    times out, and at least a handful are served.

    Recognition is the oracle (the server runs ``--stt oracle``; each caller sends the words
    its audio says as a ``truth`` message): 20 real recognizers do not run in real time on 2
    cores next to 20 Silero VADs. The browser test below uses real recognition."""
    n = 20

    async def one(i: int) -> ScriptedCaller:
        await asyncio.sleep(0.5 * i)
        caller = ScriptedCaller(oracle_server.ws_url, phrase, barge_after=1.0,
                                words=speech.words)
        await caller.run(limit=90, ping_timeout=60)
        return caller

    async def main():
        fuzzer = asyncio.create_task(fuzz(oracle_server.ws_url, rounds=60, seconds=25))
        callers = await asyncio.gather(*(one(i) for i in range(n)))
        return callers, await fuzzer

    started = time.monotonic()
    with cpu_hog():
        callers, fuzzed = asyncio.run(main())
    wall = time.monotonic() - started
    served, busy, latencies = [], [], []
    for i, c in enumerate(callers):
        if c.close is not None:
            code, reason = c.close
            assert code == 1013 and reason.startswith("server busy") and not c.events, \
                f"caller {i} was closed: {c.close}"
            busy.append(i)
            continue
        cut = check_barge_in(c.events)
        onset = next(e["t"] for e in named(c.events, "user_state_changed")
                     if e["new"] == "speaking")
        latencies.append(cut["t"] - onset)
        served.append(i)
    assert len(served) >= 3, f"only {len(served)} of {n} callers were served"
    assert len(fuzzed) >= len(FUZZ_KINDS)
    for kind, code, reason in fuzzed:
        assert code in (1007, 1008, 1009, 1013), (kind, code, reason)
    # the server's own log agrees: one barge-in in each conversation it served
    logs = [s for s in oracle_server.sessions()
            if any(e["event"] == "speech_done" for e in s["events"])
            and named(s["events"], "agent_interrupted")]
    assert len(logs) >= len(served)
    latencies.sort()
    print(f"\n{n} callers under a CPU hog in {wall:.1f} s: {len(served)} served, "
          f"{len(busy)} told busy; barge-in decided {latencies[0]:.2f}-{latencies[-1]:.2f} s "
          f"after the onset (median {latencies[len(latencies) // 2]:.2f}); "
          f"{len(fuzzed)} malformed connections closed")


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    message = "Chromium is not installed (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


async def _cdp(port: int, method: str, params: dict | None = None) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
        page = next(t for t in json.loads(r.read()) if t["type"] == "page")
    async with connect(page["webSocketDebuggerUrl"], max_size=2**26) as ws:
        await ws.send(json.dumps({"id": 1, "method": method, "params": params or {}}))
        async for message in ws:
            reply = json.loads(message)
            if reply.get("id") == 1:
                return reply["result"]
    raise AssertionError("no DevTools reply")


def test_browser_fake_microphone_barges_in_and_the_timeline_shows_both(tmp_path, phrase):
    chromium = _chromium()
    sys.path.insert(0, str(Path(__file__).parent))
    from test_report import read_png

    mic = tmp_path / "mic.wav"  # 4 s of silence, the question, then silence (Chromium loops it)
    write_wav(mic, concat([AudioFrame.silence(4.0, RATE), AudioFrame.from_int16(phrase, RATE),
                           AudioFrame.silence(40.0, RATE)]), RATE)
    server = Server("--stt", "local")
    profile = tmp_path / "profile"
    browser = subprocess.Popen([
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--hide-scrollbars", "--window-size=1280,900",
        f"--user-data-dir={profile}", "--remote-debugging-port=0",
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-audio-capture={mic}", "--autoplay-policy=no-user-gesture-required",
        server.url + "?autostart=1",
    ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        events: list[dict] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            sessions = server.sessions()
            events = sessions[0]["events"] if sessions else []
            if any(e["event"] == "agent_words_heard" and e["speech"] == 2
                   and "available" in e["words"] for e in events):
                break  # "...our support team is available": the agent answers
            time.sleep(0.5)
        cut = check_barge_in(events)
        port_file = profile / "DevToolsActivePort"
        port = int(port_file.read_text().split()[0])
        page_barge_ins = asyncio.run(_cdp(port, "Runtime.evaluate", {
            "expression": "window.bargein.bargeIns.length", "returnByValue": True}))
        shot = asyncio.run(_cdp(port, "Page.captureScreenshot", {"format": "png"}))
    finally:
        browser.terminate()
        browser.wait(timeout=10)
        code = server.stop()
    assert code == 0
    assert page_barge_ins["result"]["value"] == 1
    png = tmp_path / "serve.png"
    png.write_bytes(base64.b64decode(shot["data"]))
    if os.environ.get("BARGEIN_SAVE_SCREENSHOT"):
        shutil.copy(png, os.environ["BARGEIN_SAVE_SCREENSHOT"])
    img = read_png(png)
    print(f"\nbarge-in at {cut['t']:.2f} s, heard: {cut['heard_text']!r}; screenshot {png}")

    def near(rgb, tol=12):
        return (np.abs(img.astype(np.int16) - np.array(rgb, np.int16)) <= tol).all(axis=2)

    user, agent, red = near(USER_RGB), near(AGENT_RGB), near(RED_RGB, 20)
    assert user.sum() > 1500, f"user lane pixels: {user.sum()}"
    assert agent.sum() > 3000, f"agent lane pixels: {agent.sum()}"
    assert red.sum() > 100, f"barge-in mark pixels: {red.sum()}"
    # the user's lane is drawn above the agent's; the barge-in mark sits where the agent's
    # first span ends
    user_rows = np.flatnonzero(user.sum(axis=1) > 20)
    agent_rows = np.flatnonzero(agent.sum(axis=1) > 20)
    assert user_rows.mean() < agent_rows.mean()


def test_token_and_origin_are_checked_before_the_websocket_opens():
    from websockets.exceptions import InvalidStatus

    from bargein.errors import BargeinError
    from bargein.live.agent_file import load_agent_file
    from bargein.live.server import LiveServer

    spec = load_agent_file(AGENT_FILE)
    with pytest.raises(BargeinError, match="token"):
        LiveServer(spec, host="0.0.0.0", token="")

    def no_providers():
        raise AssertionError("no session may start in this test")

    async def main():
        server = LiveServer(spec, port=0, token="s3cret", providers=no_providers)
        await server.start()
        base = f"127.0.0.1:{server.port}"
        try:
            def status(path: str) -> int:
                try:
                    with urllib.request.urlopen(f"http://{base}{path}", timeout=5) as r:
                        return r.status
                except urllib.error.HTTPError as exc:
                    return exc.code

            loop = asyncio.get_running_loop()
            assert await loop.run_in_executor(None, status, "/api/sessions") == 401
            assert await loop.run_in_executor(None, status, "/api/sessions?token=s3cret") == 200
            assert await loop.run_in_executor(None, status, "/") == 200  # the page itself
            for url, headers, code in [
                (f"ws://{base}/ws", {}, 401),
                (f"ws://{base}/ws?token=wrong", {}, 401),
                (f"ws://{base}/ws?token=s3cret", {"Origin": "http://evil.example"}, 403),
            ]:
                with pytest.raises(InvalidStatus) as info:
                    async with connect(url, additional_headers=headers):
                        pass
                assert info.value.response.status_code == code
            async with connect(f"ws://{base}/ws?token=s3cret",
                               additional_headers={"Origin": f"http://{base}"}) as ws:
                await ws.send(json.dumps({"type": "hello", "sample_rate": 12345}))
                with contextlib.suppress(ConnectionClosed):
                    await ws.recv()
            assert ws.close_code == 1007
        finally:
            await server.aclose()

    asyncio.run(main())
