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
    SpeechControlParamsFrame,
    StartFrame,
    TranscriptionFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.settings import STTSettings
from pipecat.services.stt_service import STTService
from pipecat.utils.time import time_now_iso8601

from bargein.agent.stt_gate import STTGate
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

    When the pipeline has a VAD (Pipecat announces its parameters at start), the recognizer
    hears only the user's speech, from ``preroll`` seconds before the VAD's start (it decides
    ``start_secs`` after the onset) to its stop; the silence in between moves the stream's
    clock on without being decoded, as bargein's own agent does. A streaming decoder such as
    pocketsphinx would otherwise spend a large share of a CPU on a silent phone line, in the
    event loop the bot's audio runs on. ``preroll=None`` sends every frame.

    ``STT.local()`` is bargein's offline default (pocketsphinx interims, Whisper tiny.en
    finals). ``STT.oracle()`` reports the words a bargein scenario *knows* the user said, to
    test turn-taking without recognition errors: :class:`~bargein.adapters.pipecat.
    PipecatAdapter` binds it to the scenario's truth when the pipeline starts; outside a
    scenario it refuses to run.
    """

    def __init__(self, stt: BargeinSTT | None = None, *, language: str = "en",
                 oracle: dict[str, Any] | None = None, preroll: float | None = 1.0,
                 **kwargs: Any) -> None:
        if preroll is not None and (isinstance(preroll, bool)
                                    or not isinstance(preroll, (int, float))
                                    or not 0 <= preroll < float("inf")):
            raise ValueError(f"preroll must be None or a number of seconds >= 0, "
                             f"got {preroll!r}")
        super().__init__(settings=STTSettings(model=None, language=None), **kwargs)
        if stt is None and oracle is None:
            raise TypeError("give a bargein STT, or use STT.oracle() / STT.local()")
        self.inner = stt
        self.language_code = language
        self.preroll = None if preroll is None else float(preroll)
        self._oracle_options = oracle
        self._stream: STTStream | None = None
        self._gate: STTGate | None = None
        self._pump: asyncio.Task[None] | None = None
        self._has_vad = False  # the pipeline announced a VAD: gate the audio on it
        self._user_speaking = False

    @classmethod
    def local(cls, **kwargs: Any) -> STT:
        """pocketsphinx interims + Whisper tiny.en finals (bargein's offline default)."""
        from bargein.providers.local_stack import make_stt

        return cls(make_stt("local"), **kwargs)

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

    async def start(self, frame: StartFrame) -> None:
        """Load the recognizer's models before the first caller frame (Whisper off the
        loop), so a live call does not stall its audio on them."""
        await super().start(frame)
        if self.inner is None:
            return  # an oracle, bound to its truth later
        loop = asyncio.get_running_loop()
        for part in (self.inner, getattr(self.inner, "interim", None),
                     getattr(self.inner, "final", None)):  # a HybridSTT's two recognizers
            load = getattr(part, "load", None)
            if callable(load):
                await loop.run_in_executor(None, load)
        self._open()

    def _open(self) -> STTStream:
        if self._stream is None:
            if self.inner is None:
                raise RuntimeError(
                    "bargein.pipecat.STT.oracle() has no ground truth: it only works under a "
                    "bargein scenario (PipecatAdapter binds it). For a live bot use a real "
                    "recognizer, e.g. STT.local()")
            self._stream = self.inner.stream(self.sample_rate)
            self._gate = STTGate(self._stream, self.preroll)
            self._pump = self.create_task(self._forward(self._stream), name="bargein-stt")
        return self._stream

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame | None, None]:
        """Push the audio into the stream (through the VAD gate); transcripts arrive from the
        stream's events."""
        samples = np.frombuffer(audio, dtype=np.int16).copy()
        self._open()
        assert self._gate is not None
        self._gate.push(AudioFrame.from_int16(samples, self.sample_rate),
                        speaking=self._user_speaking or not self._has_vad)
        yield None

    async def process_audio_frame(self, frame: InputAudioRawFrame,
                                  direction: FrameDirection) -> None:
        """Muted audio still moves the stream clock on, so word times stay on the input's."""
        if self._muted and self._stream is not None:
            self._drop_preroll()
            self._stream.skip(len(frame.audio) / 2 / self.sample_rate)
            return
        await super().process_audio_frame(frame, direction)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Follow the VAD (gate) and flush the stream when the user stops speaking (VAD or
        end of turn)."""
        if isinstance(frame, SpeechControlParamsFrame) and frame.vad_params is not None:
            self._has_vad = True
        elif isinstance(frame, VADUserStartedSpeakingFrame):
            self._has_vad = self._user_speaking = True
        elif isinstance(frame, VADUserStoppedSpeakingFrame):
            self._user_speaking = False
        await super().process_frame(frame, direction)
        if isinstance(frame, (VADUserStoppedSpeakingFrame, UserStoppedSpeakingFrame)) \
                and self._stream is not None:
            self._stream.flush()

    def _drop_preroll(self) -> None:
        """Skip the audio the gate holds back: muted audio must never become pre-roll."""
        if self._stream is not None and self._gate is not None and self._gate.pending_seconds:
            self._stream.skip(self._gate.pending_seconds)
            self._gate = STTGate(self._stream, self.preroll)

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
