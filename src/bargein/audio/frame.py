"""The audio frame: a run of mono PCM16 samples at a known sample rate."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bargein.audio.convert import float_to_int16, int16_to_float
from bargein.errors import AudioFormatError, EmptyAudioError, SampleRateError

#: Sample rates a session may run at (DESIGN.md section 3). Other rates are accepted at the
#: edges (a TTS engine's native rate, a WAV file) and resampled on the way in.
SESSION_SAMPLE_RATES = (8000, 16000, 24000)
DEFAULT_SAMPLE_RATE = 16000

_MIN_RATE = 1000
_MAX_RATE = 384000


def check_sample_rate(sample_rate: int) -> int:
    """Return ``sample_rate`` if it is a plausible audio rate, else raise SampleRateError."""
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)):
        raise SampleRateError(f"sample rate must be an integer number of Hz, got {sample_rate!r}")
    if not _MIN_RATE <= int(sample_rate) <= _MAX_RATE:
        raise SampleRateError(
            f"sample rate {sample_rate} Hz is outside {_MIN_RATE}..{_MAX_RATE} Hz"
        )
    return int(sample_rate)


def check_session_rate(sample_rate: int) -> int:
    """Return ``sample_rate`` if a session can run at it (8, 16 or 24 kHz)."""
    rate = check_sample_rate(sample_rate)
    if rate not in SESSION_SAMPLE_RATES:
        supported = ", ".join(str(r) for r in SESSION_SAMPLE_RATES)
        raise SampleRateError(
            f"session sample rate must be one of {supported} Hz, got {rate} Hz; "
            "resample at the edge with bargein.audio.resample()"
        )
    return rate


@dataclass(frozen=True, slots=True, eq=False)
class AudioFrame:
    """Mono 16-bit PCM audio (little-endian bytes) at ``sample_rate`` Hz.

    A frame always holds at least one sample. Build one from bytes with
    ``AudioFrame(data, rate)``, or from arrays with :meth:`from_int16` / :meth:`from_float`.
    """

    data: bytes
    sample_rate: int

    def __post_init__(self) -> None:
        if isinstance(self.data, (bytearray, memoryview)):
            object.__setattr__(self, "data", bytes(self.data))
        if not isinstance(self.data, bytes):
            raise AudioFormatError(
                f"AudioFrame data must be PCM16 bytes, got {type(self.data).__name__}; "
                "use AudioFrame.from_int16() or AudioFrame.from_float() for arrays"
            )
        check_sample_rate(self.sample_rate)
        if len(self.data) % 2:
            raise AudioFormatError(
                f"PCM16 audio needs an even number of bytes, got {len(self.data)} "
                "(a truncated sample?)"
            )
        if not self.data:
            raise EmptyAudioError("an audio frame must hold at least one sample")

    @classmethod
    def _unchecked(cls, data: bytes, sample_rate: int) -> AudioFrame:
        """A frame of PCM16 bytes and a rate that are valid by construction (a slice of a
        frame, samples of a session-rate room), without ``__init__``'s checks: the hot paths
        of a simulation make about 500 frames per second of audio, and the checks were 6% of
        a benchmark's run time. Internal: everything else builds frames the checked way."""
        frame = object.__new__(cls)
        object.__setattr__(frame, "data", data)
        object.__setattr__(frame, "sample_rate", sample_rate)
        return frame

    @classmethod
    def from_int16(cls, samples: np.ndarray, sample_rate: int) -> AudioFrame:
        """Frame from a 1-D int16 array."""
        arr = np.asarray(samples)
        if arr.ndim != 1:
            raise AudioFormatError(f"expected mono 1-D samples, got shape {arr.shape}")
        if arr.dtype != np.int16:
            raise AudioFormatError(
                f"expected int16 samples, got {arr.dtype}; use from_float() for float audio"
            )
        return cls(arr.astype("<i2", copy=False).tobytes(), sample_rate)

    @classmethod
    def from_float(cls, samples: np.ndarray, sample_rate: int) -> AudioFrame:
        """Frame from 1-D float samples in [-1, 1] (clipped; NaN/inf refused)."""
        return cls.from_int16(float_to_int16(samples), sample_rate)

    @classmethod
    def silence(cls, duration: float, sample_rate: int) -> AudioFrame:
        """A frame of digital silence lasting ``duration`` seconds (at least one sample)."""
        n = max(1, round(duration * check_sample_rate(sample_rate)))
        return cls(bytes(2 * n), sample_rate)

    @property
    def num_samples(self) -> int:
        """Number of samples in the frame."""
        return len(self.data) // 2

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.num_samples / self.sample_rate

    def to_int16(self) -> np.ndarray:
        """Samples as a read-only int16 array (no copy)."""
        return np.frombuffer(self.data, dtype="<i2")

    def to_float(self) -> np.ndarray:
        """Samples as float32 in [-1, 1)."""
        return int16_to_float(self.to_int16())

    def rms(self) -> float:
        """Root-mean-square level in [0, 1]."""
        # The values of to_float() (int16 / 2**15 is exact in float32) widened to float64
        # directly, and np.mean's own sum / count: the same figure to the last bit, at half
        # the cost (the agent's input measures every frame).
        x = self.to_int16().astype(np.float64) * (1.0 / 32768)
        return math.sqrt(float(np.add.reduce(x * x)) / len(x))

    def __len__(self) -> int:
        return self.num_samples

    def __repr__(self) -> str:
        return (
            f"AudioFrame({self.num_samples} samples, {self.sample_rate} Hz, "
            f"{self.duration * 1000:.1f} ms)"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AudioFrame):
            return NotImplemented
        return self.sample_rate == other.sample_rate and self.data == other.data

    def __hash__(self) -> int:
        return hash((self.sample_rate, self.data))


def concat(frames: list[AudioFrame] | tuple[AudioFrame, ...]) -> AudioFrame:
    """Join frames of one sample rate into one frame; mixed rates are refused."""
    if not frames:
        raise EmptyAudioError("cannot concatenate zero frames")
    rates = {f.sample_rate for f in frames}
    if len(rates) > 1:
        raise SampleRateError(
            f"cannot join frames of different sample rates {sorted(rates)}; resample first"
        )
    return AudioFrame(b"".join(f.data for f in frames), frames[0].sample_rate)
