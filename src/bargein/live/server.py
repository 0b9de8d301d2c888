"""``bargein serve``: the agent over WebSocket, and a web page to talk to it.

One WebSocket connection is one conversation with its own :class:`~bargein.agent.AgentSession`
(built from the agent file like ``bargein console``). The page (``static/``) captures the
microphone with an AudioWorklet, plays the agent's audio, reports its playout back (so the
session's truncation follows the browser's speaker) and draws a live timeline. The wire
protocol is described in :mod:`bargein.live.protocol`.

HTTP routes on the same port:

- ``/`` (and ``/app.js``, ``/worklet.js``): the page;
- ``/ws``: the WebSocket;
- ``/api/sessions``: every session's event records as JSON (recent closed ones too), for
  tests and tools.

Security: the server binds 127.0.0.1 by default. Binding anywhere else needs a token
(``--token`` or ``BARGEIN_TOKEN``), checked on ``/ws`` and ``/api/sessions`` (query
``?token=`` or ``Authorization: Bearer``). A browser ``Origin`` other than the server's own
host is refused. Each connection has size and rate limits (:class:`~bargein.live.protocol.
Limits`); a client that breaks them is closed with a reason, and only that client.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import itertools
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

from bargein.audio.frame import AudioFrame
from bargein.audio.recorder import StereoRecorder
from bargein.audio.resample import StreamResampler
from bargein.errors import BargeinError
from bargein.io import QueueAudioInput, RemotePlayoutOutput
from bargein.live.agent_file import (
    AgentSpec,
    LiveProviders,
    live_providers,
    make_stt,
    warm_up,
)
from bargein.live.events import SessionLog
from bargein.live.protocol import (
    CLOSE_GOING_AWAY,
    CLOSE_NORMAL,
    CLOSE_POLICY,
    CLOSE_SERVER_ERROR,
    CLOSE_TRY_AGAIN,
    Limits,
    ProtocolError,
    TokenBucket,
    check_audio,
    parse_control,
)

_log = logging.getLogger("bargein.live")

SESSION_RATE = 16000
TOKEN_ENV = "BARGEIN_TOKEN"
#: Closed sessions kept for ``/api/sessions``.
KEEP_CLOSED = 100
#: Outgoing messages a slow client may leave unread before it is dropped.
MAX_OUTBOX = 5000
_STATIC = {"/": ("index.html", "text/html; charset=utf-8"),
           "/index.html": ("index.html", "text/html; charset=utf-8"),
           "/app.js": ("app.js", "text/javascript; charset=utf-8"),
           "/worklet.js": ("worklet.js", "text/javascript; charset=utf-8")}


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Conversation:
    """One connection's session, its event records and (optionally) its recording."""

    def __init__(self, ident: str, remote: str) -> None:
        self.id = ident
        self.remote = remote
        self.open = True
        self.close_code: int | None = None
        self.close_reason = ""
        self.log: SessionLog | None = None
        self.recorder = StereoRecorder(SESSION_RATE, ("user", "agent"))

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "open": self.open, "close_code": self.close_code,
                "close_reason": self.close_reason,
                "events": list(self.log.records) if self.log else []}


