"""Pieces every served conversation uses, whatever its wire protocol.

- :class:`Channel`: one client's WebSocket. Messages to the client are written in order by
  one task (a client that leaves too many unread is dropped rather than allowed to grow the
  server's memory); :meth:`Channel.receive` gives the next message from the client, or the
  reason the conversation ends.
- :class:`CallRecorder`: the conversation's stereo recording on the session's clock
  (user audio as it arrives, agent audio as the client reports it played).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
from collections.abc import Callable
from typing import Any

from bargein.audio.frame import AudioFrame
from bargein.audio.recorder import StereoRecorder
from bargein.audio.resample import StreamResampler
from bargein.live.protocol import (
    CLOSE_POLICY,
    CLOSE_SERVER_ERROR,
    ProtocolError,
)

__all__ = ["MAX_OUTBOX", "CallRecorder", "Channel", "ClientLeft"]

#: Outgoing messages a slow client may leave unread before it is dropped.
MAX_OUTBOX = 5000


class ClientLeft(Exception):
    """The client closed the connection."""


class Channel:
    """One client's WebSocket: :meth:`send` queues, a writer task sends in order;
    :meth:`receive` reads.

    ``encode`` turns a dict into the text frame (JSON by default); bytes go out as binary,
    and binary messages queued back to back go out as one (up to ``coalesce`` bytes): the
    client counts samples, not messages, and fewer, larger frames cost the server less.
    A client that leaves more than ``limit`` messages unread, or sends nothing for
    ``idle_timeout`` seconds, is closed: :meth:`receive` then raises the reason.
    """

    def __init__(self, ws: Any, *, limit: int = MAX_OUTBOX, idle_timeout: float = 60.0,
                 coalesce: int = 8192,
                 encode: Callable[[dict[str, Any]], str] = json.dumps) -> None:
        self._ws = ws
        self._limit = limit
        self._idle_timeout = idle_timeout
        self._coalesce = coalesce
        self._encode = encode
        self._queue: collections.deque[bytes | dict[str, Any]] = collections.deque()
        self._wakeup = asyncio.Event()
        self._fault: tuple[int, str] | None = None
        self._last_heard = 0.0
        self._watchdog: asyncio.TimerHandle | None = None
        self._closing: asyncio.Task[None] | None = None
        self.writer: asyncio.Task[None] | None = None

    def send(self, message: bytes | dict[str, Any]) -> None:
        if len(self._queue) >= self._limit:
            self._drop(CLOSE_POLICY, "client does not read its messages")
            return
        self._queue.append(message)
        self._wakeup.set()

    def start(self, name: str) -> None:
        loop = asyncio.get_running_loop()
        self.writer = loop.create_task(self._write(), name=f"bargein-ws-writer-{name}")
        self.writer.add_done_callback(self._writer_done)
        self._last_heard = loop.time()
        self._watchdog = loop.call_later(self._idle_timeout / 4, self._check_idle)

    async def _write(self) -> None:
        queue = self._queue
        while True:
            while not queue:
                self._wakeup.clear()
                await self._wakeup.wait()
            message = queue.popleft()
            if isinstance(message, bytes):
                parts = [message]
                size = len(message)
                while queue and isinstance(queue[0], bytes) and \
                        size + len(queue[0]) <= self._coalesce:
                    part = queue.popleft()
                    parts.append(part)  # type: ignore[arg-type]
                    size += len(part)  # type: ignore[arg-type]
                await self._ws.send(parts[0] if len(parts) == 1 else b"".join(parts))
            else:
                await self._ws.send(self._encode(message))

    def _writer_done(self, task: asyncio.Task[None]) -> None:
        from websockets.exceptions import ConnectionClosed

        if task.cancelled():
            return
        error = task.exception()
        if error is not None and not isinstance(error, ConnectionClosed):
            self._drop(CLOSE_SERVER_ERROR, "writer stopped")

    def _check_idle(self) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_heard > self._idle_timeout:
            self._drop(CLOSE_POLICY, f"no message for {self._idle_timeout:g} s")
            return
        self._watchdog = loop.call_later(self._idle_timeout / 4, self._check_idle)

    def _drop(self, code: int, reason: str) -> None:
        if self._fault is None:
            self._fault = (code, reason)
            self._closing = asyncio.get_running_loop().create_task(self._ws.close(code, reason))

    async def receive(self) -> str | bytes:
        """The client's next message. Raises :class:`ClientLeft` when it closes, and
        :class:`~bargein.live.protocol.ProtocolError` when it was dropped: silent for
        ``idle_timeout`` s, not reading its messages, or the writer failed."""
        from websockets.exceptions import ConnectionClosed

        try:
            message = await self._ws.recv()
        except ConnectionClosed:
            if self._fault is not None:
                raise ProtocolError(*self._fault) from None
            raise ClientLeft from None
        self._last_heard = asyncio.get_running_loop().time()
        return message

    async def aclose(self, drain: float = 0.5) -> None:
        """Let queued messages go out (for up to ``drain`` s), then stop the writer."""
        async def drained() -> None:
            while self._queue and self.writer is not None and not self.writer.done():
                await asyncio.sleep(0.01)

        if self._watchdog is not None:
            self._watchdog.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(drained(), drain)
        if self.writer is not None:
            self.writer.cancel()
            await asyncio.gather(self.writer, return_exceptions=True)


class CallRecorder:
    """Records one conversation into ``recorder`` (session rate ``rate``) on the loop clock
    from ``t0``: user audio at ``client_rate`` as it arrives, agent audio as it plays."""

    def __init__(self, recorder: StereoRecorder | None, rate: int, client_rate: int,
                 t0: float) -> None:
        self.recorder = recorder
        self.rate = rate
        self.t0 = t0
        self._resampler = None if client_rate == rate else StreamResampler(client_rate, rate)
        self._user_at: int | None = None

    def agent(self, frame: AudioFrame, at: float) -> None:
        """``frame`` of agent audio started playing at loop time ``at``."""
        if self.recorder is not None:
            self.recorder.record_at("agent", frame, max(0.0, at - self.t0))

    def user(self, frame: AudioFrame) -> None:
        """``frame`` of user audio (client rate) arrived now."""
        if self.recorder is None:
            return
        if self._resampler is not None:
            frame = self._resampler.push(frame)  # type: ignore[assignment]
            if frame is None:
                return
        if self._user_at is None:
            now = asyncio.get_running_loop().time()
            self._user_at = max(0, round((now - self.t0 - frame.duration) * self.rate))
        self.recorder.record("user", frame, self._user_at)
        self._user_at += frame.num_samples
