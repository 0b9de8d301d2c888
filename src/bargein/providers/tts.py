"""Text-to-speech interface: streaming audio chunks with word timings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bargein.audio.frame import AudioFrame
from bargein.providers.types import WordTiming


@dataclass(frozen=True, slots=True)
class TTSChunk:
    """A piece of synthesized speech.

    ``offset`` is where the chunk starts on the utterance's timeline (seconds from its first
    sample); ``words`` are the words that *start* inside this chunk, timed on the utterance's
    timeline too.
    """

    frame: AudioFrame
    offset: float
    words: tuple[WordTiming, ...] = ()


@dataclass(frozen=True, slots=True)
class SynthesizedSpeech:
    """A whole utterance: its audio and every word's timing on it."""

    text: str
    audio: AudioFrame
    words: tuple[WordTiming, ...]

    @property
    def duration(self) -> float:
        """Length of the audio in seconds."""
        return self.audio.duration


@runtime_checkable
class TTS(Protocol):
    """A speech synthesizer producing audio at ``sample_rate`` Hz."""

    @property
    def sample_rate(self) -> int:
        """Rate of the audio it yields."""
        ...

    async def synthesize(self, text: str) -> SynthesizedSpeech:
        """Synthesize ``text`` in one go."""
        ...

    def stream(self, text: str) -> AsyncIterator[TTSChunk]:
        """Yield ``text`` as chunks in playback order, the first after the TTS latency."""
        ...
