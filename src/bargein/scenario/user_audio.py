"""What the simulated user's mouth emits, with the ground truth about it.

A :class:`UserSpeech` is audio plus what is known for certain about it: its text, the timing
of each word and where the speech is (its **speech spans**, seconds from the audio's
start). The scenario metrics take the caller's onset and end from these spans, never from a
level on the mixed user track, where background noise would move them:

- synthesized speech (:meth:`UserSpeech.synthesized`) and generated sounds
  (:meth:`UserSpeech.sound`, a cough in the benchmark) are **clean sources**: their spans
  are the audible spans of the source itself (:mod:`bargein.audio.levels`), and a
  synthesizer's word timings are exact;
- a **recording** (:meth:`UserSpeech.recording`) carries its room with it: its spans come
  from a VAD run over the clip, and its word timings from the recording itself
  (:mod:`bargein.scenario.recordings`), never spread by character counts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from bargein.audio.frame import AudioFrame
from bargein.audio.levels import Span, audible_spans
from bargein.providers.tts import SynthesizedSpeech
from bargein.providers.types import WordTiming

__all__ = ["UserSpeech", "vad_spans"]


@dataclass(frozen=True)
class UserSpeech:
    """Audio the simulated user says, and its ground truth.

    ``words`` and ``spans`` are seconds from the start of ``audio``. ``synthesized`` keeps
    the synthesizer's output when there is one (the room adds its punctuated words to the
    oracle's truth as they are spoken). ``clean`` is True for a source without background.
    """

    audio: AudioFrame
    text: str
    words: tuple[WordTiming, ...] = ()
    spans: tuple[Span, ...] = ()
    synthesized_from: SynthesizedSpeech | None = None
    clean: bool = True

    @classmethod
    def synthesized(cls, speech: SynthesizedSpeech) -> UserSpeech:
        """Speech from a TTS: a clean source with exact word timings."""
        spans = tuple(audible_spans(speech.audio.to_int16(), speech.audio.sample_rate))
        return cls(speech.audio, speech.text, tuple(speech.words), spans, speech, True)

    @classmethod
    def sound(cls, audio: AudioFrame, text: str = "") -> UserSpeech:
        """A clean, generated sound (no words): its spans are where it is audible."""
        return cls(audio, text, (), tuple(audible_spans(audio.to_int16(), audio.sample_rate)))

    @classmethod
    def recording(cls, audio: AudioFrame, words: Iterable[WordTiming],
                  spans: Iterable[Span] | None = None, text: str | None = None) -> UserSpeech:
        """A recorded clip: ``words`` timed on it (see :mod:`bargein.scenario.recordings`)
        and its speech ``spans`` (default: found by :func:`vad_spans`)."""
        words = tuple(words)
        _check_words(words, audio.duration)
        found = tuple(spans) if spans is not None else tuple(vad_spans(audio))
        said = text if text is not None else " ".join(w.text for w in words)
        return cls(audio, said, words, found, None, False)

    @property
    def duration(self) -> float:
        """Seconds of audio."""
        return self.audio.duration

    @property
    def onset(self) -> float:
        """Seconds from the audio's start to its first speech sample (0 if it has none)."""
        return self.spans[0][0] if self.spans else 0.0

    @property
    def end(self) -> float:
        """Seconds from the audio's start to just past its last speech sample."""
        return self.spans[-1][1] if self.spans else self.audio.duration


def vad_spans(audio: AudioFrame) -> list[Span]:
    """Speech spans of a recording, by Silero VAD (extra ``local``): START/END events of a
    stream over the whole clip, with onsets and offsets refined to the audio (see
    :mod:`bargein.providers.silero_vad`). Pauses of 0.2 s or more split spans."""
    from bargein.audio.framing import split_frames
    from bargein.audio.resample import resample
    from bargein.providers.silero_vad import SileroVAD
    from bargein.providers.vad import VADEventType

    rate = audio.sample_rate if audio.sample_rate in (8000, 16000) else 16000
    clip = resample(audio, rate)
    stream = SileroVAD(min_silence_duration=0.2).stream(rate)
    events = []
    for frame in split_frames(clip, 0.02):
        events += stream.push_frame(frame)
    events += stream.flush()
    spans: list[Span] = []
    start: float | None = None
    for event in events:
        if event.type == VADEventType.START_OF_SPEECH:
            start = event.time
        elif event.type == VADEventType.END_OF_SPEECH and start is not None:
            spans.append((max(0.0, start), min(audio.duration, event.time)))
            start = None
    return spans


def _check_words(words: tuple[WordTiming, ...], duration: float) -> None:
    for w in words:
        if not isinstance(w, WordTiming):
            raise TypeError(f"words must be WordTiming objects, got {type(w).__name__}")
        if not (math.isfinite(w.start) and math.isfinite(w.end)
                and 0 <= w.start <= w.end <= duration + 1e-6):
            raise ValueError(f"word {w.text!r} at {w.start}-{w.end} s does not lie inside the "
                             f"{duration:.3f} s clip")
