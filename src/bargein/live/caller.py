"""A scripted caller of ``bargein serve`` over its own protocol, for load tests and benchmarks.

:class:`ScriptedCaller` behaves like the web page: a microphone sending 20 ms frames in real
time (silence, then ``phrase`` once the agent's first speech has played ``barge_after``
seconds), and a speaker that plays what it receives in real time and reports its playout.
Besides the session events it measures, on its own wall clock, what a listener would notice:

- ``stalled``: seconds the speaker ran dry in the middle of an agent speech (audio that
  arrived late: the server did not keep real time);
- ``stop_after``: seconds from the first sample of the phrase to the ``pause`` or ``clear``
  that silenced the agent;
- ``reply_after``: seconds from the end of the phrase to the first audio of the answer.

Live mode only: it runs on real sockets and real time.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np

__all__ = ["ScriptedCaller"]

FRAME = 320  # 20 ms at 16 kHz
RATE = 16000


class ScriptedCaller:
    """One scripted conversation (see the module docstring).

    ``words`` (``WordTiming`` of the phrase) are sent as a ``truth`` message when the phrase
    starts, for a server run with ``--stt oracle``. The call ends when the agent has said
    ``answer_word`` in its second speech (with ``answer_word=None``: any word of it, for
    real recognizers that may mishear the phrase), or after ``limit`` seconds.
    """

    def __init__(self, url: str, phrase: np.ndarray, *, barge_after: float = 1.0,
                 words: tuple[Any, ...] = (), answer_word: str | None = "available") -> None:
        self.url, self.phrase, self.barge_after = url, phrase, barge_after
        self.words = words
        self.answer_word = answer_word
        self.mic_samples = 0
        self.events: list[dict[str, Any]] = []
        self.queue: list[list[int]] = []  # [segment, samples left]
        self.played: dict[int, int] = {}
        self.received: dict[int, int] = {}
        self.flushed: set[int] = set()
        self.segment = 0
        self.paused = False
        self.speaking_at: int | None = None  # index in phrase, None = silent
        self.triggered = False
        self.close: tuple[int, str] | None = None
        self.reply: list[str] = []
        self.stalled = 0.0
        self.stop_after: float | None = None
        self.reply_after: float | None = None
        self._phrase_start: float | None = None
        self._phrase_end: float | None = None

    async def run(self, limit: float = 60.0, **connect_options: Any) -> list[dict[str, Any]]:
        """Hold the conversation; returns the session events received."""
        from websockets.asyncio.client import connect

        async with connect(self.url, max_size=2**20, **connect_options) as ws:
            await ws.send(json.dumps({"type": "hello", "protocol": 1, "sample_rate": RATE}))
            ticker = asyncio.create_task(self._tick(ws))
            try:
                await asyncio.wait_for(self._receive(ws), limit)
            except TimeoutError:
                pass
            finally:
                ticker.cancel()
                await asyncio.gather(ticker, return_exceptions=True)
            if not self.close:
                await ws.send(json.dumps({"type": "bye"}))
        return self.events

    @property
    def answered(self) -> bool:
        """True once the agent said ``answer_word`` (any word if None) in its second
        speech."""
        return bool(self.reply) if self.answer_word is None else self.answer_word in self.reply

    async def _receive(self, ws: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        loop = asyncio.get_running_loop()
        try:
            async for message in ws:
                if isinstance(message, bytes):
                    n = len(message) // 2
                    if self.segment >= 2 and self.reply_after is None \
                            and self._phrase_end is not None:
                        self.reply_after = loop.time() - self._phrase_end
                    self.queue.append([self.segment, n])
                    self.received[self.segment] = self.received.get(self.segment, 0) + n
                    continue
                msg = json.loads(message)
                kind = msg["type"]
                if kind == "segment":
                    self.segment = msg["segment"]
                    self.played.setdefault(self.segment, 0)
                elif kind == "flush":
                    self.flushed.add(msg["segment"])
                elif kind == "clear":
                    self.queue = [c for c in self.queue if c[0] != msg["segment"]]
                    self.played.pop(msg["segment"], None)
                    self.paused = False  # a clear also ends a pause
                    self._stopped(loop.time())
                elif kind == "pause":
                    self.paused = True
                    self._stopped(loop.time())
                elif kind == "resume":
                    self.paused = False
                elif kind == "event":
                    self.events.append(msg)
                    if msg["event"] == "agent_words_heard" and msg["speech"] == 2:
                        self.reply += msg["words"]
                        if self.answered:
                            return
        except ConnectionClosed as exc:
            self.close = (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd else (1006, "")

    def _stopped(self, now: float) -> None:
        if self.stop_after is None and self._phrase_start is not None:
            self.stop_after = now - self._phrase_start

    async def _tick(self, ws: Any) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            next_at += FRAME / RATE
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            for report in self._play(FRAME):
                await ws.send(json.dumps(report))
            if self.speaking_at == 0:
                self._phrase_start = loop.time()
                if self.words:
                    offset = self.mic_samples / RATE
                    await ws.send(json.dumps({"type": "truth", "words": [
                        {"text": w.text, "start": offset + w.start, "end": offset + w.end}
                        for w in self.words]}))
            await ws.send(self._mic_frame(loop.time()))
            self.mic_samples += FRAME

    def _mic_frame(self, now: float) -> bytes:
        frame = np.zeros(FRAME, np.int16)
        if self.speaking_at is not None:
            part = self.phrase[self.speaking_at:self.speaking_at + FRAME]
            frame[:len(part)] = part
            self.speaking_at += FRAME
            if self.speaking_at >= len(self.phrase):
                self.speaking_at = None
                self._phrase_end = now
        return frame.astype("<i2").tobytes()

    def _play(self, n: int) -> list[dict[str, Any]]:
        reports, touched = [], set()
        open_segment = self.segment in self.played and self.segment not in self.flushed
        if open_segment and not self.paused and not self.queue and self.played[self.segment]:
            self.stalled += n / RATE  # mid-speech, nothing to play: the audio is late
        while n > 0 and self.queue and not self.paused:
            chunk = self.queue[0]
            take = min(n, chunk[1])
            chunk[1] -= take
            n -= take
            self.played[chunk[0]] = self.played.get(chunk[0], 0) + take
            touched.add(chunk[0])
            if chunk[1] == 0:
                self.queue.pop(0)
        for seg in sorted(touched):
            reports.append({"type": "played", "segment": seg, "samples": self.played[seg]})
        for seg in list(self.flushed):
            if seg in self.played and not any(c[0] == seg for c in self.queue) \
                    and self.played[seg] >= self.received.get(seg, 0):
                reports.append({"type": "done", "segment": seg, "samples": self.played[seg]})
                self.flushed.discard(seg)
        if not self.triggered and self.played.get(1, 0) >= self.barge_after * RATE:
            self.triggered = True
            self.speaking_at = 0
        return reports
