"""Audio I/O of an agent session: where user audio comes from and where agent audio plays.

The session never touches a device or a network directly. It reads :class:`AudioInput` and
writes :class:`AudioOutput`; a microphone, a WebSocket, a phone line or the simulator's room
implement them. The output reports **playout** (how much of what it was given was actually
played), which is what makes barge-in truncation exact.
"""

from __future__ import annotations

import asyncio
import collections
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bargein.audio.frame import AudioFrame, check_sample_rate
from bargein.errors import SampleRateError


@runtime_checkable
class AudioInput(Protocol):
    """User audio as it arrives, in real-time order (one frame per frame duration)."""

    @property
    def sample_rate(self) -> int:
        """Rate of the frames it yields."""
        ...

    def __aiter__(self) -> AsyncIterator[AudioFrame]:
        """Frames until the input closes."""
        ...


class QueueAudioInput:
    """An :class:`AudioInput` fed by ``push()``; ``close()`` ends it."""

    def __init__(self, sample_rate: int) -> None:
        self._rate = check_sample_rate(sample_rate)
        self._queue: asyncio.Queue[AudioFrame | None] = asyncio.Queue()

    @property
    def sample_rate(self) -> int:
        return self._rate

    def push(self, frame: AudioFrame) -> None:
        """Deliver one frame to the session."""
        if frame.sample_rate != self._rate:
            raise SampleRateError(
                f"this input carries {self._rate} Hz audio, got a {frame.sample_rate} Hz frame"
            )
        self._queue.put_nowait(frame)

    def close(self) -> None:
        """End of input: the session stops listening after the queued frames."""
        self._queue.put_nowait(None)

    async def __aiter__(self) -> AsyncIterator[AudioFrame]:
        while (frame := await self._queue.get()) is not None:
            yield frame


PlayCallback = Callable[[AudioFrame, float], None]


@dataclass(frozen=True, slots=True)
class PlaybackFinished:
    """How one output segment ended: seconds of it that were played, and whether it was cut."""

    position: float
    interrupted: bool


class AudioOutput(ABC):
    """Where agent speech plays. Audio is given in segments (one per speech).

    Frames queued with :meth:`capture_frame` play in order; :meth:`flush` marks the end of the
    segment; :meth:`wait_for_playout` returns once the segment played out or was cleared.
    An output that knows when each frame becomes audible calls :meth:`_notify_played`, so
    listeners (the session's word-by-word transcript) follow playout exactly.
    """

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = check_sample_rate(sample_rate)
        self._listeners: list[PlayCallback] = []

    @property
    def reports_frames(self) -> bool:
        """True if listeners are told when each frame starts playing."""
        return False

    def add_listener(self, callback: PlayCallback) -> None:
        """Call ``callback(frame, loop_time)`` whenever a frame starts playing."""
        self._listeners.append(callback)

    def remove_listener(self, callback: PlayCallback) -> None:
        """Stop calling ``callback``."""
        if callback in self._listeners:
            self._listeners.remove(callback)

    def _notify_played(self, frame: AudioFrame, at: float) -> None:
        for callback in list(self._listeners):
            callback(frame, at)

    @abstractmethod
    async def capture_frame(self, frame: AudioFrame) -> None:
        """Queue ``frame`` for playout; may wait while the output's buffer is full."""

    @abstractmethod
    def flush(self) -> None:
        """No more audio for the current segment."""

    @abstractmethod
    def clear_buffer(self) -> None:
        """Stop now: drop what has not played; the segment finishes as interrupted."""

    @abstractmethod
    def pause(self) -> None:
        """Hold playout at the current sample (for a possible false interruption)."""

    @abstractmethod
    def resume(self) -> None:
        """Continue playout after :meth:`pause`."""

    @property
    @abstractmethod
    def played(self) -> float:
        """Seconds of the current segment played so far (0 when no segment is open)."""

    @abstractmethod
    async def wait_for_playout(self) -> PlaybackFinished:
        """Wait until the current segment has played out or was cleared."""


