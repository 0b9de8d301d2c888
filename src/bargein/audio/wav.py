"""WAV reading and writing with clear errors for missing, empty or corrupt files.

PCM16 WAV goes through the standard library. Other formats (float WAV, FLAC, OGG...) are read
with ``soundfile`` when the ``local`` extra is installed.
"""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np

from bargein._extras import require
from bargein.audio.convert import float_to_int16
from bargein.audio.frame import AudioFrame
from bargein.errors import AudioFormatError, EmptyAudioError

PathOrFile = str | Path | io.BytesIO


def read_wav(source: PathOrFile | bytes) -> AudioFrame:
    """Read a mono audio file (or its bytes) into one frame at the file's own rate.

    Stereo files are refused rather than silently downmixed: use :func:`read_stereo_wav`.
    """
    samples, rate = _read_any(source)
    if samples.ndim == 2:
        if samples.shape[1] != 1:
            raise AudioFormatError(
                f"{_name(source)} has {samples.shape[1]} channels; bargein parties are mono "
                "(use read_stereo_wav() for a recording)"
            )
        samples = samples[:, 0]
    if samples.size == 0:
        raise EmptyAudioError(f"{_name(source)} holds no audio samples")
    return AudioFrame.from_int16(samples, rate)


def read_stereo_wav(source: PathOrFile | bytes) -> tuple[np.ndarray, int]:
    """Read a file as an ``(n, channels)`` int16 array and its sample rate."""
    samples, rate = _read_any(source)
    if samples.ndim == 1:
        samples = samples[:, None]
    if samples.size == 0:
        raise EmptyAudioError(f"{_name(source)} holds no audio samples")
    return samples, rate


def write_wav(target: str | Path | io.BytesIO, audio: AudioFrame | np.ndarray,
              sample_rate: int | None = None) -> None:
    """Write PCM16 WAV: a frame, or an int16 array of shape ``(n,)`` or ``(n, channels)``.

    The bytes depend only on the samples, so equal audio gives byte-identical files.
    """
    if isinstance(audio, AudioFrame):
        samples, rate = audio.to_int16()[:, None], audio.sample_rate
    else:
        if sample_rate is None:
            raise ValueError("write_wav() needs sample_rate when given an array")
        samples = np.asarray(audio)
        if samples.dtype != np.int16:
            raise AudioFormatError(f"write_wav() takes int16 samples, got {samples.dtype}")
        if samples.ndim == 1:
            samples = samples[:, None]
        rate = sample_rate
    with wave.open(_as_target(target), "wb") as w:
        w.setnchannels(samples.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())


def wav_bytes(audio: AudioFrame | np.ndarray, sample_rate: int | None = None) -> bytes:
    """The WAV file for ``audio`` as bytes."""
    buf = io.BytesIO()
    write_wav(buf, audio, sample_rate)
    return buf.getvalue()


def _read_any(source: PathOrFile | bytes) -> tuple[np.ndarray, int]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"audio file not found: {path}")
        if path.is_dir():
            raise AudioFormatError(f"{path} is a directory, not an audio file")
        data = path.read_bytes()
    elif isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        data = source.getvalue()
    if not data:
        raise EmptyAudioError(f"{_name(source)} is empty (0 bytes)")
    try:
        return _read_pcm16_wav(data)
    except (wave.Error, EOFError):
        pass
    return _read_with_soundfile(data, source)


def _read_pcm16_wav(data: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(data), "rb") as w:
        if w.getsampwidth() != 2:
            raise wave.Error("not 16-bit")
        channels, rate = w.getnchannels(), w.getframerate()
        raw = w.readframes(w.getnframes())
    if len(raw) % (2 * channels):
        raise AudioFormatError("WAV data ends mid-sample: the file is truncated or corrupt")
    samples = np.frombuffer(raw, dtype="<i2").astype(np.int16)
    return (samples if channels == 1 else samples.reshape(-1, channels)), rate


def _read_with_soundfile(data: bytes, source: object) -> tuple[np.ndarray, int]:
    sf = require("soundfile", extra="local", feature="Reading non-PCM16 audio files")
    try:
        samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=False)
    except Exception as exc:  # soundfile raises its own LibsndfileError / RuntimeError
        why = str(exc).split(": ", 1)[-1] if "<_io." in str(exc) else str(exc)
        raise AudioFormatError(f"{_name(source)} is not a readable audio file ({why})") from exc
    return float_to_int16(np.asarray(samples)), int(rate)


def _as_target(target: str | Path | io.BytesIO) -> str | io.BytesIO:
    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
        return str(target)
    return target


def _name(source: object) -> str:
    if isinstance(source, (str, Path)):
        return str(source)
    return "audio data"
