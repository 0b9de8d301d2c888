"""Labelled cases of the interruption benchmark: a seeded, reproducible generator.

Five kinds of case, each a few seconds of audio around one user event:

- ``barge_in``: a genuine interruption (a short or a long phrase) said after 0.3-3 s of
  audible agent speech. Label ``take_over``: the agent should stop and answer.
- ``backchannel``: "uh-huh", "mm-hmm", "yeah", "right", "okay" (alone or doubled) said over
  the agent's speech. Label ``keep_talking``: the agent should neither stop nor pause.
- ``noise``: a non-speech burst (cough-like or knock-like, synthesized here from filtered
  noise with envelopes) over the agent's speech. Label ``keep_talking``.
- ``pause``: while the agent is silent, the user says one sentence in two parts with a pause
  of 0.3-1.5 s between them. Label ``hold_turn``: the agent should not speak before the
  sentence is complete.
- ``monologue``: while the agent is silent, the user says 1-6 sentences in one go. The agent
  under test has a turn limit of :data:`TURN_LIMIT_SENTENCES` sentences. Label ``cut_in``
  when the monologue goes on past the limit (more sentences than the limit: the agent should
  talk over the user before they finish), ``no_cut_in`` otherwise (a user who stops at or
  before the limit is answered as an ordinary turn: nobody is left to interrupt, as the
  runtime's turn-limit rule says).

Every case varies the simulated user's voice (several espeak-ng voices and variants), speaking
rate, pitch and loudness, and most add background noise (white, pink, or babble made of other
espeak speech at a low level) at a given signal-to-noise ratio. A case is plain data
(:class:`BenchCase`); :func:`render_case` turns it into audio and :func:`background_bed`
makes its noise bed (noises in :mod:`bargein.bench.noise`, the callers' lines in
:mod:`bargein.bench.caller_lines`). The same ``(count, seed)`` always gives the same cases
and the same audio, sample for sample.
"""

from __future__ import annotations

import functools
import random
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bargein.audio.frame import AudioFrame
from bargein.bench.caller_lines import (
    BACKCHANNELS,
    LONG_BARGE_INS,
    MONOLOGUE_SENTENCES,
    PAUSED_SENTENCES,
    SHORT_BARGE_INS,
)
from bargein.bench.noise import (
    REFERENCE_SPEECH_RMS,
    Background,
    active_rms,
    cough,
    knock,
    noise_bed,
)
from bargein.providers.latency import Fixed
from bargein.providers.tts import SynthesizedSpeech
from bargein.scenario.user_audio import UserSpeech

__all__ = [
    "BACKCHANNELS",
    "BACKGROUNDS",
    "KINDS",
    "LABELS",
    "LONG_BARGE_INS",
    "MONOLOGUE_SENTENCES",
    "PAUSED_SENTENCES",
    "REFERENCE_SPEECH_RMS",
    "SHORT_BARGE_INS",
    "TURN_LIMIT_SENTENCES",
    "Background",
    "BenchCase",
    "RecordedPart",
    "RenderedCase",
    "Voice",
    "active_rms",
    "background_bed",
    "caller_tts",
    "cough",
    "generate_cases",
    "knock",
    "noise_bed",
    "render_case",
]

#: The case kinds, in report order.
KINDS = ("barge_in", "backchannel", "noise", "pause", "monologue")
#: The expected behaviour of each kind (monologues: by sentence count).
LABELS = {
    "barge_in": ("take_over",),
    "backchannel": ("keep_talking",),
    "noise": ("keep_talking",),
    "pause": ("hold_turn",),
    "monologue": ("cut_in", "no_cut_in"),
}
#: Share of each kind in a suite.
MIX = {"barge_in": 0.30, "backchannel": 0.20, "noise": 0.15, "pause": 0.20, "monologue": 0.15}
#: The agent under test cuts in on a user turn of this many sentences (UserTurnLimit).
TURN_LIMIT_SENTENCES = 3

DELAY_RANGE = (0.3, 3.0)  # seconds of audible agent speech before an event over it
PAUSE_RANGE = (0.3, 1.5)  # seconds of silence inside a sentence
SENTENCE_RANGE = (1, 6)  # sentences in a monologue
#: Sentence counts of successive monologues: labels alternate, so small suites get both.
MONOLOGUE_ORDER = (4, 1, 5, 2, 6, 3)
RATE_RANGE = (140, 210)  # words per minute
PITCH_RANGE = (30, 70)
VOLUME_RANGE = (60, 160)  # espeak amplitude (100 = its default)
BURST_LEVEL_DB = (-6.0, 6.0)  # noise burst level, relative to the reference speech level

