"""Benchmark cases spoken by real people: openly licensed recordings instead of espeak-ng.

The corpus is a folder with a ``manifest.json`` (format of ``benchmarks/data/human``: each
clip's file, transcript, word timings from the recording, speech spans, natural pauses and
roles). :func:`human_cases` draws labelled cases from it, with the same meaning as the
synthetic ones (:mod:`bargein.bench.cases`):

- ``barge_in``: a clip with the role ``barge_in_short`` / ``barge_in_long``, said after
  0.3-3 s of audible agent speech (label ``take_over``);
- ``backchannel``: a clip with the role ``acknowledgement_word`` (a read "yes" or "right";
  the corpus holds no conversational backchannels), label ``keep_talking``;
- ``pause``: a ``paused_sentence_source`` sentence cut after the word a third or two
  thirds into it, the rest said 0.3-1.5 s later (an edit of a real voice: label
  ``hold_turn``).

Cases are plain data; :func:`recorded_part_speech` cuts a part out of its clip when the case
is rendered. Word timings come from the manifest (aligned on the recording), never from
character counts.
"""

from __future__ import annotations

import functools
import json
import random
from pathlib import Path
from typing import Any

import numpy as np

from bargein.audio.frame import AudioFrame
from bargein.audio.resample import resample
from bargein.bench.cases import (
    BACKGROUNDS,
    DELAY_RANGE,
    PAUSE_RANGE,
    Background,
    BenchCase,
    RecordedPart,
    Voice,
)
from bargein.scenario.user_audio import UserSpeech

__all__ = ["human_cases", "load_manifest", "recorded_part_speech"]

FADE = 0.01  # seconds of fade where a part is cut out of its clip
#: Cases per clip and kind: enough draws of delays and cut points for stable rates.
BARGE_INS_PER_CLIP = 2
BACKCHANNELS_PER_CLIP = 6
CUTS = (1 / 3, 2 / 3)


def load_manifest(folder: str | Path) -> list[dict[str, Any]]:
    """The clips listed in ``folder/manifest.json`` (file paths made absolute)."""
    root = Path(folder)
    manifest = json.loads((root / "manifest.json").read_text())
    return [{**clip, "file": str((root / clip["file"]).resolve())} for clip in manifest["clips"]]


def human_cases(folder: str | Path, seed: int = 0) -> list[BenchCase]:
    """Every labelled case the corpus in ``folder`` gives (see the module docstring); the
    same folder and seed give the same list."""
    rng = random.Random(f"bargein-bench-human/{seed}")
    cases: list[BenchCase] = []
    clips = load_manifest(folder)

    def add(kind: str, label: str, clip: dict[str, Any], parts: tuple[RecordedPart, ...],
            **extra: Any) -> None:
        index = sum(c.kind == kind for c in cases)
        bg_kind, snr = rng.choice(BACKGROUNDS)
        cases.append(BenchCase(
            id=f"human-{kind}-{index:03d}", kind=kind, label=label,
            text=" ".join(p.transcript for p in parts), voice=_voice(clip),
            background=Background(bg_kind, snr), seed=seed * 100003 + len(cases),
            parts=tuple(p.transcript for p in parts) if kind == "pause" else (),
            recording=parts, **extra))

    for clip in clips:
        roles = set(clip["roles"])
        for role in ("barge_in_short", "barge_in_long"):
            if role in roles:
                for _ in range(BARGE_INS_PER_CLIP):
                    add("barge_in", "take_over", clip, (_whole(clip),),
                        delay=round(rng.uniform(*DELAY_RANGE), 3), phrase=role[9:])
        if "acknowledgement_word" in roles:
            for _ in range(BACKCHANNELS_PER_CLIP):
                add("backchannel", "keep_talking", clip, (_whole(clip),),
                    delay=round(rng.uniform(*DELAY_RANGE), 3))
        if "paused_sentence_source" in roles:
            first, last = _first_sentence(clip["words"])
            n = last - first + 1
            if n < 4:
                continue
            for share in CUTS:
                k = first + max(0, round(n * share) - 1)
                if k >= last:
                    continue
                add("pause", "hold_turn", clip, _split(clip, k, last),
                    pause=round(rng.uniform(*PAUSE_RANGE), 3))
    return cases


def recorded_part_speech(part: RecordedPart, sample_rate: int) -> UserSpeech:
    """The part cut out of its clip (faded in and out, at ``sample_rate``) with its ground
    truth: the given word timings and the VAD's speech spans."""
    from bargein.scenario.recordings import recorded_speech

    audio = _read(part.file)
    rate = audio.sample_rate
    samples = audio.to_float()[round(part.start * rate):round(part.end * rate)].copy()
    fade = min(len(samples) // 2, round(FADE * rate))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        samples[:fade] *= ramp
        samples[len(samples) - fade:] *= ramp[::-1]
    frame = resample(AudioFrame.from_float(samples, rate), sample_rate)
    return recorded_speech(frame, transcript=part.transcript, words=part.words)


@functools.lru_cache(maxsize=64)
def _read(file: str) -> AudioFrame:
    from bargein.audio.wav import read_wav

    return read_wav(file)


def _voice(clip: dict[str, Any]) -> Voice:
    return Voice(f"human:{clip['corpus']}:{clip['speaker']}", 0, 0, 0)


def _whole(clip: dict[str, Any]) -> RecordedPart:
    """The clip from its first word to a little after its last."""
    words = clip["words"]
    start = max(0.0, words[0]["start"] - 0.05)
    end = min(clip["duration"], words[-1]["end"] + 0.15)
    return _part(clip, start, end, 0, len(words) - 1)


def _split(clip: dict[str, Any], k: int, last: int) -> tuple[RecordedPart, RecordedPart]:
    """The sentence up to word ``k`` and from word ``k + 1`` to word ``last``: cut half-way
    into the gap after word ``k`` (at most 50 ms after it)."""
    words = clip["words"]
    end_k, next_start = words[k]["end"], words[k + 1]["start"]
    cut = min(end_k + min(0.05, max(0.0, next_start - end_k) / 2), next_start)
    start = max(0.0, words[0]["start"] - 0.05)
    stop = min(clip["duration"], words[last]["end"] + 0.15)
    return _part(clip, start, cut, 0, k), _part(clip, cut, stop, k + 1, last)


def _part(clip: dict[str, Any], start: float, end: float, first: int,
          last: int) -> RecordedPart:
    words = clip["words"][first:last + 1]
    timed = tuple((w["text"], round(max(0.0, w["start"] - start), 4),
                   round(min(end - start, max(w["start"], w["end"]) - start), 4))
                  for w in words)
    return RecordedPart(clip["file"], round(start, 4), round(end, 4),
                        " ".join(w["text"] for w in words), timed)


def _first_sentence(words: list[dict[str, Any]]) -> tuple[int, int]:
    """(first, last) word index of the clip's first sentence."""
    for i, w in enumerate(words):
        if w["text"].endswith((".", "?", "!")):
            return 0, i
    return 0, len(words) - 1
