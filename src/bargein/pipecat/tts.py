"""espeak-ng (or another bargein TTS) as a Pipecat TTS service with word timestamps."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from pipecat.frames.frames import (
    ErrorFrame,
    Frame,
    TTSAudioRawFrame,
    TTSStoppedFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.settings import TTSSettings
from pipecat.services.tts_service import TTSService

from bargein.providers.tts import TTS as BargeinTTS

__all__ = ["TTS"]


class TTS(TTSService):
    """Pipecat TTS service speaking with a bargein TTS; espeak-ng by default.

    ``TTS()`` speaks with :class:`~bargein.providers.espeak_tts.EspeakTTS` (keyword arguments
    go to it, e.g. ``voice="en-gb+f3"``), built at the pipeline's output rate; ``TTS(tts=...)``
    wraps any bargein TTS. Each word's start is handed to Pipecat as a word timestamp
    (``add_word_timestamps``), placed in the audio stream exactly where the word starts, so
    Pipecat's assistant context keeps the words it played before an interruption, and the
    bargein adapter knows which words were heard.
    """

    def __init__(self, *, tts: BargeinTTS | None = None, **espeak: Any) -> None:
        if tts is not None and espeak:
            raise TypeError("give either tts= or EspeakTTS keyword arguments, not both")
        super().__init__(push_text_frames=False, push_stop_frames=True, push_start_frame=True,
                         sample_rate=tts.sample_rate if tts is not None else None,
                         settings=TTSSettings(model=None, voice=espeak.get("voice"),
                                              language=None))
        self.inner: BargeinTTS | None = tts
        self._espeak = espeak
        self._elapsed: dict[str, float] = {}  # seconds already synthesized, per context

    def can_generate_metrics(self) -> bool:
        return True

    def _synthesizer(self) -> BargeinTTS:
        if self.inner is None:
            from bargein.providers.espeak_tts import EspeakTTS

            self.inner = EspeakTTS(sample_rate=self.sample_rate, **self._espeak)
        return self.inner

    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame | None, None]:
        """Synthesize ``text``: audio cut at each word start, the word's timestamp between."""
        tts = self._synthesizer()
        rate = tts.sample_rate
        offset = self._elapsed.get(context_id, 0.0)
        try:
            await self.start_tts_usage_metrics(text)
            async for chunk in tts.stream(text):
                samples = chunk.frame.to_int16()
                cut = 0
                for word in chunk.words:
                    at = min(len(samples), max(cut, round((word.start - chunk.offset) * rate)))
                    if at > cut:
                        yield self._audio(samples[cut:at], rate, context_id)
                        cut = at
                    await self.add_word_timestamps([(word.text, offset + word.start)],
                                                   context_id)
                if cut < len(samples):
                    yield self._audio(samples[cut:], rate, context_id)
                self._elapsed[context_id] = offset + chunk.offset + chunk.frame.duration
                await self.stop_ttfb_metrics()
        except Exception as exc:  # a synthesis error is reported, not raised into Pipecat
            yield ErrorFrame(error=f"bargein TTS failed: {exc}")

    @staticmethod
    def _audio(samples: Any, rate: int, context_id: str) -> TTSAudioRawFrame:
        return TTSAudioRawFrame(samples.tobytes(), rate, 1, context_id=context_id)

    async def push_frame(self, frame: Frame,
                         direction: FrameDirection = FrameDirection.DOWNSTREAM) -> None:
        """Word times restart with each spoken context (an interrupted one is never resumed)."""
        await super().push_frame(frame, direction)
        if isinstance(frame, TTSStoppedFrame) and frame.context_id:
            self._elapsed.pop(frame.context_id, None)