USER_VOICES = (
    "en-us+m3", "en-us+f2", "en-gb+m1", "en-gb-scotland+m4", "en-us+f4", "en-gb-x-rp+m2",
    "en-029+f1", "en-us-nyc+m7", "en-us+Alicia", "en-gb+klatt2",
)  # fmt: skip
#: (kind, SNR in dB): "none" is a clean line. Weighted towards clean and mild noise.
BACKGROUNDS = (
    ("none", None), ("none", None), ("white", 20.0), ("white", 10.0), ("pink", 20.0),
    ("pink", 10.0), ("babble", 20.0), ("babble", 15.0),
)  # fmt: skip


@dataclass(frozen=True)
class Voice:
    """How the simulated user speaks: espeak-ng voice, words per minute, pitch, amplitude."""

    name: str
    rate: int
    pitch: int
    volume: int


@dataclass(frozen=True)
class RecordedPart:
    """A stretch of a recording a case plays instead of synthesized speech: ``file`` (a WAV),
    from ``start`` to ``end`` seconds, saying ``transcript`` with ``words`` timed as
    ``(text, start, end)`` seconds from the part's start (e.g. a human voice, see
    :mod:`bargein.bench.human`)."""

    file: str
    start: float
    end: float
    transcript: str
    words: tuple[tuple[str, float, float], ...]


@dataclass(frozen=True)
class BenchCase:
    """One labelled case. Plain data: it renders to the same audio every time.

    - ``kind``: one of :data:`KINDS`; ``label``: the expected behaviour (:data:`LABELS`).
    - ``text``: what the user says (empty for noise bursts); ``parts``: the two halves of a
      paused sentence, or the sentences of a monologue.
    - ``delay``: seconds of audible agent speech before an event said over it.
    - ``pause``: seconds between the two parts (pause cases).
    - ``sentences``: sentences in a monologue; ``phrase``: ``short``/``long`` (barge-ins).
    - ``burst``: ``cough``/``knock`` (noise cases).
    - ``seed``: drives the synthesized noise of this case.
    """

    id: str
    kind: str
    label: str
    text: str
    voice: Voice
    background: Background
    seed: int
    parts: tuple[str, ...] = ()
    delay: float | None = None
    pause: float | None = None
    sentences: int | None = None
    phrase: str | None = None
    burst: str | None = None
    #: recorded speech played instead of synthesizing ``text`` (one part, or two for a pause)
    recording: tuple[RecordedPart, ...] = ()

    @property
    def agent_opens(self) -> bool:
        """True if the agent must already be speaking (a long reply) when the case starts."""
        return self.kind in ("barge_in", "backchannel", "noise")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        data["parts"] = list(self.parts)
        if not self.recording:
            del data["recording"]
        return data


