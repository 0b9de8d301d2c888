"""A bargein recognizer (oracle, Whisper, pocketsphinx, their hybrid) as a Pipecat STT."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import numpy as np
from pipecat.frames.frames import (
    Frame,
    InputAudioRawFrame,
    InterimTranscriptionFrame,
    TranscriptionFrame,
    UserStoppedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.settings import STTSettings
from pipecat.services.stt_service import STTService
from pipecat.utils.time import time_now_iso8601

from bargein.audio.frame import AudioFrame
from bargein.providers.latency import Latency
from bargein.providers.oracle_stt import GroundTruth
from bargein.providers.stt import STT as BargeinSTT
from bargein.providers.stt import SpeechEventType, STTStream

__all__ = ["STT"]


class STT(STTService):
    """Pipecat STT service streaming into a bargein :class:`~bargein.providers.stt.STT`.

    Every input frame goes into one bargein stream opened at the first frame, so the stream's
    clock is the input's clock. The stream is flushed (its FINAL transcript is produced) when
    the VAD reports the end of the user's speech; INTERIM transcripts become Pipecat
    ``InterimTranscriptionFrame`` and FINAL ones ``TranscriptionFrame``.

    ``STT.local()`` is bargein's offline default (pocketsphinx interims, Whisper tiny.en
    finals). ``STT.oracle()`` reports the words a bargein scenario *knows* the user said, to
    test turn-taking without recognition errors: :class:`~bargein.adapters.pipecat.
    PipecatAdapter` binds it to the scenario's truth when the pipeline starts; outside a
    scenario it refuses to run.
    """

    def __init__(self, stt: BargeinSTT | None = None, *, language: str = "en",
                 oracle: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(settings=STTSettings(model=None, language=None), **kwargs)
        if stt is None and oracle is None:
            raise TypeError("give a bargein STT, or use STT.oracle() / STT.local()")
        self.inner = stt
        self.language_code = language
        self._oracle_options = oracle
        self._stream: STTStream | None = None
        self._pump: asyncio.Task[None] | None = None

    @classmethod
    def local(cls, **kwargs: Any) -> STT:
        """pocketsphinx interims + Whisper tiny.en finals (bargein's offline default)."""
        from bargein.providers.hybrid_stt import HybridSTT
        from bargein.providers.pocketsphinx_stt import PocketsphinxSTT
        from bargein.providers.whisper_stt import WhisperSTT

        return cls(HybridSTT(PocketsphinxSTT(), WhisperSTT()), **kwargs)

    @classmethod
    def oracle(cls, *, interim_delay: Latency | None = None,
               final_delay: Latency | None = None, **kwargs: Any) -> STT:
        """The scenario's known words (simulation only), bound when the pipeline starts."""
        options = {"interim_delay": interim_delay, "final_delay": final_delay}
        return cls(None, oracle=options, **kwargs)

    @property
    def needs_truth(self) -> bool:
        """True for an oracle not yet bound to a scenario's truth."""
        return self.inner is None and self._oracle_options is not None

    def bind(self, truth: GroundTruth) -> None:
        """Bind an oracle to ``truth`` (seconds on the input's timeline)."""
        from bargein.providers.oracle_stt import OracleSTT

        if self._oracle_options is None:
            raise TypeError("only STT.oracle() reads a ground truth")
        self.inner = OracleSTT(truth, **self._oracle_options)

    def can_generate_metrics(self) -> bool:
        return False

    def _open(self) -> STTStream:
        if self._stream is None:
            if self.inner is None:
                raise RuntimeError(
                    "bargein.pipecat.STT.oracle() has no ground truth: it only works under a "
                    "bargein scenario (PipecatAdapter binds it). For a live bot use a real "
                    "recognizer, e.g. STT.local()")
            self._stream = self.inner.stream(self.sample_rate)
            self._pump = self.create_task(self._forward(self._stream), name="bargein-stt")
        return self._stream

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame | None, None]:
        """Push the audio into the stream; transcripts arrive from the stream's events."""
        samples = np.frombuffer(audio, dtype=np.int16).copy()
        self._open().push_frame(AudioFrame.from_int16(samples, self.sample_rate))
        yield None

    async def process_audio_frame(self, frame: InputAudioRawFrame,
                                  direction: FrameDirection) -> None:
        """Muted audio still moves the stream clock on, so word times stay on the input's."""
        if self._muted and self._stream is not None:
            self._stream.skip(len(frame.audio) / 2 / self.sample_rate)
            return
        await super().process_audio_frame(frame, direction)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Flush the stream when the user stops speaking (VAD or end of turn)."""
        await super().process_frame(frame, direction)
        if isinstance(frame, (VADUserStoppedSpeakingFrame, UserStoppedSpeakingFrame)) \
                and self._stream is not None:
            self._stream.flush()

    async def _forward(self, stream: STTStream) -> None:
        async for event in stream:
            text = event.text.strip()
            if not text:
                continue
            if event.type is SpeechEventType.FINAL:
                await self.push_frame(TranscriptionFrame(text, "", time_now_iso8601(),
                                                         result=event, finalized=True))
            else:
                await self.push_frame(InterimTranscriptionFrame(text, "", time_now_iso8601(),
                                                                result=event))

    async def cleanup(self) -> None:
        """Close the bargein stream."""
        await super().cleanup()
        if self._stream is not None:
            await self._stream.aclose()
        if self._pump is not None:
            await self.cancel_task(self._pump)
