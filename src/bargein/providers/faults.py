"""Providers that fail on purpose: wrap a real VAD, STT, LLM or TTS (or the session's audio
input) and inject one fault.

For reliability tests of an agent (``tests/integration/test_faults.py``, ``bargein soak``):
the wrapped provider behaves normally except for the named fault, which strikes on the
``on_call``-th use (1 = the first stream or reply; 0 = every one). Faults wait on the event
loop (a hang is an ``asyncio.sleep`` that never ends in time), so they work in virtual time.

========================  ===================================================================
fault                     what happens
========================  ===================================================================
``FaultyTTS``
``raise_first``           raises before the first chunk
``raise_mid``             raises after ``after`` chunks
``hang``                  stops yielding after ``after`` chunks (forever)
``nan``                   a chunk whose samples are NaN (the frame cannot be built)
``wrong_rate``            chunks at another sample rate than declared
``wrong_type``            yields a string instead of a chunk
``FaultyLLM``
``raise_mid``             raises after ``after`` chunks
``hang_mid``              stops after ``after`` chunks (forever)
``empty``                 a reply with no chunk at all
``blank``                 a reply of white space only
``invalid_text``          a chunk whose text is not a string
``run_on``                one chunk of ``words`` words without a single punctuation mark
``FaultySTT``
``late_final``            every final arrives ``delay`` seconds late
``raise_once``            the stream raises after ``after`` events
``empty_finals``          finals have no text (interims are kept)
``FaultyVAD``
``stuck``                 from ``after`` seconds of audio on, "speaking" forever
``raise``                 raises on every frame for ``after`` seconds (loop time) from its first
                          use, on every stream (a backend that is down, then back)
``FaultyAudioInput``
``raise``                 the input (a transport) raises after ``after`` seconds of audio
========================  ===================================================================
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from bargein.audio.frame import AudioFrame
from bargein.providers.llm import LLM, ChatMessage, LLMChunk
from bargein.providers.stt import STT, SpeechEvent, SpeechEventType, STTCapabilities, STTStream
from bargein.providers.tts import TTS, SynthesizedSpeech, TTSChunk
from bargein.providers.vad import VAD, VADEvent, VADStream

if TYPE_CHECKING:  # the type only: providers do not depend on the audio ports
    from bargein.io import AudioInput

__all__ = ["FaultyAudioInput", "FaultyLLM", "FaultySTT", "FaultyTTS", "FaultyVAD"]

TTS_FAULTS = ("raise_first", "raise_mid", "hang", "nan", "wrong_rate", "wrong_type")
LLM_FAULTS = ("raise_mid", "hang_mid", "empty", "blank", "invalid_text", "run_on")
STT_FAULTS = ("late_final", "raise_once", "empty_finals")
VAD_FAULTS = ("stuck", "raise")


class InjectedFault(RuntimeError):
    """The error a faulty provider raises."""


def _check(fault: str, known: tuple[str, ...], what: str) -> str:
    if fault not in known:
        raise ValueError(f"unknown {what} fault {fault!r}; choose one of {', '.join(known)}")
    return fault


@dataclass
class _Schedule:
    on_call: int
    calls: int = 0

    def next(self) -> bool:
        """Count one use; True if the fault strikes on it."""
        self.calls += 1
        return self.on_call == 0 or self.calls == self.on_call


class FaultyTTS:
    """``tts`` with one fault (see the module docstring)."""

    def __init__(self, tts: TTS, fault: str, *, after: int = 3, on_call: int = 1) -> None:
        self.inner, self.fault, self.after = tts, _check(fault, TTS_FAULTS, "TTS"), after
        self._schedule = _Schedule(on_call)

    @property
    def sample_rate(self) -> int:
        return self.inner.sample_rate

    async def synthesize(self, text: str) -> SynthesizedSpeech:
        return await self.inner.synthesize(text)

    def stream(self, text: str) -> AsyncIterator[TTSChunk]:
        if not self._schedule.next():
            return self.inner.stream(text)
        return self._faulty(text)

    async def _faulty(self, text: str) -> AsyncIterator[Any]:
        if self.fault == "raise_first":
            raise InjectedFault("TTS failed before its first chunk")
        n = 0
        async for chunk in self.inner.stream(text):
            n += 1
            if self.fault == "wrong_type":
                yield "not a chunk"
                return
            if self.fault == "wrong_rate":
                yield replace(chunk, frame=AudioFrame(chunk.frame.data, 22050))
                continue
            if n > self.after:
                if self.fault == "raise_mid":
                    raise InjectedFault(f"TTS failed after {self.after} chunks")
                if self.fault == "hang":
                    await asyncio.sleep(math.inf)
                if self.fault == "nan":
                    yield replace(chunk, frame=AudioFrame.from_float(
                        np.full(chunk.frame.num_samples, np.nan), chunk.frame.sample_rate))
            yield chunk


class FaultyLLM:
    """``llm`` with one fault (see the module docstring)."""

    def __init__(self, llm: LLM, fault: str, *, after: int = 12, on_call: int = 1,
                 words: int = 30000) -> None:
        self.inner, self.fault, self.after = llm, _check(fault, LLM_FAULTS, "LLM"), after
        self.words = words
        self._schedule = _Schedule(on_call)

    def chat(self, messages: Sequence[ChatMessage], *,
             tools: Sequence[Any] | None = None) -> AsyncIterator[LLMChunk]:
        if not self._schedule.next():
            return self.inner.chat(messages, tools=tools)
        return self._faulty(messages, tools)

    async def _faulty(self, messages: Sequence[ChatMessage],
                      tools: Sequence[Any] | None) -> AsyncIterator[Any]:
        if self.fault == "empty":
            return
        if self.fault == "blank":
            yield LLMChunk(text="   \n ")
            return
        if self.fault == "run_on":
            yield LLMChunk(text=" ".join(f"word{i % 10}" for i in range(self.words)))
            return
        n = 0
        async for chunk in self.inner.chat(messages, tools=tools):
            n += 1
            if n > self.after:
                if self.fault == "raise_mid":
                    raise InjectedFault(f"LLM failed after {self.after} chunks")
                if self.fault == "hang_mid":
                    await asyncio.sleep(math.inf)
                if self.fault == "invalid_text":
                    yield LLMChunk(text=12345)  # type: ignore[arg-type]
                    return
            yield chunk


class FaultySTT:
    """``stt`` with one fault (see the module docstring)."""

    def __init__(self, stt: STT, fault: str, *, delay: float = 4.0, after: int = 2,
                 on_call: int = 1) -> None:
        self.inner, self.fault = stt, _check(fault, STT_FAULTS, "STT")
        self.delay, self.after = delay, after
        self._schedule = _Schedule(on_call)

    @property
    def capabilities(self) -> STTCapabilities:
        return self.inner.capabilities

    async def recognize(self, audio: AudioFrame) -> SpeechEvent:
        return await self.inner.recognize(audio)

    def stream(self, sample_rate: int) -> STTStream:
        inner = self.inner.stream(sample_rate)
        return _FaultySTTStream(inner, self) if self._schedule.next() else inner


class _FaultySTTStream(STTStream):
    def __init__(self, inner: STTStream, owner: FaultySTT) -> None:
        super().__init__(inner.sample_rate)
        self._inner, self._owner = inner, owner
        self._pump: asyncio.Task[None] | None = None

    def _start(self) -> None:
        if self._pump is None:
            self._pump = self._spawn(self._forward())

    async def _forward(self) -> None:
        owner, n = self._owner, 0
        async for event in self._inner:
            n += 1
            if owner.fault == "raise_once" and n > owner.after:
                raise InjectedFault(f"STT stream failed after {owner.after} events")
            final = event.type is SpeechEventType.FINAL
            if final and owner.fault == "empty_finals":
                event = replace(event, text="", words=())
            if final and owner.fault == "late_final":
                self._spawn(self._later(event))
                continue
            self._emit(event)

    async def _later(self, event: SpeechEvent) -> None:
        await asyncio.sleep(self._owner.delay)
        self._emit(event)

    def _on_frame(self, frame: AudioFrame, start: float) -> None:
        self._start()
        self._inner.push_frame(frame)

    def _on_flush(self) -> None:
        self._start()
        self._inner.flush()

    def _on_skip(self, samples: int) -> None:
        self._inner.skip(samples / self.sample_rate)

    async def aclose(self) -> None:
        await self._inner.aclose()
        await super().aclose()


class FaultyVAD:
    """``vad`` with one fault (see the module docstring)."""

    def __init__(self, vad: VAD, fault: str, *, after: float = 2.0, on_call: int = 1) -> None:
        self.inner, self.fault, self.after = vad, _check(fault, VAD_FAULTS, "VAD"), after
        self._schedule = _Schedule(on_call)
        self.down_until: float | None = None  # loop time the "raise" fault ends

    def stream(self, sample_rate: int) -> VADStream:
        inner = self.inner.stream(sample_rate)
        return _FaultyVADStream(inner, self) if self._schedule.next() else inner


class _FaultyVADStream:
    def __init__(self, inner: VADStream, owner: FaultyVAD) -> None:
        self._inner, self._owner = inner, owner
        self._time = 0.0
        self._stuck = False

    @property
    def probability(self) -> float:
        return 1.0 if self._stuck else self._inner.probability

    @property
    def speaking(self) -> bool:
        return True if self._stuck else self._inner.speaking

    def push_frame(self, frame: AudioFrame) -> list[VADEvent]:
        self._time += frame.duration
        owner = self._owner
        if owner.fault == "raise":
            now = asyncio.get_running_loop().time()
            if owner.down_until is None:
                owner.down_until = now + owner.after
            if now < owner.down_until:
                raise InjectedFault("VAD failed on this frame")
        events = self._inner.push_frame(frame)
        if owner.fault == "stuck" and (self._stuck or self._time > owner.after):
            if not self._stuck and self._inner.speaking:
                self._stuck = True  # stuck in the speech it is in: no END ever comes
                return [e for e in events if e.type.value == "start_of_speech"]
            return [] if self._stuck else events
        return events

    def flush(self) -> list[VADEvent]:
        return [] if self._stuck else self._inner.flush()


class FaultyAudioInput:
    """An audio input (``inner``) whose transport breaks: it raises after ``after`` seconds
    of audio (the only fault: ``raise``)."""

    def __init__(self, inner: AudioInput, fault: str = "raise", *, after: float = 3.0) -> None:
        self.inner, self.fault = inner, _check(fault, ("raise",), "audio input")
        if not math.isfinite(after) or after < 0:
            raise ValueError(f"after must be a finite number of seconds >= 0, got {after!r}")
        self.after = after

    @property
    def sample_rate(self) -> int:
        return self.inner.sample_rate

    async def __aiter__(self) -> AsyncIterator[AudioFrame]:
        heard = 0.0
        async for frame in self.inner:
            if heard >= self.after:
                raise InjectedFault("the audio input's connection broke")
            heard += frame.duration
            yield frame