def generate_cases(count: int = 300, seed: int = 0) -> list[BenchCase]:
    """``count`` labelled cases (at least one of each kind when ``count >= 5``), drawn from
    ``seed``. The same arguments give the same list."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be an integer >= 1, got {count!r}")
    per_kind = _allocate(count)
    rng = random.Random(f"bargein-bench/{seed}")
    order = [kind for kind in KINDS for _ in range(per_kind[kind])]
    rng.shuffle(order)
    made = {kind: 0 for kind in KINDS}
    cases = []
    for i, kind in enumerate(order):
        index = made[kind]
        made[kind] += 1
        cases.append(_make(kind, index, f"{kind}-{index:03d}", rng, case_seed=seed * 100003 + i))
    return cases


def _allocate(count: int) -> dict[str, int]:
    """Cases per kind, following :data:`MIX`, summing to ``count``."""
    exact = {k: count * share for k, share in MIX.items()}
    out = {k: int(v) for k, v in exact.items()}
    if count >= len(KINDS):
        for k in KINDS:
            out[k] = max(out[k], 1)
    while sum(out.values()) > count:
        biggest = max(KINDS, key=lambda k: out[k])
        out[biggest] -= 1
    by_remainder = sorted(KINDS, key=lambda k: (-(exact[k] - int(exact[k])), KINDS.index(k)))
    i = 0
    while sum(out.values()) < count:
        out[by_remainder[i % len(KINDS)]] += 1
        i += 1
    return out


def _make(kind: str, index: int, case_id: str, rng: random.Random, case_seed: int) -> BenchCase:
    voice = Voice(rng.choice(USER_VOICES), rng.randint(*RATE_RANGE), rng.randint(*PITCH_RANGE),
                  rng.randint(*VOLUME_RANGE))
    bg_kind, snr = rng.choice(BACKGROUNDS)
    common = dict(id=case_id, kind=kind, voice=voice, background=Background(bg_kind, snr),
                  seed=case_seed)
    delay = round(rng.uniform(*DELAY_RANGE), 3)
    if kind == "barge_in":
        phrase = "short" if index % 2 == 0 else "long"
        text = rng.choice(SHORT_BARGE_INS if phrase == "short" else LONG_BARGE_INS)
        return BenchCase(label="take_over", text=text, delay=delay, phrase=phrase, **common)
    if kind == "backchannel":
        return BenchCase(label="keep_talking", text=rng.choice(BACKCHANNELS), delay=delay,
                         **common)
    if kind == "noise":
        burst = "cough" if index % 2 == 0 else "knock"
        return BenchCase(label="keep_talking", text="", delay=delay, burst=burst, **common)
    if kind == "pause":
        parts = rng.choice(PAUSED_SENTENCES)
        pause = round(rng.uniform(*PAUSE_RANGE), 3)
        return BenchCase(label="hold_turn", text=" ".join(parts), parts=parts, pause=pause,
                         **common)
    n = MONOLOGUE_ORDER[index % len(MONOLOGUE_ORDER)]
    start = rng.randrange(len(MONOLOGUE_SENTENCES))
    parts = tuple(MONOLOGUE_SENTENCES[(start + j) % len(MONOLOGUE_SENTENCES)] for j in range(n))
    label = "cut_in" if n > TURN_LIMIT_SENTENCES else "no_cut_in"
    return BenchCase(label=label, text=" ".join(parts), parts=parts, sentences=n, **common)


# -- audio ------------------------------------------------------------------------------------


@dataclass
class RenderedCase:
    """The audio of a case: what the user says (speech keeps its word timings, so an oracle
    STT and the metrics know the words) and the level its background is set against."""

    case: BenchCase
    speech: list[SynthesizedSpeech | AudioFrame | UserSpeech] = field(default_factory=list)
    speech_rms: float = REFERENCE_SPEECH_RMS

    @property
    def duration(self) -> float:
        """Seconds of user audio (parts back to back, without the pause)."""
        return sum(s.duration for s in self.speech)


async def render_case(case: BenchCase, sample_rate: int = 16000) -> RenderedCase:
    """Synthesize the user's side of ``case`` (espeak-ng speech, or a noise burst), or cut it
    from its recordings."""
    out = RenderedCase(case)
    if case.recording:
        from bargein.bench.human import recorded_part_speech

        out.speech = [recorded_part_speech(part, sample_rate) for part in case.recording]
        out.speech_rms = active_rms(np.concatenate([s.audio.to_float() for s in out.speech]))
        return out
    if case.kind == "noise":
        rng = np.random.default_rng(case.seed)
        make = cough if case.burst == "cough" else knock
        level = REFERENCE_SPEECH_RMS * 10 ** (rng.uniform(*BURST_LEVEL_DB) / 20)
        out.speech = [make(rng, sample_rate, level)]
        return out
    tts = caller_tts(case.voice, sample_rate)
    texts = case.parts if case.kind == "pause" else (case.text,)
    out.speech = [await tts.synthesize(text) for text in texts]
    out.speech_rms = active_rms(np.concatenate([s.audio.to_float() for s in out.speech]))
    return out


@functools.lru_cache(maxsize=64)
def caller_tts(voice: Voice, sample_rate: int = 16000) -> Any:
    """The espeak-ng voice of a simulated caller (cached per voice and rate). Its lines are
    "already thought": no synthesis latency is charged to the clock."""
    from bargein.providers.espeak_tts import EspeakTTS

    return EspeakTTS(voice=voice.name, rate=voice.rate, pitch=voice.pitch,
                     volume=voice.volume, sample_rate=sample_rate, ttfb=Fixed(0.0))


async def background_bed(case: BenchCase, duration: float, speech_rms: float,
                         sample_rate: int = 16000) -> AudioFrame | None:
    """``duration`` seconds of the case's background noise at its SNR below ``speech_rms``,
    or None for a clean line. Deterministic for the case."""
    return await noise_bed(case.background, case.seed, duration, speech_rms, sample_rate)
