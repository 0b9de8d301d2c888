"""Sample-rate conversion at the edges (soxr, extra ``local``)."""

from __future__ import annotations

import numpy as np

from bargein._extras import require
from bargein.audio.frame import AudioFrame, check_sample_rate


def resample(frame: AudioFrame, sample_rate: int) -> AudioFrame:
    """Return ``frame`` converted to ``sample_rate`` Hz (the same frame if already there).

    The output length is ``round(n * new_rate / old_rate)`` so timings stay aligned: a
    sample at time t in the input is at time t in the output.
    """
    target = check_sample_rate(sample_rate)
    if frame.sample_rate == target:
        return frame
    soxr = require("soxr", extra="local", feature="Resampling")
    out = soxr.resample(frame.to_int16(), frame.sample_rate, target, quality="HQ")
    expected = max(1, round(frame.num_samples * target / frame.sample_rate))
    out = _fit_length(np.asarray(out, dtype=np.int16), expected)
    return AudioFrame.from_int16(out, target)


class StreamResampler:
    """Resamples a stream chunk by chunk, keeping filter state between chunks.

    Chunks may come out a little shorter or longer than their input share while the filter
    fills; :meth:`flush` returns the tail, so the total stays right.
    """

    def __init__(self, from_rate: int, to_rate: int) -> None:
        self.from_rate = check_sample_rate(from_rate)
        self.to_rate = check_sample_rate(to_rate)
        self._stream = None
        if self.from_rate != self.to_rate:
            soxr = require("soxr", extra="local", feature="Resampling")
            self._stream = soxr.ResampleStream(
                self.from_rate, self.to_rate, 1, dtype="int16", quality="HQ"
            )

    def push(self, frame: AudioFrame) -> AudioFrame | None:
        """Resample one chunk; None when the filter has nothing to give yet."""
        if frame.sample_rate != self.from_rate:
            from bargein.errors import SampleRateError

            raise SampleRateError(
                f"resampler expects {self.from_rate} Hz input, got {frame.sample_rate} Hz"
            )
        if self._stream is None:
            return frame
        out = self._stream.resample_chunk(frame.to_int16(), last=False)
        return AudioFrame.from_int16(np.asarray(out, np.int16), self.to_rate) if len(out) else None

    def flush(self) -> AudioFrame | None:
        """Drain the filter at end of stream."""
        if self._stream is None:
            return None
        out = self._stream.resample_chunk(np.zeros(0, np.int16), last=True)
        return AudioFrame.from_int16(np.asarray(out, np.int16), self.to_rate) if len(out) else None


def _fit_length(samples: np.ndarray, n: int) -> np.ndarray:
    if len(samples) == n:
        return samples
    if len(samples) > n:
        return samples[:n]
    return np.concatenate([samples, np.zeros(n - len(samples), np.int16)])
