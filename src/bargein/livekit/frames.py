"""Audio frames between bargein and LiveKit: PCM16 mono either way."""

from __future__ import annotations

import numpy as np
from livekit import rtc

from bargein.audio.frame import AudioFrame

__all__ = ["from_rtc_frame", "to_rtc_frame"]


def to_rtc_frame(frame: AudioFrame) -> rtc.AudioFrame:
    """A bargein frame (mono PCM16) as a LiveKit ``rtc.AudioFrame``."""
    return rtc.AudioFrame(frame.data, frame.sample_rate, 1, frame.num_samples)


def from_rtc_frame(frame: rtc.AudioFrame) -> AudioFrame:
    """A LiveKit ``rtc.AudioFrame`` as a bargein frame (channels averaged to mono)."""
    samples = np.frombuffer(frame.data, dtype=np.int16)
    if frame.num_channels > 1:
        samples = samples.reshape(-1, frame.num_channels).mean(axis=1).astype(np.int16)
    return AudioFrame.from_int16(np.ascontiguousarray(samples), frame.sample_rate)
