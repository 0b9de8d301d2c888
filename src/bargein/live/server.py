"""``bargein serve``: the agent over WebSocket, and a web page to talk to it.

One WebSocket connection is one conversation with its own :class:`~bargein.agent.AgentSession`
(built from the agent file like ``bargein console``). The page (``static/``) captures the
microphone with an AudioWorklet, plays the agent's audio, reports its playout back (so the
session's truncation follows the browser's speaker) and draws a live timeline. The wire
protocol is described in :mod:`bargein.live.protocol` (:mod:`bargein.live.native` runs it).

HTTP routes on the same port:

- ``/`` (and ``/app.js``, ``/worklet.js``): the page;
- ``/ws``: the WebSocket;
- ``/api/sessions``: every open session's event records and the summaries of recently
  closed ones, as JSON, for tests and tools.

Security (:mod:`bargein.live.access`): the server binds 127.0.0.1 by default; binding
anywhere else needs a token (``--token`` or ``BARGEIN_TOKEN``), checked on ``/ws`` and
``/api/sessions``. Every request's ``Host`` must name this server and a browser's ``Origin``
must be this server's page (DNS rebinding and cross-site pages are refused). Load
(:mod:`bargein.live.admission`): connections that have not started a conversation hold no
session slot and have a short deadline; sessions are admitted up to a measured capacity and
while the loop keeps time, else refused with a "busy" close. Each connection has size and
rate limits (:class:`~bargein.live.protocol.Limits`); a client that breaks them is closed
with a reason, and only that client.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bargein.errors import BargeinError
from bargein.live.access import AccessPolicy, is_loopback
from bargein.live.admission import Admission, default_max_sessions
from bargein.live.agent_file import (
    AgentSpec,
    LiveProviders,
    live_providers,
    make_stt,
    warm_up,
)
from bargein.live.connection import ClientLeft
from bargein.live.conversations import KEEP_CLOSED, Conversation, ConversationStore
from bargein.live.protocol import (
    CLOSE_SERVER_ERROR,
    CLOSE_TRY_AGAIN,
    Limits,
    ProtocolError,
)

__all__ = ["PROTOCOLS", "LiveServer", "is_loopback", "main", "serve"]

_log = logging.getLogger("bargein.live")

SESSION_RATE = 16000
TOKEN_ENV = "BARGEIN_TOKEN"
#: Wire protocols ``bargein serve`` speaks: its own (with the page) or OpenAI Realtime.
PROTOCOLS = ("bargein", "realtime")
_STATIC = {"/": ("index.html", "text/html; charset=utf-8"),
           "/index.html": ("index.html", "text/html; charset=utf-8"),
           "/app.js": ("app.js", "text/javascript; charset=utf-8"),
           "/worklet.js": ("worklet.js", "text/javascript; charset=utf-8")}


class LiveServer:
    """The server behind ``bargein serve`` (see the module docstring).

    ``providers`` builds the providers of each new session; by default the heavy ones (VAD,
    STT, TTS models) are loaded once and shared, and each session gets its own LLM.
    ``max_sessions`` defaults to the measured capacity for ``stt`` on this machine's cores
    (:func:`~bargein.live.admission.default_max_sessions`).
    """

    def __init__(self, spec: AgentSpec, *, host: str = "127.0.0.1", port: int = 8765,
                 token: str | None = None, stt: str = "local", limits: Limits | None = None,
                 max_sessions: int | None = None, busy_lag: float = 0.025,
                 allowed_hosts: Sequence[str] = (),
                 protocol: str = "bargein", record_dir: str | Path | None = None,
                 keep_closed: int = KEEP_CLOSED,
                 providers: Callable[[], LiveProviders] | None = None) -> None:
        token = token if token is not None else os.environ.get(TOKEN_ENV) or None
        if not is_loopback(host) and not token:
            raise BargeinError(
                f"binding {host} exposes the agent beyond this machine: give a token with "
                f"--token or the environment variable {TOKEN_ENV}")
        if protocol not in PROTOCOLS:
            raise BargeinError(f"protocol must be one of {', '.join(PROTOCOLS)}, "
                               f"got {protocol!r}")
        self.spec = spec
        self.host, self.port = host, port
        self.token = token
        self.stt = stt
        self.protocol = protocol
        self.limits = limits or Limits()
        self.session_rate = SESSION_RATE
        self.access = AccessPolicy(bind_host=host, port=port, token=token,
                                   allowed_hosts=allowed_hosts)
        try:
            self.admission = Admission(max_sessions if max_sessions is not None
                                       else default_max_sessions(stt), busy_lag=busy_lag)
        except ValueError as exc:
            raise BargeinError(str(exc)) from None
        self.record_dir = Path(record_dir) if record_dir is not None else None
        self.conversations = ConversationStore(keep_closed=keep_closed,
                                               record_dir=self.record_dir)
        self._providers = providers
        self._shared: LiveProviders | None = None
        self._ids = itertools.count(1)
        self._released: set[str] = set()
        self._server: Any = None

    @property
    def max_sessions(self) -> int:
        return self.admission.max_sessions

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the models and start listening (``self.port`` is the bound port)."""
        from bargein._extras import require

        require("websockets", extra="live", feature="bargein serve")
        from websockets.asyncio.server import serve

        if self._providers is None:
            from bargein.live.vad_pool import PooledSileroVAD
            from bargein.providers.oracle_stt import GroundTruth

            # with --stt oracle each session gets its own oracle; this one is never used
            self._shared = live_providers(self.spec, stt=self.stt, truth=GroundTruth())
            vad = PooledSileroVAD()
            await asyncio.get_running_loop().run_in_executor(None, vad.prepare)
            self._shared.vad = vad
            await warm_up(self._shared)
        limits = self.limits
        self._server = await serve(
            self._handle, self.host, self.port, process_request=self._http,
            max_size=max(limits.max_audio_bytes, limits.max_text_bytes) * 4,
            max_queue=64, open_timeout=limits.hello_timeout, ping_interval=20,
            ping_timeout=limits.ping_timeout, close_timeout=3)
        sock = next(iter(self._server.sockets))
        self.port = self.access.port = sock.getsockname()[1]
        self.admission.gauge.start()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = f"?token={self.token}" if self.token else ""
        return f"http://{host}:{self.port}/{query}"

    async def serve_forever(self) -> None:
        await self._server.serve_forever()

    async def aclose(self) -> None:
        self.admission.gauge.stop()
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

    async def new_session(self) -> tuple[Any, Any, Any]:
        """A new conversation's agent, session and (with ``--stt oracle``) ground truth."""
        providers = self.new_providers()
        ensure_spare = getattr(providers.vad, "ensure_spare", None)
        if ensure_spare is not None:  # build the VAD model off the loop if none is ready
            await ensure_spare()
        truth = None
        if self.stt == "oracle":  # tests: the client says what its audio says
            from bargein.providers.oracle_stt import GroundTruth

            truth = GroundTruth()
            providers.stt = make_stt("oracle", truth)
        agent, session = self.spec.new(providers)
        return agent, session, truth

    def release(self, conv: Conversation) -> None:
        """Give ``conv``'s session slot back (once)."""
        if conv.id not in self._released:
            self._released.add(conv.id)
            self.admission.release()

    # -- HTTP ------------------------------------------------------------------------------

    def _ws_path(self, path: str) -> bool:
        if self.protocol == "realtime":
            return path.rstrip("/").endswith("/realtime")
        return path == "/ws"

    def _http(self, connection: Any, request: Any) -> Any:
        path = urlsplit(request.path).path
        websocket = self._ws_path(path)
        refusal = self.access.check(request.path, request.headers,
                                    needs_token=websocket or path == "/api/sessions")
        if refusal is not None:
            return connection.respond(refusal[0], refusal[1] + "\n")
        if websocket:
            return None
        if path == "/api/sessions":
            body = '{"sessions":[' + ",".join(self.conversations.summaries_json()) + "]}"
            return _response(200, body.encode(), "application/json")
        if path in _STATIC and self.protocol == "bargein":
            name, kind = _STATIC[path]
            data = resources.files("bargein.live").joinpath("static", name).read_bytes()
            return _response(200, data, kind)
        return connection.respond(404, "not found\n")

    # -- one connection --------------------------------------------------------------------

    async def _handle(self, ws: Any) -> None:
        from bargein.live import native, realtime
        from bargein.live.realtime_events import EventIds

        address = str(ws.remote_address[0]) if ws.remote_address else "?"
        refusal = self.admission.wait(address)
        if refusal is not None:
            await ws.close(CLOSE_TRY_AGAIN, refusal[:120])
            return
        ident = f"s{next(self._ids)}"
        ids = EventIds()
        try:
            if self.protocol == "realtime":
                opening: Any = await realtime.wait_for_first_event(
                    ws, self.limits, ids, f"bargein-{self.spec.name}", ident)
            else:
                opening = await native.wait_for_hello(ws, self.limits)
        except ClientLeft:
            return
        except ProtocolError as exc:
            with contextlib.suppress(Exception):
                await ws.close(exc.code, exc.reason)
            return
        finally:
            self.admission.stop_waiting(address)
        refusal = self.admission.admit()
        if refusal is not None:
            if self.protocol == "realtime":
                from bargein.live.realtime_events import error_event

                with contextlib.suppress(Exception):
                    await ws.send(json.dumps(error_event(ids, "server_busy", refusal,
                                                         kind="server_error")))
            await ws.close(CLOSE_TRY_AGAIN, refusal[:120])
            return
        conv = Conversation(ident, str(ws.remote_address), self.protocol,
                            record_rate=SESSION_RATE if self.record_dir else None)
        self.conversations.add(conv)
        try:
            if self.protocol == "realtime":
                code, reason = await realtime.converse(self, ws, conv, opening, ids, ident)
            else:
                code, reason = await native.converse(self, ws, conv, opening)
        except ProtocolError as exc:
            code, reason = exc.code, exc.reason
        except Exception as exc:  # a bug or a provider failure: only this session ends
            _log.exception("session %s failed", conv.id)
            code, reason = CLOSE_SERVER_ERROR, f"server error: {type(exc).__name__}"
        finally:
            self.release(conv)
        self._released.discard(conv.id)
        self.conversations.close(conv, code, reason)
        with contextlib.suppress(Exception):
            await ws.close(code, reason)


def _response(status: int, body: bytes, content_type: str) -> Any:
    from websockets.datastructures import Headers
    from websockets.http11 import Response

    headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(body))),
                       ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")])
    return Response(status, "OK" if status == 200 else "Error", headers, body)


async def serve(spec: AgentSpec, *, on_ready: Callable[[LiveServer], None] | None = None,
                **options: Any) -> None:
    """Run the server until cancelled (Ctrl+C); ``options`` are :class:`LiveServer`'s."""
    server = LiveServer(spec, **options)
    try:
        await server.start()
    except OSError as exc:
        raise BargeinError(f"cannot listen on {server.host}:{server.port}: "
                           f"{exc.strerror or exc}") from exc
    if on_ready is not None:
        on_ready(server)
    try:
        await server.serve_forever()
    finally:
        await server.aclose()


def main(spec: AgentSpec, *, on_ready: Callable[[LiveServer], None] | None = None,
         **options: Any) -> int:
    """Run the server on a :func:`~bargein.sim.run_live` loop until Ctrl+C; returns 0.
    ``options`` are :class:`LiveServer`'s."""
    from bargein.sim.live import run_live

    with contextlib.suppress(KeyboardInterrupt):
        run_live(serve(spec, on_ready=on_ready, **options))
    return 0
