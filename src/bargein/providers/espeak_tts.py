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
import math
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial

import numpy as np

from bargein.audio.frame import AudioFrame, check_sample_rate, concat
from bargein.audio.resample import resample
from bargein.providers import _espeak_lib as _es
from bargein.providers.latency import Fixed, Latency, WorkTimer
from bargein.providers.tts import SynthesizedSpeech, TTSChunk
from bargein.providers.types import WordTiming
from bargein.text import MAX_SPEECH_UNIT, unit_end
from bargein.text import words as written_words

__all__ = ["EspeakTTS", "list_variants", "list_voices"]

#: Speaking rate limits espeak-ng accepts, in words per minute.
MIN_RATE = 80
MAX_RATE = 450

# A sample counts as audible above this level (about -60 dBFS); espeak's pauses are exact zeros.
_AUDIBLE = 32
# Silence kept before the first and after the last audible sample of a sentence.
_PAD_SECONDS = 0.005
# How far past its espeak position a word's audible onset is looked for.
_MAX_ONSET_SHIFT = 0.06
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


@dataclass(frozen=True, slots=True)
class _Segment:
    """One sentence rendered at the output rate.

    ``words`` are (char_start, char_end, start) in the original text, ``start`` in seconds
    from the segment's first sample; each word ends where the next starts, the segment's last
    word at the segment's end.
    """

    audio: AudioFrame
    words: tuple[tuple[int, int, float], ...]


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
        self._native_rate = native
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
        return TTSChunk(frame=AudioFrame(data, rate), offset=start / rate, words=inside)

    # -- rendering (runs in the executor) ----------------------------------------------------

    def _render_all(self, text: str, spans: list[tuple[int, int]]) -> list[_Segment]:
        return [self._render(text, span, i + 1 == len(spans)) for i, span in enumerate(spans)]

    def _render(self, text: str, span: tuple[int, int], last: bool) -> _Segment:
        """Speak one sentence, trim it and time its words; output-rate audio."""
        start, end = span
        sentence = text[start:end]
        with _es.session() as espeak:
            self._apply(espeak)
            pcm, events = espeak.synth(sentence, end_pause=not last)
        native = self._native_rate
        x = np.frombuffer(pcm, dtype="<i2")
        word_events = [
            (pos - 1, pos - 1 + length, ms)
            for kind, pos, length, ms in events
            if kind == _es.EVENT_WORD
        ]
        audible = np.flatnonzero(np.abs(x.astype(np.int32)) > _AUDIBLE)
        pad = round(_PAD_SECONDS * native)
        if len(audible):
            # Exactly ``pad`` samples of silence around the speech (zeros added if espeak
            # starts or stops abruptly).
            cut = int(audible[0]) - pad
            stop = int(audible[-1]) + 1 + pad
        else:  # nothing audible (should not happen for text with words): keep it all
            cut, stop = 0, max(1, len(x))
        if not last:
            # Keep espeak's pause after the sentence, cut to a whole quantum of samples.
            q = self._quantum
            stop = cut + max(math.ceil((stop - cut) / q), round((len(x) - cut) / q)) * q
        samples = _take(x, cut, stop)
        anchors = _word_anchors(sentence, word_events, x, native)
        local = _time_words(sentence, anchors, cut, len(samples))
        frame = resample(AudioFrame.from_int16(samples, native), self._sample_rate)
        words = tuple((start + cs, start + ce, t / native) for cs, ce, t in local)
        return _Segment(audio=frame, words=words)

    def _apply(self, espeak: _es.Session) -> None:
        """Set this instance's voice and parameters on a fresh espeak session."""
        err = espeak.set_voice(self._espeak_voice)
        if err != _es.EE_OK:
            raise ValueError(f"espeak-ng could not select voice {self.voice!r} (code {err})")
        espeak.set_parameter(_es.PARAM_RATE, self.rate)
        espeak.set_parameter(_es.PARAM_PITCH, self.pitch)
        espeak.set_parameter(_es.PARAM_VOLUME, self.volume)
        espeak.set_parameter(_es.PARAM_RANGE, 50)
        espeak.set_parameter(_es.PARAM_WORDGAP, 0)

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


