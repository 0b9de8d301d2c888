"""An audio input fed by hand: push frames, close when done."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from bargein.audio.frame import AudioFrame, check_sample_rate
from bargein.errors import SampleRateError


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
