"""espeak-ng rendering of one sentence: trimmed audio and word timings (private).

:func:`render_sentence` is the work :class:`~bargein.providers.espeak_tts.EspeakTTS` runs in
its executor, one sentence at a time; the module docstring of
:mod:`bargein.providers.espeak_tts` says how the timings are post-processed.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from bargein.audio.frame import AudioFrame
from bargein.audio.resample import resample
from bargein.providers import _espeak_lib as _es
from bargein.text import words as written_words

__all__ = ["RENDER_CACHE_SIZE", "Segment", "Voice", "render_sentence"]

#: Sentences kept rendered per process (each a few seconds of audio, about 100 KB).
RENDER_CACHE_SIZE = 256
# A sample counts as audible above this level (about -60 dBFS); espeak's pauses are exact zeros.
_AUDIBLE = 32
# Silence kept before the first and after the last audible sample of a sentence.
_PAD_SECONDS = 0.005
# How far past its espeak position a word's audible onset is looked for.
_MAX_ONSET_SHIFT = 0.06


@dataclass(frozen=True, slots=True)
class Segment:
    """One sentence rendered at the output rate.

    ``words`` are (char_start, char_end, start): character positions in the text it was
    rendered from (:func:`render_sentence`: the sentence; ``EspeakTTS`` shifts them into the
    whole text), ``start`` in seconds from the segment's first sample; each word ends where
    the next starts, the segment's last word at the segment's end.
    """

    audio: AudioFrame
    words: tuple[tuple[int, int, float], ...]


@dataclass(frozen=True, slots=True)
class Voice:
    """Everything besides the text that the audio of a sentence depends on."""

    espeak_voice: str
    rate: int
    pitch: int
    volume: int
    sample_rate: int
    quantum: int


@functools.lru_cache(maxsize=RENDER_CACHE_SIZE)
def render_sentence(voice: Voice, sentence: str, last: bool) -> Segment:
    """Speak one sentence, trim it and time its words (character positions in ``sentence``).

    Cached: every synthesis runs in a freshly loaded espeak-ng, so the same sentence in the
    same voice always gives the same bytes; an agent's recurring lines and a suite's repeated
    prompts are spoken once per process."""
    with _es.session() as espeak:
        err = espeak.set_voice(voice.espeak_voice)
        if err != _es.EE_OK:
            raise ValueError(f"espeak-ng could not select voice {voice.espeak_voice!r} "
                             f"(code {err})")
        espeak.set_parameter(_es.PARAM_RATE, voice.rate)
        espeak.set_parameter(_es.PARAM_PITCH, voice.pitch)
        espeak.set_parameter(_es.PARAM_VOLUME, voice.volume)
        espeak.set_parameter(_es.PARAM_RANGE, 50)
        espeak.set_parameter(_es.PARAM_WORDGAP, 0)
        pcm, events = espeak.synth(sentence, end_pause=not last)
        native = espeak.sample_rate
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
        q = voice.quantum
        stop = cut + max(math.ceil((stop - cut) / q), round((len(x) - cut) / q)) * q
    samples = _take(x, cut, stop)
    anchors = _word_anchors(sentence, word_events, x, native)
    local = _time_words(sentence, anchors, cut, len(samples))
    frame = resample(AudioFrame.from_int16(samples, native), voice.sample_rate)
    return Segment(audio=frame, words=tuple((cs, ce, t / native) for cs, ce, t in local))


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
