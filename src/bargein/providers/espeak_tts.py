"""espeak-ng text-to-speech with exact word timings (extra ``local``).

espeak-ng ships inside the ``espeakng-loader`` wheel (library and voice data) and is driven
through ctypes (:mod:`bargein.providers._espeak_lib`). It is fast (hundreds of times faster
than real time on one core), deterministic, and reports where every word starts in its audio,
which is what barge-in truncation needs: the words a listener actually heard.

Timings are post-processed so they match the audible speech:

- leading and trailing silence around the speech is trimmed to a 5 ms pad;
- a word whose espeak position falls on digital silence (espeak's lead-in after a pause, a
  plosive's closure) starts at its audible onset instead, minus the same pad;
- every written word of the input (:func:`bargein.text.words`) gets exactly one
  :class:`~bargein.providers.types.WordTiming`, even where espeak speaks one written word as
  several ("42" -> "forty two") or several as one ("well-known", "for a"): merged words share
  their span in proportion to their length in characters;
- a word ends where the next one starts; the last word ends with the audio.

Text is spoken sentence by sentence (split after ``.``, ``!``, ``?`` or ``…`` followed by
white space), so streaming starts after the first sentence only. Sentences keep espeak's own
pause between them, and word times stay on one timeline for the whole text.
"""

from __future__ import annotations

import asyncio
import difflib
import re
from collections.abc import AsyncIterator
from functools import partial

import numpy as np

from bargein.audio.frame import AudioFrame, check_sample_rate, concat
from bargein.providers import _espeak_lib as _es
from bargein.providers._espeak_render import Segment, Voice, render_sentence
from bargein.providers.latency import Fixed, Latency, WorkTimer
from bargein.providers.tts import SynthesizedSpeech, TTSChunk
from bargein.providers.types import WordTiming
from bargein.text import MAX_SPEECH_UNIT, unit_end
from bargein.text import words as written_words

__all__ = ["EspeakTTS", "list_variants", "list_voices"]

#: Speaking rate limits espeak-ng accepts, in words per minute.
MIN_RATE = 80
MAX_RATE = 450

# Sentence boundaries: sentence punctuation (and closing quotes/brackets), then white space.
_SENTENCE_BREAK = re.compile(r"[.!?…]+[\"'”’)\]]*\s+")
# A period after these (or after a single capital letter, an initial) does not end a sentence.
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "eg", "ie", "e.g", "i.e"}
    | {"no", "approx", "dept", "est", "inc", "ltd", "co"}
)
_LAST_WORD = re.compile(r"[\w.]+$")


def list_voices() -> list[str]:
    """Language voices usable as ``EspeakTTS(voice=...)``, e.g. ``"en-us"``, ``"fr-fr"``.

    Append ``+variant`` (see :func:`list_variants`) for another timbre: ``"en-us+f3"``.
    """
    return sorted(_voice_files())


def list_variants() -> list[str]:
    """Voice variants usable after a ``+``: ``"f3"``, ``"m2"``, ``"klatt"``, ``"Alicia"``..."""
    return sorted(_variant_names())


def _voice_files() -> dict[str, str]:
    """Language code (as listed by :func:`list_voices`) -> espeak voice file."""
    out: dict[str, str] = {}
    for v in _es.catalogue().voices:
        if v.languages:
            out.setdefault(v.languages[0].lower(), v.identifier)
    return out


def _variant_names() -> set[str]:
    return {v.identifier.rsplit("/", 1)[-1] for v in _es.catalogue().variants}


# Voice names espeak accepted already (checking one loads espeak and its dictionary).
_known_voices: set[str] = set()


