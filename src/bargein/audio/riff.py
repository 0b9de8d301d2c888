"""Strict parsing of RIFF/WAVE files: every corrupt or cut-short file is refused by name.

The standard library's ``wave`` module trusts the header: a file cut short reads as a shorter
file, and some corrupt headers make it raise a bare ``RuntimeError``. Here the chunk
structure is checked against the bytes that are really there, and PCM (8/16/24/32-bit) and
IEEE float WAV are decoded with numpy, so no optional package is needed for them. Other WAV
encodings (mu-law, A-law, ADPCM...) are recognised and left to ``soundfile``.

The one tolerance: a data chunk whose size is ``0xFFFFFFFF`` (written by tools that stream a
WAV to a pipe and cannot go back to fill the size in) runs to the end of the file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from bargein.audio.convert import float_to_int16
from bargein.audio.frame import check_sample_rate
from bargein.errors import AudioFormatError

_PCM, _FLOAT, _EXTENSIBLE = 0x0001, 0x0003, 0xFFFE
_UNKNOWN_SIZE = 0xFFFFFFFF
#: Sample widths decoded here, per encoding.
_PCM_BITS = (8, 16, 24, 32)
_FLOAT_BITS = (32, 64)


class RiffProblem(Exception):
    """What is wrong with a WAV file, in words (the caller adds the file's name)."""


@dataclass(frozen=True)
class WaveFormat:
    """The ``fmt `` chunk: encoding, channels, rate and sample layout."""

    encoding: int  # 1 PCM, 3 IEEE float, other codes: compressed encodings
    channels: int
    sample_rate: int
    bits: int
    block_align: int

    @property
    def decodable(self) -> bool:
        """True for the encodings decoded here (PCM and IEEE float)."""
        return (self.encoding == _PCM and self.bits in _PCM_BITS) or (
            self.encoding == _FLOAT and self.bits in _FLOAT_BITS)


def is_riff_wave(data: bytes) -> bool:
    """True if ``data`` starts like a little-endian RIFF/WAVE file."""
    return data[:4] == b"RIFF" and data[8:12] == b"WAVE"


def parse_wave(data: bytes) -> tuple[WaveFormat, bytes]:
    """The format and the raw audio bytes of a RIFF/WAVE file; :class:`RiffProblem` if the
    file is corrupt, cut short or inconsistent."""
    if len(data) < 12 or not is_riff_wave(data):
        raise RiffProblem("not a RIFF/WAVE file")
    declared = struct.unpack_from("<I", data, 4)[0] + 8
    if declared not in (8, _UNKNOWN_SIZE + 8) and declared > len(data) + 1:
        raise RiffProblem(f"the file is cut short: its header says {declared} bytes, "
                          f"it holds {len(data)}")
    end = len(data) if declared in (8, _UNKNOWN_SIZE + 8) else min(declared, len(data))
    fmt: WaveFormat | None = None
    audio: bytes | None = None
    pos = 12
    while pos + 8 <= end:
        chunk_id, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        name = chunk_id.decode("latin-1")
        if not all(0x20 <= b <= 0x7E for b in chunk_id):
            raise RiffProblem(f"corrupt: the bytes at offset {pos} are not a chunk header "
                              f"(a chunk size before them is wrong, or the file is damaged)")
        body = pos + 8
        if chunk_id == b"data" and size == _UNKNOWN_SIZE:
            size = end - body
        if body + size > end:
            what = "audio" if chunk_id == b"data" else "bytes"
            raise RiffProblem(f"the file is cut short: its {name!r} chunk declares {size} "
                              f"{what}, only {end - body} are there")
        if chunk_id == b"fmt ":
            if fmt is not None:
                raise RiffProblem("corrupt: two 'fmt ' chunks")
            fmt = _parse_fmt(data[body:body + size])
        elif chunk_id == b"data":
            if audio is not None:
                raise RiffProblem("corrupt: two 'data' chunks")
            if fmt is None:
                raise RiffProblem("corrupt: the 'data' chunk comes before the 'fmt ' chunk")
            audio = data[body:body + size]
        pos = body + size + (size & 1)
    tail = data[pos:end]
    if tail.strip(b"\0"):
        raise RiffProblem(f"corrupt: {len(tail)} stray bytes at offset {pos}, too few for a "
                          "chunk")
    if fmt is None:
        raise RiffProblem("corrupt: no 'fmt ' chunk (the audio format is unknown)")
    if audio is None:
        raise RiffProblem("no 'data' chunk: the file holds no audio")
    if fmt.block_align and len(audio) % fmt.block_align:
        raise RiffProblem(f"the audio data ends mid-sample ({len(audio)} bytes is not a "
                          f"multiple of {fmt.block_align}): the file is cut short or corrupt")
    return fmt, audio


def decode(fmt: WaveFormat, audio: bytes) -> np.ndarray:
    """Decoded int16 samples, shape ``(n,)`` for mono or ``(n, channels)``."""
    if not fmt.decodable:
        raise RiffProblem(f"encoding {fmt.encoding:#06x} is not decoded here")
    width = fmt.bits // 8
    raw = np.frombuffer(audio, dtype=np.uint8)
    if fmt.encoding == _FLOAT:
        floats = np.frombuffer(audio, dtype="<f4" if width == 4 else "<f8")
        try:
            samples = float_to_int16(floats)
        except AudioFormatError as exc:
            raise RiffProblem(str(exc)) from None
    elif width == 1:
        samples = ((raw.astype(np.int16) - 128) << 8).astype(np.int16)
    elif width == 2:
        samples = np.frombuffer(audio, dtype="<i2").astype(np.int16)
    elif width == 3:
        triples = raw.reshape(-1, 3).astype(np.int32)
        value = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        value = np.where(value >= 1 << 23, value - (1 << 24), value)
        samples = (value >> 8).astype(np.int16)
    else:
        samples = (np.frombuffer(audio, dtype="<i4") >> 16).astype(np.int16)
    return samples if fmt.channels == 1 else samples.reshape(-1, fmt.channels)


def _parse_fmt(body: bytes) -> WaveFormat:
    if len(body) < 16:
        raise RiffProblem(f"corrupt: the 'fmt ' chunk is {len(body)} bytes, at least 16 are "
                          "needed")
    encoding, channels, rate, byte_rate, block_align, bits = struct.unpack_from(
        "<HHIIHH", body)
    if encoding == _EXTENSIBLE:
        if len(body) < 40:
            raise RiffProblem("corrupt: an extensible 'fmt ' chunk shorter than 40 bytes")
        encoding = struct.unpack_from("<H", body, 24)[0]
    if channels < 1:
        raise RiffProblem("corrupt: the header says 0 channels")
    try:
        check_sample_rate(rate)
    except AudioFormatError as exc:
        raise RiffProblem(f"corrupt header: {exc}") from None
    fmt = WaveFormat(encoding, channels, rate, bits, block_align)
    if encoding in (_PCM, _FLOAT):
        allowed = _PCM_BITS if encoding == _PCM else _FLOAT_BITS
        kind = "PCM" if encoding == _PCM else "float"
        if bits not in allowed:
            raise RiffProblem(f"unsupported {kind} sample width: {bits} bits (readable: "
                              f"{', '.join(str(b) for b in allowed)})")
        if block_align != channels * bits // 8:
            raise RiffProblem(f"corrupt header: {channels} channel(s) of {bits} bits need "
                              f"{channels * bits // 8} bytes per frame, it says {block_align}")
        if byte_rate != rate * block_align:
            raise RiffProblem(f"corrupt header: {rate} Hz x {block_align} bytes per frame "
                              f"is {rate * block_align} bytes/s, it says {byte_rate}")
    return fmt
