"""espeak-ng (or another bargein TTS) as a streaming LiveKit Agents TTS plugin with word timings."""

from __future__ import annotations

import re
from typing import Any

from livekit.agents import tts as lk_tts
from livekit.agents import utils as lk_utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions, TimedString

from bargein.livekit.wrapping import WrapsBargeinProvider
from bargein.providers.tts import TTS as BargeinTTS

__all__ = ["TTS"]

_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*\s+")


class TTS(WrapsBargeinProvider, lk_tts.TTS):
    """espeak-ng (or another bargein TTS) as a streaming LiveKit TTS with word timings.

    ``TTS()`` speaks with :class:`~bargein.providers.espeak_tts.EspeakTTS` (keyword arguments
    go to it, e.g. ``voice="en-gb+f3"``); ``TTS(tts=...)`` wraps any bargein TTS. Text is
    synthesized sentence by sentence as the LLM streams it. Every word's timing is attached
    to the audio (LiveKit ``TimedString`` with start and end seconds on the speech), which
    is how the bargein adapter knows exactly which words were heard.
    """

    def __init__(self, *, tts: BargeinTTS | None = None, **espeak: Any) -> None:
        if tts is None:
            from bargein.providers.espeak_tts import EspeakTTS

            tts = EspeakTTS(**espeak)
        elif espeak:
            raise TypeError("give either tts= or EspeakTTS keyword arguments, not both")
        self.inner = tts
        super().__init__(capabilities=lk_tts.TTSCapabilities(streaming=True,
                                                              aligned_transcript=True),
                         sample_rate=tts.sample_rate, num_channels=1)

    def synthesize(self, text: str, *,
                   conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
                   ) -> lk_tts.ChunkedStream:
        return _ChunkedStream(tts=self, input_text=text, conn_options=conn_options)

    def stream(self, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
               ) -> lk_tts.SynthesizeStream:
        return _SynthesizeStream(tts=self, conn_options=conn_options)

    async def _speak(self, emitter: lk_tts.AudioEmitter, text: str, offset: float) -> float:
        """Synthesize ``text`` into ``emitter``, words timed from ``offset``; new offset."""
        if not text.strip():
            return offset
        end = offset
        async for chunk in self.inner.stream(text):
            for word in chunk.words:
                emitter.push_timed_transcript(TimedString(
                    word.text + " ", start_time=offset + word.start, end_time=offset + word.end))
            emitter.push(chunk.frame.data)
            end = offset + chunk.offset + chunk.frame.duration
        return end


class _ChunkedStream(lk_tts.ChunkedStream):
    async def _run(self, output_emitter: lk_tts.AudioEmitter) -> None:
        plugin: TTS = self._tts  # type: ignore[assignment]
        output_emitter.initialize(request_id=lk_utils.shortuuid(),
                                  sample_rate=plugin.sample_rate, num_channels=1,
                                  mime_type="audio/pcm", frame_size_ms=20)
        await plugin._speak(output_emitter, self.input_text, 0.0)
        output_emitter.flush()


class _SynthesizeStream(lk_tts.SynthesizeStream):
    async def _run(self, output_emitter: lk_tts.AudioEmitter) -> None:
        plugin: TTS = self._tts  # type: ignore[assignment]
        output_emitter.initialize(request_id=lk_utils.shortuuid(),
                                  sample_rate=plugin.sample_rate, num_channels=1,
                                  mime_type="audio/pcm", frame_size_ms=20, stream=True)
        started = False
        pending = ""
        offset = 0.0
        async for data in self._input_ch:
            if isinstance(data, lk_tts.SynthesizeStream._FlushSentinel):
                if started:
                    offset = await plugin._speak(output_emitter, pending, offset)
                    pending = ""
                    output_emitter.end_segment()
                    started = False
                continue
            if not started:
                output_emitter.start_segment(segment_id=lk_utils.shortuuid())
                started = True
                self._mark_started()
            pending += data
            cut = 0
            for m in _SENTENCE_END.finditer(pending):
                cut = m.end()
            if cut:
                offset = await plugin._speak(output_emitter, pending[:cut], offset)
                pending = pending[cut:]
        if started:
            await plugin._speak(output_emitter, pending, offset)
            output_emitter.end_segment()