class EspeakTTS:
    """espeak-ng speech synthesizer with word timings (a :class:`~bargein.providers.tts.TTS`).

    Args:
        voice: a language voice from :func:`list_voices`, optionally with ``+variant``
            (:func:`list_variants`), e.g. ``"en-us"``, ``"en-gb+m3"``, ``"en-us+f3"``.
        rate: speaking rate in words per minute (80..450).
        pitch: base pitch, 0..100 (espeak's default is 50).
        volume: amplitude, 0..200 (100 is espeak's default).
        sample_rate: rate of the audio produced, Hz (espeak runs at 22050 Hz; the audio is
            resampled, word times are in seconds and do not change).
        ttfb: time-to-first-byte latency model, charged once per utterance before the first
            chunk (and before :meth:`synthesize` returns).
        chunk_duration: length of the chunks :meth:`stream` yields, seconds (the last may be
            shorter).

    espeak-ng keeps its state in process globals. Instances share it safely: each sentence is
    spoken by a freshly loaded copy of the library, under one process-wide lock, with this
    instance's voice and parameters set first; that also makes the audio bit-exact
    reproducible (the same text gives the same bytes, in any process).
    """

    def __init__(
        self,
        voice: str = "en-us",
        rate: int = 175,
        pitch: int = 50,
        volume: int = 100,
        sample_rate: int = 16000,
        ttfb: Latency = Fixed(0.05),  # noqa: B008 - immutable value object
        chunk_duration: float = 0.02,
    ) -> None:
        self._sample_rate = check_sample_rate(sample_rate)
        self.rate = _check_int("rate", rate, MIN_RATE, MAX_RATE)
        self.pitch = _check_int("pitch", pitch, 0, 100)
        self.volume = _check_int("volume", volume, 0, 200)
        if not hasattr(ttfb, "delay"):
            raise TypeError(f"ttfb must be a latency model such as Fixed(0.05), got {ttfb!r}")
        self.ttfb = ttfb
        if not (isinstance(chunk_duration, (int, float)) and 0 < chunk_duration <= 10):
            raise ValueError(f"chunk_duration must be in (0, 10] seconds, got {chunk_duration!r}")
        self.chunk_duration = float(chunk_duration)
        self._chunk_samples = max(1, round(self.chunk_duration * self._sample_rate))
        if not isinstance(voice, str) or not voice.strip():
            raise ValueError(f"voice must be a voice name such as 'en-us', got {voice!r}")
        self.voice = voice.strip()
        self._espeak_voice = self._check_voice()
        native = _es.catalogue().sample_rate
        # Sentences other than the last span a whole number of 20 ms, which maps to a whole
        # number of output samples at any rate that is a multiple of 50 Hz (8, 16, 24,
        # 44.1, 48 kHz...): sentence offsets and word times are then the same at every rate.
        quantum = native // 50
        self._quantum = quantum if (self._sample_rate * quantum) % native == 0 else 1

    @property
    def sample_rate(self) -> int:
        """Rate of the audio this synthesizer yields, Hz."""
        return self._sample_rate

    def __repr__(self) -> str:
        return (
            f"EspeakTTS(voice={self.voice!r}, rate={self.rate}, pitch={self.pitch}, "
            f"volume={self.volume}, sample_rate={self._sample_rate})"
        )

    # -- public API -------------------------------------------------------------------------

    async def synthesize(self, text: str) -> SynthesizedSpeech:
        """Synthesize ``text`` in one go: its audio and every written word's timing."""
        spans = _sentences(_check_text(text))
        timer = WorkTimer()
        loop = asyncio.get_running_loop()
        segments = await loop.run_in_executor(None, partial(self._render_all, text, spans))
        await timer.settle(self.ttfb)
        audio = concat([s.audio for s in segments])
        return SynthesizedSpeech(text=text, audio=audio, words=tuple(_place(text, segments)))

    def stream(self, text: str) -> AsyncIterator[TTSChunk]:
        """Yield ``text`` as ``chunk_duration`` chunks in order, the first after ``ttfb``.

        Each chunk carries the words that start inside it, timed on the utterance's
        timeline. Their concatenation equals :meth:`synthesize`'s audio.
        """
        spans = _sentences(_check_text(text))
        return self._stream(text, spans)

    # -- streaming ---------------------------------------------------------------------------

    async def _stream(self, text: str, spans: list[tuple[int, int]]) -> AsyncIterator[TTSChunk]:
        timer = WorkTimer()
        loop = asyncio.get_running_loop()
        rate = self._sample_rate
        size = self._chunk_samples
        pending = loop.run_in_executor(None, partial(self._render, text, spans[0], len(spans) == 1))
        buf = b""  # rendered audio not yet yielded, and maybe some that was
        buf_origin = 0  # sample index of buf[0] on the utterance timeline
        buf_start = 0  # sample index where the next chunk starts
        offset = 0  # sample index where the next sentence starts
        words: list[WordTiming] = []
        try:
            for i in range(len(spans)):
                segment = await pending
                last = i + 1 == len(spans)
                if not last:
                    # Render the next sentence while this one plays.
                    pending = loop.run_in_executor(
                        None, partial(self._render, text, spans[i + 1], i + 2 == len(spans))
                    )
                if i == 0:
                    await timer.settle(self.ttfb)
                words.extend(_segment_words(text, segment, offset, rate))
                buf = buf[2 * (buf_start - buf_origin) :] + segment.audio.data
                buf_origin = buf_start
                offset += segment.audio.num_samples
                # Full chunks; on the last sentence keep the final one for below.
                while offset - buf_start > size or (not last and offset - buf_start == size):
                    a = 2 * (buf_start - buf_origin)
                    yield self._chunk(buf[a : a + 2 * size], buf_start, words, final=False)
                    buf_start += size
            if offset > buf_start:
                a = 2 * (buf_start - buf_origin)
                yield self._chunk(buf[a:], buf_start, words, final=True)
        finally:
            if not pending.done():
                pending.cancel()

    def _chunk(self, data: bytes, start: int, words: list[WordTiming], *, final: bool) -> TTSChunk:
        rate = self._sample_rate
        end = (start + len(data) // 2) / rate
        n = len(words) if final else sum(1 for w in words if w.start < end)
        inside = tuple(words[:n])
        del words[:n]
        # a non-empty, whole-sample slice of rendered audio
        return TTSChunk(frame=AudioFrame._unchecked(data, rate), offset=start / rate,
                        words=inside)

    # -- rendering (runs in the executor) ----------------------------------------------------

    def _render_all(self, text: str, spans: list[tuple[int, int]]) -> list[Segment]:
        return [self._render(text, span, i + 1 == len(spans)) for i, span in enumerate(spans)]

    def _render(self, text: str, span: tuple[int, int], last: bool) -> Segment:
        """Speak one sentence, trim it and time its words; output-rate audio."""
        start, end = span
        segment = render_sentence(Voice(self._espeak_voice, self.rate, self.pitch,
                                          self.volume, self._sample_rate, self._quantum),
                                   text[start:end], last)
        if not start:
            return segment
        words = tuple((start + cs, start + ce, t) for cs, ce, t in segment.words)
        return Segment(audio=segment.audio, words=words)

    def _check_voice(self) -> str:
        """The name to give espeak for ``self.voice``; ValueError if espeak lacks it."""
        base, _, variant = self.voice.partition("+")
        # espeak selects voices by file name ("en-US", "gmw/en") or display name, not by
        # every language code it lists ("en-gb", "fr-fr"): map those to the voice file.
        name = _voice_files().get(base.lower(), base)
        if variant:
            variants = _variant_names()
            if variant not in variants:
                close = difflib.get_close_matches(variant, sorted(variants), n=5)
                hint = ", ".join(close or sorted(variants)[:8])
                raise ValueError(
                    f"unknown espeak-ng voice variant {variant!r} in {self.voice!r}; "
                    f"try one of: {hint} (all: bargein.providers.espeak_tts.list_variants())"
                )
            name = f"{name}+{variant}"
        if name in _known_voices:
            return name
        err = _es.EE_NOT_FOUND
        if base:
            with _es.session() as espeak:
                err = espeak.set_voice(name)
        if err != _es.EE_OK:
            voices = list_voices()
            close = difflib.get_close_matches(base.lower(), voices, n=5, cutoff=0.5)
            common = [v for v in ("en-us", "en-gb", "fr-fr", "de", "es") if v not in close]
            hint = ", ".join(close + common)
            raise ValueError(
                f"unknown espeak-ng voice {base!r}; try one of: {hint} "
                f"({len(voices)} voices: bargein.providers.espeak_tts.list_voices())"
            )
        _known_voices.add(name)
        return name


# -- helpers ------------------------------------------------------------------------------


def _check_int(name: str, value: int, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer in {low}..{high}, got {value!r}")
    if not low <= int(value) <= high:
        raise ValueError(f"{name} must be in {low}..{high}, got {value}")
    return int(value)


def _check_text(text: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if not text.strip():
        raise ValueError("cannot synthesize empty or whitespace-only text")
    if not written_words(text):
        raise ValueError(f"text has no words to speak: {text!r}")
    return text


def _sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of ``text``, each holding at least one word.

    Spans cover the text from its first to its last non-space character; pieces without a
    word (a stray "...") stay with the sentence before them.
    """
    spans: list[tuple[int, int]] = []
    pos = len(text) - len(text.lstrip())
    for m in _SENTENCE_BREAK.finditer(text):
        if m.group().startswith(".") and not m.group().startswith(".."):
            before = _LAST_WORD.search(text, 0, m.start())
            word = before.group() if before else ""
            if word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isupper()):
                continue
        end = m.end()
        piece = text[pos:end]
        if written_words(piece):
            spans.append((pos, pos + len(piece.rstrip())))
            pos = end
        elif spans:
            spans[-1] = (spans[-1][0], pos + len(piece.rstrip()))
            pos = end
    tail = text[pos:].rstrip()
    if tail:
        if written_words(tail) or not spans:
            spans.append((pos, pos + len(tail)))
        else:
            spans[-1] = (spans[-1][0], pos + len(tail))
    return [piece for span in spans for piece in _capped(text, span)]


def _capped(text: str, span: tuple[int, int]) -> list[tuple[int, int]]:
    """``span`` cut into pieces of at most MAX_SPEECH_UNIT characters (at clause breaks or
    spaces), so one run-on sentence never holds espeak for long: the engine is shared by every
    session of the process, and a stream can only be cancelled between pieces."""
    start, end = span
    pieces = []
    while end - start > MAX_SPEECH_UNIT:
        cut = unit_end(text[start : start + MAX_SPEECH_UNIT + 1])
        assert cut is not None
        piece = text[start : start + cut].rstrip()
        if written_words(piece):
            pieces.append((start, start + len(piece)))
        start += cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        if pieces and not written_words(text[start:end]):
            pieces[-1] = (pieces[-1][0], end)
        else:
            pieces.append((start, end))
    return pieces


def _segment_words(text: str, segment: Segment, offset: int, rate: int) -> list[WordTiming]:
    """The segment's words on the utterance timeline; it starts at sample ``offset``."""
    base = offset / rate
    end = (offset + segment.audio.num_samples) / rate
    out = []
    for k, (cs, ce, t) in enumerate(segment.words):
        start = base + t if k else base
        stop = base + segment.words[k + 1][2] if k + 1 < len(segment.words) else end
        out.append(WordTiming(text=text[cs:ce], start=start, end=stop, char_start=cs, char_end=ce))
    return out


def _place(text: str, segments: list[Segment]) -> list[WordTiming]:
    out: list[WordTiming] = []
    offset = 0
    for seg in segments:
        out.extend(_segment_words(text, seg, offset, seg.audio.sample_rate))
        offset += seg.audio.num_samples
    return out
