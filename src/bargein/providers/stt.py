"""Speech-to-text interface: interim and final transcripts with word times."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol, runtime_checkable

from bargein.audio.frame import AudioFrame
from bargein.errors import SampleRateError
from bargein.providers.latency import Latency, WorkTimer
from bargein.providers.types import WordTiming


class SpeechEventType(StrEnum):
    """Kind of transcript an STT stream emits."""

    INTERIM = "interim"
    FINAL = "final"


@dataclass(frozen=True, slots=True)
class SpeechEvent:
    """A transcript of the audio between ``start`` and ``end``.

    Times are seconds on the stream's timeline (samples pushed / sample rate); word times
    are on the same timeline. ``emitted_at`` is the stream time at which it was produced.
    """

    type: SpeechEventType
    text: str
    start: float
    end: float
    words: tuple[WordTiming, ...] = ()
    emitted_at: float | None = None


@dataclass(frozen=True, slots=True)
class STTCapabilities:
    """What an STT can do, so callers can check before relying on it."""

    streaming: bool
    interim_results: bool
    word_timestamps: bool
    #: Every flush yields exactly one FINAL, with empty text when nothing was recognized, so
    #: a listener never waits for a transcript that will not come.
    acknowledges_flush: bool = False


@runtime_checkable
class STT(Protocol):
    """A speech recognizer."""

    @property
    def capabilities(self) -> STTCapabilities:
        """Declared abilities."""
        ...

    async def recognize(self, audio: AudioFrame) -> SpeechEvent:
        """Transcribe one finished utterance; returns a FINAL event timed from 0."""
        ...

    def stream(self, sample_rate: int) -> STTStream:
        """Open a stream for audio at ``sample_rate`` Hz."""
        ...


class STTStream:
    """Base of every STT stream: push audio, mark utterance ends, iterate over events.

    ``push_frame`` and ``flush`` never block; results arrive through ``async for``. A
    subclass implements :meth:`_on_frame` and :meth:`_on_flush` and reports through
    :meth:`_emit`. Iteration ends after :meth:`aclose` once pending work is done. If
    background work fails, iteration raises that error (after the events before it), so a
    failed transcription is never silently lost.
    """

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._samples_pushed = 0
        self._events: asyncio.Queue[SpeechEvent | BaseException | None] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self._last_delivery: asyncio.Future[None] | None = None

    @property
    def time(self) -> float:
        """Seconds of audio pushed so far: the stream's clock."""
        return self._samples_pushed / self.sample_rate

    def push_frame(self, frame: AudioFrame) -> None:
        """Feed audio. Frames must be at the stream's sample rate."""
        if self._closed:
            raise RuntimeError("push_frame() on a closed STT stream")
        if frame.sample_rate != self.sample_rate:
            raise SampleRateError(
                f"this STT stream takes {self.sample_rate} Hz audio, got {frame.sample_rate} Hz"
            )
        start = self.time
        self._samples_pushed += frame.num_samples
        self._on_frame(frame, start)

    def skip(self, seconds: float) -> None:
        """Move the stream clock on by ``seconds`` of audio that is not sent (e.g. silence the
        VAD ruled out), so later times stay on the input timeline. Call it between
        utterances (after :meth:`flush`), not inside one."""
        if self._closed:
            raise RuntimeError("skip() on a closed STT stream")
        samples = round(seconds * self.sample_rate)
        if samples < 0:
            raise ValueError(f"cannot skip a negative duration ({seconds} s)")
        self._samples_pushed += samples
        self._on_skip(samples)

    def flush(self) -> None:
        """The current utterance ended: produce its FINAL transcript. A stream whose STT
        declares ``acknowledges_flush`` emits one FINAL per flush, empty if it heard nothing."""
        if self._closed:
            raise RuntimeError("flush() on a closed STT stream")
        self._on_flush()

    async def aclose(self) -> None:
        """Finish pending work, then end iteration."""
        if self._closed:
            return
        self._closed = True
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._events.put_nowait(None)

    def __aiter__(self) -> AsyncIterator[SpeechEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[SpeechEvent]:
        while True:
            event = await self._events.get()
            if event is None:
                return
            if isinstance(event, BaseException):
                raise event
            yield event

    # -- for subclasses ---------------------------------------------------------------

    def _emit(self, event: SpeechEvent) -> None:
        self._events.put_nowait(event)

    def _emit_in_order(
        self, event: SpeechEvent, delay: Latency, timer: WorkTimer | None = None
    ) -> None:
        """Emit ``event`` once ``delay`` has passed since ``timer`` started (default: now),
        never before events queued earlier; ``emitted_at`` is set at delivery."""
        timer = timer or WorkTimer()
        previous = self._last_delivery
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._last_delivery = done

        async def deliver() -> None:
            try:
                await timer.settle(delay)
                if previous is not None:
                    await previous
                self._emit(replace(event, emitted_at=self.time))
            finally:
                if not done.done():
                    done.set_result(None)

        self._spawn(deliver())

    def _spawn(self, coro: object) -> asyncio.Task[None]:
        """Run background work (e.g. a final transcription) tied to this stream."""
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._on_task_done)
        return task

    def _on_task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._events.put_nowait(task.exception())

    def _on_frame(self, frame: AudioFrame, start: float) -> None:
        raise NotImplementedError

    def _on_flush(self) -> None:
        raise NotImplementedError

    def _on_skip(self, samples: int) -> None:
        """Samples skipped at the stream rate; streams that count samples override this."""