def _take(x: np.ndarray, start: int, stop: int) -> np.ndarray:
    """``x[start:stop]`` with zeros where the range runs past either end of ``x``."""
    out = np.zeros(stop - start, np.int16)
    a, b = max(start, 0), min(stop, len(x))
    if b > a:
        out[a - start : b - start] = x[a:b]
    return out


def _written_spans(sentence: str) -> list[tuple[int, int]]:
    """Character spans of :func:`bargein.text.words` in ``sentence``."""
    spans = []
    pos = 0
    for w in written_words(sentence):
        i = sentence.index(w, pos)
        spans.append((i, i + len(w)))
        pos = i + len(w)
    return spans


def _word_anchors(
    sentence: str, events: list[tuple[int, int, int]], x: np.ndarray, native: int
) -> list[tuple[int, int, int | None]]:
    """Each written word with the native sample where espeak starts it (None: no event).

    An event belongs to the written word that contains its first character, else to the
    next written word (espeak may point at the punctuation before a word: "3.5"), else to
    the last one. A word with several events starts at the earliest.
    """
    spans = _written_spans(sentence)
    first: list[int | None] = [None] * len(spans)
    for ev_start, _ev_end, ms in events:
        owner = None
        for k, (ws, we) in enumerate(spans):
            if ws <= ev_start < we or ev_start < ws:
                owner = k
                break
        if owner is None:
            owner = len(spans) - 1
        sample = round(ms * native / 1000)
        if first[owner] is None or sample < first[owner]:
            first[owner] = sample
    out = []
    limit = round(_MAX_ONSET_SHIFT * native)
    pad = round(_PAD_SECONDS * native)
    for (ws, we), s in zip(spans, first, strict=True):
        if s is not None and s < len(x) and abs(int(x[s])) <= _AUDIBLE:
            # espeak's position is on silence (its lead-in, a plosive's closure): move to
            # the audible onset when it comes soon.
            ahead = np.flatnonzero(np.abs(x[s : s + limit].astype(np.int32)) > _AUDIBLE)
            if len(ahead):
                s = max(s, s + int(ahead[0]) - pad)
        out.append((ws, we, s))
    return out


def _time_words(
    sentence: str, anchors: list[tuple[int, int, int | None]], cut: int, length: int
) -> list[tuple[int, int, float]]:
    """(char_start, char_end, start sample) per written word on the trimmed audio.

    Words without their own, strictly later espeak position join the word before them;
    each such group shares its span by characters. The first word starts at 0.
    """
    groups: list[tuple[int, list[tuple[int, int]]]] = []  # (start sample, word spans)
    for ws, we, s in anchors:
        start = None if s is None else s - cut
        if not groups:
            groups.append((0, [(ws, we)]))
        elif start is not None and start > groups[-1][0] and start < length:
            groups.append((start, [(ws, we)]))
        else:
            groups[-1][1].append((ws, we))
    out: list[tuple[int, int, float]] = []
    for g, (g_start, members) in enumerate(groups):
        g_end = groups[g + 1][0] if g + 1 < len(groups) else length
        weights = [max(1, we - ws) for ws, we in members]
        total = sum(weights)
        acc = 0
        for (ws, we), w in zip(members, weights, strict=True):
            out.append((ws, we, g_start + (g_end - g_start) * acc / total))
            acc += w
    return out


def _segment_words(text: str, segment: _Segment, offset: int, rate: int) -> list[WordTiming]:
    """The segment's words on the utterance timeline; it starts at sample ``offset``."""
    base = offset / rate
    end = (offset + segment.audio.num_samples) / rate
    out = []
    for k, (cs, ce, t) in enumerate(segment.words):
        start = base + t if k else base
        stop = base + segment.words[k + 1][2] if k + 1 < len(segment.words) else end
        out.append(WordTiming(text=text[cs:ce], start=start, end=stop, char_start=cs, char_end=ce))
    return out


def _place(text: str, segments: list[_Segment]) -> list[WordTiming]:
    out: list[WordTiming] = []
    offset = 0
    for seg in segments:
        out.extend(_segment_words(text, seg, offset, seg.audio.sample_rate))
        offset += seg.audio.num_samples
    return out
