"""G.711 μ-law: the 8-bit telephone encoding of Twilio Media Streams and most phone lines."""

from __future__ import annotations

import numpy as np

from bargein.errors import AudioFormatError

__all__ = ["mulaw_decode", "mulaw_encode"]

_BIAS = 0x84


def _decode_table() -> np.ndarray:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


_DECODE = _decode_table()


def mulaw_decode(data: bytes) -> np.ndarray:
    """μ-law bytes to int16 samples (one sample per byte)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise AudioFormatError(f"μ-law audio must be bytes, got {type(data).__name__}")
    return _DECODE[np.frombuffer(bytes(data), dtype=np.uint8)]


def mulaw_encode(samples: np.ndarray) -> bytes:
    """int16 samples to μ-law bytes (G.711 on the 14-bit magnitude, as CPython's audioop)."""
    x = np.asarray(samples)
    if x.dtype != np.int16:
        raise AudioFormatError(f"μ-law encoding takes int16 samples, got {x.dtype}")
    value = x.astype(np.int32) >> 2
    mask = np.where(value < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(value), _CLIP_14) + _BIAS_14
    segment = np.searchsorted(_SEGMENT_ENDS, magnitude)
    code = (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F)
    code = np.where(segment >= 8, 0x7F, code)
    return ((code ^ mask) & 0xFF).astype(np.uint8).tobytes()


_BIAS_14 = 0x21
_CLIP_14 = 8159
_SEGMENT_ENDS = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
