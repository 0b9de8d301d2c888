"""An agent audio output played by a remote client that reports its playout.

The server sends the agent's audio to the browser, which plays it and reports how many
samples of each segment it has played. :attr:`RemotePlayoutOutput.played` comes from those
reports, so the session's truncation (which words were heard) follows the browser's
speaker, not the network.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bargein.audio.frame import AudioFrame
from bargein.audio.resample import StreamResampler
from bargein.errors import SampleRateError
from bargein.io.ports import AudioOutput, PlaybackFinished

#: ``send(message)``: bytes (audio) or a dict (a JSON control message), in order.
Send = Callable[[bytes | dict[str, Any]], None]


class RemotePlayoutOutput(AudioOutput):
    """An :class:`~bargein.io.AudioOutput` whose playout is reported by the client.

    Args:
        sample_rate: the session's rate (frames given to :meth:`capture_frame`).
        send: queues one message for the client (see :mod:`bargein.live.protocol`).
        remote_rate: the client's rate; audio is resampled to it, reports are in it.
        ahead: seconds of audio that may be sent ahead of the reported playout.
        stall_timeout: a flushed segment whose reports stop for this long (beyond the audio
            still to play) is taken as played out, so a silent client cannot hang a session.
        on_played: ``on_played(frame, at)`` for each frame once the client has played it
            (``at`` in loop time), e.g. to record it.
    """

    def __init__(self, sample_rate: int, send: Send, *, remote_rate: int | None = None,
                 ahead: float = 0.3, stall_timeout: float = 3.0,
                 on_played: Callable[[AudioFrame, float], None] | None = None) -> None:
        super().__init__(sample_rate)
        self._send = send
        self.remote_rate = remote_rate or sample_rate
        self.ahead = ahead
        self.stall_timeout = stall_timeout
        self._on_played = on_played
        self._next_id = 1
        self._segment: int | None = None
        self._frames: list[tuple[float, AudioFrame]] = []  # (start in the segment, frame)
        self._notified = 0
        self._sent = 0.0
        self._played = 0.0
        self._flushed = False
        self._done: asyncio.Future[PlaybackFinished] | None = None
        self._last = PlaybackFinished(0.0, interrupted=False)  # the segment that ended last
        self._resampler: StreamResampler | None = None
        self._progress = asyncio.Event()
        self._watchdog: asyncio.TimerHandle | None = None
        self._closed = False

    @property
    def reports_frames(self) -> bool:
        return True

    @property
    def played(self) -> float:
        return self._played if self._segment is not None else 0.0

    @property
    def segment(self) -> int | None:
        """Id of the open segment (None between speeches)."""
        return self._segment

    def _open(self) -> None:
        if self._segment is not None:
            return
        self._segment, self._next_id = self._next_id, self._next_id + 1
        self._frames, self._notified = [], 0
        self._sent = self._played = 0.0
        self._flushed = False
        self._done = asyncio.get_running_loop().create_future()
        self._resampler = (None if self.remote_rate == self.sample_rate
                           else StreamResampler(self.sample_rate, self.remote_rate))
        self._send({"type": "segment", "segment": self._segment})

    async def capture_frame(self, frame: AudioFrame) -> None:
        if frame.sample_rate != self.sample_rate:
            raise SampleRateError(
                f"audio output plays {self.sample_rate} Hz, got a {frame.sample_rate} Hz frame")
        if self._closed:
            raise ConnectionError("the client has gone")
        self._open()
        while self._sent - self._played > self.ahead and not self._closed:
            segment = self._segment
            self._progress.clear()
            await self._progress.wait()
            if self._segment != segment:  # cleared while waiting: this frame starts anew
                self._open()
        if self._closed:
            raise ConnectionError("the client has gone")
        self._frames.append((self._sent, frame))
        self._sent += frame.duration
        self._send_audio(frame if self._resampler is None else self._resampler.push(frame))

    def _send_audio(self, frame: AudioFrame | None) -> None:
        if frame is not None and frame.num_samples:
            self._send(frame.to_int16().astype("<i2").tobytes())

    def flush(self) -> None:
        if self._segment is None or self._flushed:
            return
        if self._resampler is not None:
            self._send_audio(self._resampler.flush())
        self._flushed = True
        self._send({"type": "flush", "segment": self._segment})
        self._arm_watchdog()

    def clear_buffer(self) -> None:
        if self._segment is not None:
            self._send({"type": "clear", "segment": self._segment})
        self._finish(interrupted=True)

    def pause(self) -> None:
        self._send({"type": "pause"})

    def resume(self) -> None:
        self._send({"type": "resume"})

    async def wait_for_playout(self) -> PlaybackFinished:
        if self._done is None:  # it already ended (maybe before anyone waited)
            return self._last
        return await asyncio.shield(self._done)

    def report(self, kind: str, segment: int, samples: int) -> None:
        """A ``played`` or ``done`` report from the client (stale segments are ignored)."""
        if segment != self._segment:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._played = max(self._played, min(self._sent, samples / self.remote_rate))
        while self._notified < len(self._frames) and \
                self._frames[self._notified][0] < self._played - 1e-9:
            start, frame = self._frames[self._notified]
            self._notified += 1
            at = now - (self._played - start)
            if self._on_played is not None:
                self._on_played(frame, at)
            self._notify_played(frame, at)
        self._progress.set()
        if kind == "done" and self._flushed:
            self._finish(interrupted=False)
        elif self._flushed:
            self._arm_watchdog()

    def close(self) -> None:
        """The client has gone: every wait ends, the open segment ends as interrupted."""
        self._closed = True
        self._finish(interrupted=True)

    def _arm_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        left = max(0.0, self._sent - self._played)
        self._watchdog = asyncio.get_running_loop().call_later(
            left + self.stall_timeout, self._stalled, self._segment)

    def _stalled(self, segment: int | None) -> None:
        if segment == self._segment:
            self._finish(interrupted=False)

    def _finish(self, *, interrupted: bool) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        done, self._done = self._done, None
        played = self._played
        if done is not None:
            self._last = PlaybackFinished(played, interrupted)
        self._segment = None
        self._frames = []
        self._progress.set()
        if done is not None and not done.done():
            done.set_result(PlaybackFinished(played, interrupted))