class LiveServer:
    """The server behind ``bargein serve`` (see the module docstring).

    ``providers`` builds the providers of each new session; by default the heavy ones (VAD,
    STT, TTS models) are loaded once and shared, and each session gets its own LLM.
    """

    def __init__(self, spec: AgentSpec, *, host: str = "127.0.0.1", port: int = 8765,
                 token: str | None = None, stt: str = "local", limits: Limits | None = None,
                 max_sessions: int = 32, record_dir: str | Path | None = None,
                 providers: Callable[[], LiveProviders] | None = None) -> None:
        token = token if token is not None else os.environ.get(TOKEN_ENV) or None
        if not is_loopback(host) and not token:
            raise BargeinError(
                f"binding {host} exposes the agent beyond this machine: give a token with "
                f"--token or the environment variable {TOKEN_ENV}")
        self.spec = spec
        self.host, self.port = host, port
        self.token = token
        self.stt = stt
        self.limits = limits or Limits()
        self.max_sessions = max_sessions
        self.record_dir = Path(record_dir) if record_dir is not None else None
        self._providers = providers
        self._shared: LiveProviders | None = None
        self.conversations: OrderedDict[str, Conversation] = OrderedDict()
        self._ids = itertools.count(1)
        self._server: Any = None

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the models and start listening (``self.port`` is the bound port)."""
        from bargein._extras import require

        require("websockets", extra="live", feature="bargein serve")
        from websockets.asyncio.server import serve

        if self._providers is None:
            from bargein.providers.oracle_stt import GroundTruth

            # with --stt oracle each session gets its own oracle; this one is never used
            self._shared = live_providers(self.spec, stt=self.stt, truth=GroundTruth())
            await warm_up(self._shared)
        self._server = await serve(
            self._handle, self.host, self.port, process_request=self._http,
            max_size=max(self.limits.max_audio_bytes, self.limits.max_text_bytes) * 4,
            max_queue=64, ping_interval=20, ping_timeout=20, close_timeout=3)
        sock = next(iter(self._server.sockets))
        self.port = sock.getsockname()[1]

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = f"?token={self.token}" if self.token else ""
        return f"http://{host}:{self.port}/{query}"

    async def serve_forever(self) -> None:
        await self._server.serve_forever()

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def new_providers(self) -> LiveProviders:
        if self._providers is not None:
            return self._providers()
        assert self._shared is not None
        shared = self._shared
        return LiveProviders(vad=shared.vad, stt=shared.stt, llm=self.spec.llm(),
                             tts=shared.tts)

    # -- HTTP ------------------------------------------------------------------------------

    def _authorized(self, request: Any) -> bool:
        if not self.token:
            return True
        given = parse_qs(urlsplit(request.path).query).get("token", [""])[0]
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            given = auth[7:]
        return hmac.compare_digest(given.encode(), self.token.encode())

    def _http(self, connection: Any, request: Any) -> Any:
        path = urlsplit(request.path).path
        if path == "/ws":
            if not self._authorized(request):
                return connection.respond(401, "a valid token is required\n")
            origin = request.headers.get("Origin")
            if origin is not None and urlsplit(origin).netloc != request.headers.get("Host"):
                return connection.respond(403, "cross-origin WebSocket refused\n")
            return None
        if path == "/api/sessions":
            if not self._authorized(request):
                return connection.respond(401, "a valid token is required\n")
            body = json.dumps({"sessions": [c.summary() for c in self.conversations.values()]})
            return _response(200, body.encode(), "application/json")
        if path in _STATIC:
            name, kind = _STATIC[path]
            data = resources.files("bargein.live").joinpath("static", name).read_bytes()
            return _response(200, data, kind)
        return connection.respond(404, "not found\n")

    # -- one conversation ------------------------------------------------------------------

    async def _handle(self, ws: Any) -> None:
        open_now = sum(c.open for c in self.conversations.values())
        if open_now >= self.max_sessions:
            await ws.close(CLOSE_TRY_AGAIN, f"server busy: {self.max_sessions} sessions")
            return
        conv = Conversation(f"s{next(self._ids)}", str(ws.remote_address))
        self.conversations[conv.id] = conv
        self._forget_old()
        try:
            code, reason = await self._converse(ws, conv)
        except ProtocolError as exc:
            code, reason = exc.code, exc.reason
        except Exception as exc:  # a bug or a provider failure: only this session ends
            _log.exception("session %s failed", conv.id)
            code, reason = CLOSE_SERVER_ERROR, f"server error: {type(exc).__name__}"
        conv.open = False
        conv.close_code, conv.close_reason = code, reason
        with contextlib.suppress(Exception):
            await ws.close(code, reason)
        if self.record_dir is not None and conv.recorder.num_samples:
            self.record_dir.mkdir(parents=True, exist_ok=True)
            conv.recorder.write(self.record_dir / f"{conv.id}.wav")

    def _forget_old(self) -> None:
        closed = [k for k, c in self.conversations.items() if not c.open]
        for key in closed[:max(0, len(closed) - KEEP_CLOSED)]:
            del self.conversations[key]

    async def _converse(self, ws: Any, conv: Conversation) -> tuple[int, str]:
        from websockets.exceptions import ConnectionClosed

        limits = self.limits
        try:
            first = await asyncio.wait_for(ws.recv(), limits.hello_timeout)
        except TimeoutError:
            raise ProtocolError(CLOSE_POLICY, "no hello message in time") from None
        except ConnectionClosed:
            return CLOSE_GOING_AWAY, "client left"
        if not isinstance(first, str):
            raise ProtocolError(CLOSE_POLICY, "the first message must be a JSON hello")
        hello = parse_control(first, limits)
        if hello["type"] != "hello":
            raise ProtocolError(CLOSE_POLICY, "the first message must be a JSON hello")
        rate: int = hello["sample_rate"]

        loop = asyncio.get_running_loop()
        outbox: asyncio.Queue[bytes | dict[str, Any]] = asyncio.Queue()
        overflow = asyncio.Event()

        def send(message: bytes | dict[str, Any]) -> None:
            if outbox.qsize() >= MAX_OUTBOX:
                overflow.set()
                return
            outbox.put_nowait(message)

        async def writer() -> None:
            while True:
                message = await outbox.get()
                await ws.send(message if isinstance(message, bytes) else json.dumps(message))

        t0 = loop.time()
        user_rs = None if rate == SESSION_RATE else StreamResampler(rate, SESSION_RATE)
        user_at: int | None = None

        recording = self.record_dir is not None

        def record_agent(frame: AudioFrame, at: float) -> None:
            if recording:
                conv.recorder.record_at("agent", frame, max(0.0, at - t0))

        def record_user(frame: AudioFrame) -> None:
            nonlocal user_at
            if not recording:
                return
            if user_rs is not None:
                frame = user_rs.push(frame)  # type: ignore[assignment]
                if frame is None:
                    return
            if user_at is None:
                user_at = max(0, round((loop.time() - t0 - frame.duration) * SESSION_RATE))
            conv.recorder.record("user", frame, user_at)
            user_at += frame.num_samples

        output = RemotePlayoutOutput(SESSION_RATE, send, remote_rate=rate,
                                     on_played=record_agent)
        audio_in = QueueAudioInput(rate)
        providers = self.new_providers()
        truth = None
        if self.stt == "oracle":  # tests: the client says what its audio says
            from bargein.providers.oracle_stt import GroundTruth
            from bargein.providers.types import WordTiming

            truth = GroundTruth()
            providers.stt = make_stt("oracle", truth)
        agent, session = self.spec.new(providers)
        send({"type": "ready", "session": conv.id, "sample_rate": rate,
              "limits": limits.as_dict()})
        conv.log = SessionLog(session, lambda r: send({"type": "event", **r}))
        write_task = asyncio.create_task(writer(), name=f"bargein-ws-writer-{conv.id}")
        overflow_task = asyncio.create_task(overflow.wait())
        messages = TokenBucket(limits.max_messages_per_second,
                               2 * limits.max_messages_per_second, loop.time())
        audio = TokenBucket(limits.audio_speed, limits.audio_burst, loop.time())
        await session.start(agent, audio_input=audio_in, audio_output=output)
        try:
            while True:
                recv = asyncio.create_task(ws.recv())
                done, _ = await asyncio.wait([recv, write_task, overflow_task],
                                             return_when=asyncio.FIRST_COMPLETED)
                if recv not in done:
                    recv.cancel()
                    if overflow_task in done:
                        return CLOSE_POLICY, "client does not read its messages"
                    write_task.result()  # raises the writer's error
                    return CLOSE_SERVER_ERROR, "writer stopped"
                try:
                    message = recv.result()
                except ConnectionClosed:
                    return CLOSE_GOING_AWAY, "client left"
                now = loop.time()
                if not messages.take(1, now):
                    raise ProtocolError(CLOSE_POLICY, "too many messages a second")
                if isinstance(message, bytes):
                    check_audio(message, limits)
                    samples = np.frombuffer(message, "<i2")
                    frame = AudioFrame.from_int16(samples.astype(np.int16), rate)
                    if not audio.take(frame.duration, now):
                        raise ProtocolError(CLOSE_POLICY, "audio arrives faster than real time")
                    record_user(frame)
                    audio_in.push(frame)
                    continue
                control = parse_control(message, limits)
                kind = control["type"]
                if kind == "hello":
                    raise ProtocolError(CLOSE_POLICY, "hello was already sent")
                if kind == "bye":
                    return CLOSE_NORMAL, "bye"
                if kind == "truth":
                    if truth is None:
                        raise ProtocolError(CLOSE_POLICY, "truth needs a server run with "
                                            "--stt oracle")
                    truth.add([WordTiming(w["text"], float(w["start"]), float(w["end"]))
                               for w in control["words"]])
                    continue
                output.report(kind, control["segment"], control["samples"])
        finally:
            output.close()
            audio_in.close()
            await session.aclose()
            # let queued messages go out (the reason of a close comes after them)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(_drain(outbox), 0.5)
            for task in (write_task, overflow_task):
                task.cancel()
            await asyncio.gather(write_task, overflow_task, return_exceptions=True)


async def _drain(outbox: asyncio.Queue[Any]) -> None:
    while not outbox.empty():
        await asyncio.sleep(0.01)


def _response(status: int, body: bytes, content_type: str) -> Any:
    from websockets.datastructures import Headers
    from websockets.http11 import Response

    headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(body))),
                       ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")])
    return Response(status, "OK" if status == 200 else "Error", headers, body)


async def serve(spec: AgentSpec, *, host: str = "127.0.0.1", port: int = 8765,
                token: str | None = None, stt: str = "local",
                record_dir: Path | None = None,
                on_ready: Callable[[LiveServer], None] | None = None) -> None:
    """Run the server until cancelled (Ctrl+C)."""
    server = LiveServer(spec, host=host, port=port, token=token, stt=stt,
                        record_dir=record_dir)
    try:
        await server.start()
    except OSError as exc:
        raise BargeinError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    if on_ready is not None:
        on_ready(server)
    try:
        await server.serve_forever()
    finally:
        await server.aclose()


def main(spec: AgentSpec, *, host: str = "127.0.0.1", port: int = 8765,
         token: str | None = None, stt: str = "local", record_dir: Path | None = None,
         on_ready: Callable[[LiveServer], None] | None = None) -> int:
    """Run the server on a :func:`~bargein.sim.run_live` loop until Ctrl+C; returns 0."""
    from bargein.sim.live import run_live

    with contextlib.suppress(KeyboardInterrupt):
        run_live(serve(spec, host=host, port=port, token=token, stt=stt,
                       record_dir=record_dir, on_ready=on_ready))
    return 0
