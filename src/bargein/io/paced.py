"""An audio output that plays frames at real-time pace on the event loop's clock."""

from __future__ import annotations

import asyncio
import collections

from bargein.audio.frame import AudioFrame
from bargein.errors import SampleRateError
from bargein.io.ports import AudioOutput, PlaybackFinished, PlayCallback


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
        self._last = PlaybackFinished(0.0, interrupted=False)  # the segment that ended last
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
        if self._segment_done is None:  # it already ended (maybe before anyone waited)
            return self._last
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
        if done is not None:
            self._last = PlaybackFinished(played, interrupted)
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
