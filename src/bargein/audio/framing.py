"""Cutting audio into the fixed-size frames the runtime moves around (10 or 20 ms)."""

from __future__ import annotations

from collections.abc import Iterator

from bargein.audio.frame import AudioFrame, check_sample_rate
from bargein.errors import AudioFormatError, SampleRateError

FRAME_DURATIONS = (0.01, 0.02)


def samples_per_frame(sample_rate: int, frame_duration: float) -> int:
    """Samples in one frame; the duration must be a whole number of samples."""
    n = frame_duration * check_sample_rate(sample_rate)
    if n < 1 or abs(n - round(n)) > 1e-6:
        raise AudioFormatError(
            f"a {frame_duration * 1000:g} ms frame is not a whole number of samples "
            f"at {sample_rate} Hz"
        )
    return round(n)


def split_frames(audio: AudioFrame, frame_duration: float = 0.02, *,
                 pad: bool = True) -> list[AudioFrame]:
    """Cut ``audio`` into frames of ``frame_duration`` seconds.

    With ``pad`` (default) the last partial frame is zero-padded to full length, so every
    frame is equal; without it the short tail is kept as a shorter final frame.
    """
    return list(iter_frames(audio, frame_duration, pad=pad))


def iter_frames(audio: AudioFrame, frame_duration: float = 0.02, *,
                pad: bool = True) -> Iterator[AudioFrame]:
    """Lazy :func:`split_frames`."""
    step = 2 * samples_per_frame(audio.sample_rate, frame_duration)
    data = audio.data
    for i in range(0, len(data), step):
        chunk = data[i : i + step]
        if len(chunk) < step and pad:
            chunk = chunk + bytes(step - len(chunk))
        yield AudioFrame(chunk, audio.sample_rate)


class FrameAssembler:
    """Regroups a stream of arbitrary-length chunks into fixed frames.

    ``push`` returns every complete frame; ``flush`` returns the zero-padded remainder.
    """

    def __init__(self, sample_rate: int, frame_duration: float = 0.02) -> None:
        self.sample_rate = check_sample_rate(sample_rate)
        self._step = 2 * samples_per_frame(sample_rate, frame_duration)
        self._pending = bytearray()

    def push(self, chunk: AudioFrame) -> list[AudioFrame]:
        """Add a chunk; return the frames it completes."""
        if chunk.sample_rate != self.sample_rate:
            raise SampleRateError(
                f"expected {self.sample_rate} Hz audio, got {chunk.sample_rate} Hz "
                "(mixed sample rates in one stream)"
            )
        if not self._pending and len(chunk.data) == self._step:
            return [chunk]  # already one whole frame (frames are immutable: pass it on)
        self._pending += chunk.data
        out = []
        while len(self._pending) >= self._step:
            out.append(AudioFrame._unchecked(bytes(self._pending[: self._step]),
                                             self.sample_rate))
            del self._pending[: self._step]
        return out

    def flush(self) -> AudioFrame | None:
        """The remainder, zero-padded to a full frame, or None if nothing is pending."""
        if not self._pending:
            return None
        data = bytes(self._pending) + bytes(self._step - len(self._pending))
        self._pending.clear()
        return AudioFrame(data, self.sample_rate)
