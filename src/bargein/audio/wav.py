"""WAV reading and writing with clear errors for missing, empty or corrupt files.

PCM and float WAV files are parsed and checked here (:mod:`bargein.audio.riff`): a corrupt
or cut-short file raises :class:`~bargein.errors.WavError` naming the file and the problem.
Other formats (FLAC, OGG, mu-law WAV...) are read with ``soundfile`` when the ``local`` extra
is installed.
"""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np

from bargein._extras import require
from bargein.audio.convert import float_to_int16
from bargein.audio.frame import AudioFrame
from bargein.audio.riff import RiffProblem, decode, is_riff_wave, parse_wave
from bargein.errors import AudioFormatError, EmptyAudioError, MissingExtraError, WavError

PathOrFile = str | Path | io.BytesIO
#: First bytes of audio files that are not WAV (FLAC, OGG, AIFF, MP3 with a tag, CAF, AU).
_OTHER_AUDIO_MAGIC = (b"fLaC", b"OggS", b"FORM", b"ID3\x03", b"ID3\x04", b"caff", b".snd",
                      b"RIFX", b"RF64")


def read_wav(source: PathOrFile | bytes) -> AudioFrame:
    """Read a mono audio file (or its bytes) into one frame at the file's own rate.

    Stereo files are refused rather than silently downmixed: use :func:`read_stereo_wav`.
    Errors: ``FileNotFoundError`` (no such file), :class:`~bargein.errors.EmptyAudioError`
    (0 bytes, or no samples), :class:`~bargein.errors.WavError` (a directory, unreadable,
    not audio, corrupt or cut short; it names the file and the problem),
    :class:`~bargein.errors.AudioFormatError` (more than one channel), ``TypeError`` (not a
    path, bytes or ``io.BytesIO``).
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
    name = _name(source)
    data = _source_bytes(source)
    if not data:
        raise EmptyAudioError(f"{name} is empty (0 bytes)")
    if is_riff_wave(data):
        try:
            fmt, audio = parse_wave(data)
            if fmt.decodable:
                return decode(fmt, audio), fmt.sample_rate
        except RiffProblem as exc:
            raise WavError(name, str(exc)) from None
        return _read_with_soundfile(data, name, f"WAV files with encoding {fmt.encoding:#06x}")
    if data[:4] in (b"RIFF", b"RIFX", b"RF64") and data[8:12] != b"WAVE":
        raise WavError(name, "not a readable audio file (a RIFF file, but not WAVE audio)")
    return _read_with_soundfile(data, name, "reading audio files other than WAV")


def _source_bytes(source: object) -> bytes:
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"audio file not found: {path}")
        if path.is_dir():
            raise WavError(str(path), "is a directory, not an audio file")
        try:
            return path.read_bytes()
        except OSError as exc:
            raise WavError(str(path), f"cannot be read ({exc.strerror or exc})") from None
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, io.BytesIO):
        return source.getvalue()
    raise TypeError(f"audio must be a path, bytes or io.BytesIO, got {type(source).__name__}")


def _read_with_soundfile(data: bytes, name: str, feature: str) -> tuple[np.ndarray, int]:
    try:
        sf = require("soundfile", extra="local", feature=feature[0].upper() + feature[1:])
    except MissingExtraError:
        if is_riff_wave(data) or data[:4] in _OTHER_AUDIO_MAGIC:
            raise
        raise WavError(name, "not a readable audio file (no RIFF/WAVE header; formats "
                             "such as FLAC or OGG need pip install 'bargein[local]')") from None
    try:
        samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=False)
    except Exception as exc:  # soundfile raises its own LibsndfileError / RuntimeError
        why = str(exc).split(": ", 1)[-1] if "<_io." in str(exc) else str(exc)
        raise WavError(name, f"not a readable audio file ({why or type(exc).__name__})") \
            from None
    try:
        return float_to_int16(np.asarray(samples)), int(rate)
    except AudioFormatError as exc:
        raise WavError(name, str(exc)) from None


def _as_target(target: str | Path | io.BytesIO) -> str | io.BytesIO:
    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
        return str(target)
    return target


def _name(source: object) -> str:
    if isinstance(source, (str, Path)):
        return str(source)
    return "audio data"
