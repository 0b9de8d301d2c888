"""A bargein recognizer (Whisper, pocketsphinx, their hybrid...) as a LiveKit Agents STT plugin."""

from __future__ import annotations

import asyncio
from typing import Any

from livekit import rtc
from livekit.agents import stt as lk_stt
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
    TimedString,
)

from bargein.livekit.frames import from_rtc_frame
from bargein.livekit.wrapping import WrapsBargeinProvider
from bargein.providers.stt import STT as BargeinSTT
from bargein.providers.stt import SpeechEventType, STTStream
from bargein.providers.types import WordTiming

__all__ = ["STT", "speech_data"]


def speech_data(text: str, words: tuple[WordTiming, ...], start: float, end: float,
                language: str) -> lk_stt.SpeechData:
    """A recognized text and its word times as LiveKit ``SpeechData``."""
    return lk_stt.SpeechData(
        language=language, text=text, start_time=start, end_time=end, confidence=1.0,
        words=[TimedString(w.text, start_time=w.start, end_time=w.end) for w in words] or None,
    )


class STT(WrapsBargeinProvider, lk_stt.STT):
    """A bargein recognizer (Whisper, pocketsphinx, their hybrid...) as a LiveKit STT.

    The stream pushes LiveKit's audio into a bargein :class:`~bargein.providers.stt.STTStream`
    and flushes it when LiveKit ends the user's turn (``manual_flush``); interim and final
    transcripts come back as LiveKit speech events. ``STT.local()`` is the offline default:
    pocketsphinx interims and Whisper tiny.en finals, all bundled (extra ``local``).
    """

    def __init__(self, stt: BargeinSTT, *, language: str = "en") -> None:
        caps = stt.capabilities
        super().__init__(capabilities=lk_stt.STTCapabilities(
            streaming=caps.streaming, interim_results=caps.interim_results,
            aligned_transcript="word" if caps.word_timestamps else False,
            offline_recognize=True, manual_flush=True))
        self.inner = stt
        self.language = language

    @classmethod
    def local(cls) -> STT:
        """pocketsphinx interims + Whisper tiny.en finals (bargein's offline default)."""
        from bargein.providers.local_stack import make_stt

        return cls(make_stt("local"))

    async def _recognize_impl(self, buffer: Any, *, language: NotGivenOr[str] = NOT_GIVEN,
                              conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
                              ) -> lk_stt.SpeechEvent:
        frames = buffer if isinstance(buffer, list) else [buffer]
        audio = from_rtc_frame(rtc.combine_audio_frames(frames))
        event = await self.inner.recognize(audio)
        return lk_stt.SpeechEvent(
            type=lk_stt.SpeechEventType.FINAL_TRANSCRIPT,
            alternatives=[speech_data(event.text, event.words, event.start, event.end,
                                       self.language)])

    def stream(self, *, language: NotGivenOr[str] = NOT_GIVEN,
               conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
               ) -> lk_stt.RecognizeStream:
        return _WrappedSTTStream(self, conn_options)


class _WrappedSTTStream(lk_stt.RecognizeStream):
    def __init__(self, plugin: STT, conn_options: APIConnectOptions) -> None:
        super().__init__(stt=plugin, conn_options=conn_options)
        self._plugin = plugin

    async def _run(self) -> None:
        inner: STTStream | None = None
        pump: asyncio.Task[None] | None = None

        async def forward(stream: STTStream) -> None:
            async for ev in stream:
                kind = (lk_stt.SpeechEventType.FINAL_TRANSCRIPT
                        if ev.type is SpeechEventType.FINAL
                        else lk_stt.SpeechEventType.INTERIM_TRANSCRIPT)
                if not ev.text.strip():  # nothing recognized (an acknowledged flush)
                    continue
                self._event_ch.send_nowait(lk_stt.SpeechEvent(type=kind, alternatives=[
                    speech_data(ev.text, ev.words, ev.start, ev.end, self._plugin.language)]))

        try:
            async for item in self._input_ch:
                if isinstance(item, lk_stt.RecognizeStream._FlushSentinel):
                    if inner is not None:
                        inner.flush()
                    continue
                frame = from_rtc_frame(item)
                if inner is None:
                    inner = self._plugin.inner.stream(frame.sample_rate)
                    pump = asyncio.create_task(forward(inner))
                inner.push_frame(frame)
            if inner is not None:
                inner.flush()
                await inner.aclose()
            if pump is not None:
                await pump
        finally:
            if pump is not None and not pump.done():
                pump.cancel()
