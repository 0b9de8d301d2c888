"""Mixing: summing audio that plays at the same time, with clipping instead of wrap-around."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bargein.audio.frame import AudioFrame, check_sample_rate
from bargein.errors import EmptyAudioError, SampleRateError


def mix(frames: Sequence[AudioFrame], gains: Sequence[float] | None = None) -> AudioFrame:
    """Sum frames that start together (shorter ones are padded with silence).

    ``gains`` scales each input (default 1.0). All frames must share one sample rate.
    """
    if not frames:
        raise EmptyAudioError("mix() needs at least one frame")
    rate = _common_rate(frames)
    gains = [1.0] * len(frames) if gains is None else list(gains)
    if len(gains) != len(frames):
        raise ValueError(f"mix() got {len(frames)} frames but {len(gains)} gains")
    acc = np.zeros(max(f.num_samples for f in frames), np.float64)
    for frame, gain in zip(frames, gains, strict=True):
        acc[: frame.num_samples] += frame.to_int16() * gain
    return AudioFrame.from_int16(clip_to_int16(acc), rate)


def clip_to_int16(samples: np.ndarray) -> np.ndarray:
    """Round and clip a wide-range sum back into int16."""
    # maximum/minimum is np.clip's arithmetic without its per-call checks (np.iinfo of the
    # bounds): the room clips the caller's mouth on every frame it speaks
    return np.minimum(np.maximum(np.round(samples), -32768), 32767).astype(np.int16)


class Track:
    """One party's audio placed at absolute sample positions on a shared timeline.

    Audio added over audio already there is summed (two things said at once by the same
    party are both kept); gaps are silence.
    """

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = check_sample_rate(sample_rate)
        self._buf = np.zeros(0, np.int32)
        self._end = 0

    @property
    def end_sample(self) -> int:
        """One past the last sample written."""
        return self._end

    @property
    def duration(self) -> float:
        """Seconds from the timeline start to the end of the last audio."""
        return self._end / self.sample_rate

    def add(self, frame: AudioFrame, at_sample: int | None = None) -> int:
        """Place ``frame`` starting at ``at_sample`` (default: the current end); returns it."""
        if frame.sample_rate != self.sample_rate:
            raise SampleRateError(
                f"track runs at {self.sample_rate} Hz, got a {frame.sample_rate} Hz frame; "
                "resample before recording"
            )
        start = self._end if at_sample is None else int(at_sample)
        if start < 0:
            raise ValueError(f"sample position must be >= 0, got {start}")
        stop = start + frame.num_samples
        self._reserve(stop)
        self._buf[start:stop] += frame.to_int16()
        self._end = max(self._end, stop)
        return start

    def samples(self, length: int | None = None) -> np.ndarray:
        """The track as int16, padded with silence (or cut) to ``length`` samples."""
        n = self._end if length is None else length
        out = np.zeros(n, np.int32)
        m = min(n, self._end)
        out[:m] = self._buf[:m]
        return clip_to_int16(out)

    def _reserve(self, n: int) -> None:
        if n > len(self._buf):
            grown = np.zeros(max(n, 2 * len(self._buf), 16000), np.int32)
            grown[: len(self._buf)] = self._buf
            self._buf = grown


def _common_rate(frames: Sequence[AudioFrame]) -> int:
    rates = {f.sample_rate for f in frames}
    if len(rates) > 1:
        raise SampleRateError(f"cannot mix different sample rates {sorted(rates)}")
    return frames[0].sample_rate
