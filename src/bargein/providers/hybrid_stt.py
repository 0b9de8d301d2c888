"""Two recognizers as one: early interims from a fast one, finals from an accurate one."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace

from bargein.audio.frame import AudioFrame
from bargein.providers.stt import STT, SpeechEvent, SpeechEventType, STTCapabilities, STTStream


class HybridSTT:
    """INTERIM transcripts from ``interim`` (e.g. pocketsphinx), FINALs from ``final``
    (e.g. Whisper). Both get every frame; each one's other kind of event is dropped. The
    final recognizer has the last word: when its final is empty, an empty interim comes
    first, so listeners drop the fast recognizer's guess instead of keeping it.

    The default offline pairing is ``HybridSTT(PocketsphinxSTT(), WhisperSTT())``.
    """

    def __init__(self, interim: STT, final: STT) -> None:
        if not interim.capabilities.interim_results:
            raise ValueError("HybridSTT: the interim recognizer gives no interim results")
        self.interim = interim
        self.final = final

    @property
    def capabilities(self) -> STTCapabilities:
        return STTCapabilities(
            streaming=True,
            interim_results=True,
            word_timestamps=self.final.capabilities.word_timestamps,
            acknowledges_flush=self.final.capabilities.acknowledges_flush,
        )

    async def recognize(self, audio: AudioFrame) -> SpeechEvent:
        """A whole utterance, recognized by the final recognizer."""
        return await self.final.recognize(audio)

    def stream(self, sample_rate: int) -> HybridSTTStream:
        return HybridSTTStream(self.interim.stream(sample_rate), self.final.stream(sample_rate))


class HybridSTTStream(STTStream):
    """Fans audio out to two streams and merges their events (interims of one, finals of the
    other) in arrival order."""

    def __init__(self, interim: STTStream, final: STTStream) -> None:
        super().__init__(interim.sample_rate)
        self._interim, self._final = interim, final
        self._pumps: list[asyncio.Task[None]] = []

    def _start(self) -> None:
        if not self._pumps:
            self._pumps = [
                self._spawn(self._pump(self._interim, SpeechEventType.INTERIM)),
                self._spawn(self._pump(self._final, SpeechEventType.FINAL)),
            ]

    async def _pump(self, stream: STTStream, keep: SpeechEventType) -> None:
        async for event in stream:
            if event.type is not keep:
                continue
            if keep is SpeechEventType.FINAL and not event.text.strip():
                # the accurate recognizer heard no words: the fast one's guesses (words in
                # a cough, in "uh-huh") are withdrawn before the empty final
                self._emit(replace(event, type=SpeechEventType.INTERIM))
            self._emit(event)

    def _on_frame(self, frame: AudioFrame, start: float) -> None:
        self._start()
        self._interim.push_frame(frame)
        self._final.push_frame(frame)

    def _on_flush(self) -> None:
        self._start()
        self._interim.flush()
        self._final.flush()

    def _on_skip(self, samples: int) -> None:
        seconds = samples / self.sample_rate  # both streams keep the same clock as this one
        self._interim.skip(seconds)
        self._final.skip(seconds)

    async def aclose(self) -> None:
        for stream in (self._interim, self._final):
            with contextlib.suppress(Exception):
                await stream.aclose()
        await super().aclose()

    def __aiter__(self) -> AsyncIterator[SpeechEvent]:
        self._start()
        return super().__aiter__()
