"""Conversions between float and int16 samples, with NaN/inf refused."""

from __future__ import annotations

import numpy as np

from bargein.errors import AudioFormatError

_INT16_SCALE = 32768.0


def check_finite(samples: np.ndarray) -> None:
    """Raise AudioFormatError if any sample is NaN or infinite."""
    if samples.dtype.kind == "f" and not np.all(np.isfinite(samples)):
        bad = int(np.count_nonzero(~np.isfinite(samples)))
        first = int(np.flatnonzero(~np.isfinite(samples))[0])
        raise AudioFormatError(
            f"audio holds {bad} NaN/inf sample(s), the first at index {first}"
        )


def float_to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] to int16 (values beyond full scale are clipped)."""
    x = np.asarray(samples)
    if x.dtype.kind != "f":
        raise AudioFormatError(f"expected float samples, got {x.dtype}")
    check_finite(x)
    scaled = np.round(x.astype(np.float64) * _INT16_SCALE)
    return np.clip(scaled, -32768, 32767).astype(np.int16)


def int16_to_float(samples: np.ndarray) -> np.ndarray:
    """int16 samples to float32 in [-1, 1)."""
    x = np.asarray(samples)
    if x.dtype != np.int16:
        raise AudioFormatError(f"expected int16 samples, got {x.dtype}")
    return x.astype(np.float32) / np.float32(_INT16_SCALE)