class PacedAudioOutput(AudioOutput):
    """Plays frames at real-time pace on the event loop clock, handing each to ``sink``.

    ``sink(frame, at)`` is called the moment a frame starts playing (``at`` = loop time), so a
    recorder or a speaker gets exactly what is audible. A frame handed to the sink counts as
    played; ``clear_buffer()`` takes effect at the next frame boundary, i.e. within one frame.
    ``buffer`` is how much audio may wait ahead of the playout point.
    """

    def __init__(self, sample_rate: int, sink: PlayCallback, *, buffer: float = 0.06) -> None:
        super().__init__(sample_rate)
        self._sink = sink
        self._buffer_limit = buffer
        self._queue: collections.deque[AudioFrame] = collections.deque()
        self._queued_seconds = 0.0
        self._played = 0.0
        self._flushed = False
        self._paused = False
        self._segment_done: asyncio.Future[PlaybackFinished] | None = None
        self._wakeup = asyncio.Event()
        self._space = asyncio.Event()
        self._space.set()
        self._task: asyncio.Task[None] | None = None

    @property
    def played(self) -> float:
        return self._played

    @property
    def reports_frames(self) -> bool:
        return True

    @property
    def playing(self) -> bool:
        """True while a segment has audio queued or playing and is not paused."""
        return self._segment_done is not None and not self._paused

    def _segment(self) -> asyncio.Future[PlaybackFinished]:
        if self._segment_done is None:
            self._segment_done = asyncio.get_running_loop().create_future()
            self._played = 0.0
            self._flushed = False
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._playout(), name="bargein-playout"
            )
        return self._segment_done

    async def capture_frame(self, frame: AudioFrame) -> None:
        if frame.sample_rate != self.sample_rate:
            raise SampleRateError(
                f"audio output plays {self.sample_rate} Hz, got a {frame.sample_rate} Hz frame"
            )
        self._segment()
        while self._queued_seconds >= self._buffer_limit:
            self._space.clear()
            await self._space.wait()
            if self._segment_done is None:  # cleared while we waited: start a new segment
                self._segment()
        self._queue.append(frame)
        self._queued_seconds += frame.duration
        self._wakeup.set()

    def flush(self) -> None:
        if self._segment_done is None:
            return
        self._flushed = True
        self._wakeup.set()

    def clear_buffer(self) -> None:
        self._queue.clear()
        self._queued_seconds = 0.0
        self._paused = False
        self._finish(interrupted=True)

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        self._paused = False
        self._wakeup.set()

    async def wait_for_playout(self) -> PlaybackFinished:
        if self._segment_done is None:
            return PlaybackFinished(self._played, interrupted=False)
        return await asyncio.shield(self._segment_done)

    async def aclose(self) -> None:
        """Stop the playout task."""
        self.clear_buffer()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def _finish(self, *, interrupted: bool) -> None:
        done, self._segment_done = self._segment_done, None
        played, self._played = self._played, 0.0
        self._space.set()
        if done is not None and not done.done():
            done.set_result(PlaybackFinished(played, interrupted))

    async def _playout(self) -> None:
        # Frames play on an absolute schedule (no drift from late wake-ups); the sink is told
        # each frame's scheduled start. A frame later than the buffer allows, or the first
        # after an idle or paused stretch, starts a new schedule at "now".
        loop = asyncio.get_running_loop()
        next_at: float | None = None
        while True:
            if self._paused or not self._queue:
                if not self._queue and self._flushed and not self._paused:
                    self._finish(interrupted=False)
                self._wakeup.clear()
                next_at = None
                await self._wakeup.wait()
                continue
            frame = self._queue.popleft()
            self._queued_seconds = max(0.0, self._queued_seconds - frame.duration)
            self._space.set()
            now = loop.time()
            if next_at is None or now - next_at > self._buffer_limit:
                next_at = now
            elif next_at > now:
                await asyncio.sleep(next_at - now)
            at = next_at
            self._sink(frame, at)
            self._played += frame.duration
            self._notify_played(frame, at)
            next_at = at + frame.duration
            await asyncio.sleep(max(0.0, next_at - loop.time()))
