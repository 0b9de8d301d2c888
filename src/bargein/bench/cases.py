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
makes its noise bed. The same ``(count, seed)`` always gives the same cases and the same
audio, sample for sample.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bargein.audio.frame import AudioFrame
from bargein.providers.latency import Fixed
from bargein.providers.tts import SynthesizedSpeech
from bargein.scenario.user_audio import UserSpeech

__all__ = [
    "BACKCHANNELS",
    "KINDS",
    "LABELS",
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
#: RMS (fraction of full scale) of the reference speech level: espeak-ng at volume 100.
REFERENCE_SPEECH_RMS = 0.1

USER_VOICES = (
    "en-us+m3", "en-us+f2", "en-gb+m1", "en-gb-scotland+m4", "en-us+f4", "en-gb-x-rp+m2",
    "en-029+f1", "en-us-nyc+m7", "en-us+Alicia", "en-gb+klatt2",
)  # fmt: skip
#: (kind, SNR in dB): "none" is a clean line. Weighted towards clean and mild noise.
BACKGROUNDS = (
    ("none", None), ("none", None), ("white", 20.0), ("white", 10.0), ("pink", 20.0),
    ("pink", 10.0), ("babble", 20.0), ("babble", 15.0),
)  # fmt: skip

SHORT_BARGE_INS = (
    "Stop.", "Wait.", "Hold on.", "No, no.", "Excuse me.", "Hang on.", "Sorry, wait.",
    "Stop, please.", "One second.", "Not that.",
)  # fmt: skip
LONG_BARGE_INS = (
    "Sorry, can you tell me about refunds instead?",
    "Wait, what are your opening hours?",
    "Hold on, I need to speak to a person.",
    "Actually, I want to cancel my account.",
    "Sorry to cut in, how much does it cost?",
    "No, I asked about my bill, not the features.",
    "Yes, but what about shipping to Canada?",
    "Right, and how do I change my password?",
    "Can I stop you there, my order never arrived.",
    "Excuse me, is there a discount for students?",
)
#: What a backchannel case says: each of the five alone, and a few doubled.
BACKCHANNELS = (
    "Uh-huh.", "Mm-hmm.", "Yeah.", "Right.", "Okay.",
    "Uh-huh, yeah.", "Mm-hmm, okay.", "Yeah, right.",
)  # fmt: skip
PAUSED_SENTENCES = (
    ("I'd like to book a table for", "four people on Friday evening."),
    ("My account number is", "four five seven two one nine."),
    ("Can you check whether my order", "has been shipped yet?"),
    ("I was wondering if", "you could help me with my bill."),
    ("The problem started when I", "updated the app last week."),
    ("Could you send the invoice to", "my work email address?"),
    ("I moved house in March and", "I need to change my address."),
    ("What I really want to know is", "how long the warranty lasts."),
    ("I tried to pay with my", "credit card but it failed."),
    ("Please transfer me to", "someone in the billing team."),
)
MONOLOGUE_SENTENCES = (
    "My bill from last month looks wrong.",
    "I moved house in March.",
    "I changed my address on your website.",
    "Then a letter went to my old flat.",
    "My neighbour kept it for two weeks.",
    "The late fee was added anyway.",
    "I called twice and nobody called back.",
    "My sister had the same problem last year.",
    "She had to write a letter in the end.",
    "I really do not want to do that.",
    "I have been a customer for ten years.",
    "I always paid on time until now.",
)


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
class Background:
    """Noise under the whole case: ``kind`` none/white/pink/babble at ``snr_db`` below the
    user's speech level (the reference speech level for cases without speech)."""

    kind: str
    snr_db: float | None = None

    def describe(self) -> str:
        """"clean" or e.g. "pink 10 dB"."""
        return "clean" if self.kind == "none" else f"{self.kind} {self.snr_db:g} dB"


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


def active_rms(x: np.ndarray) -> float:
    """RMS of the audible part of ``x`` (float samples above about -54 dBFS): the speech
    level a background's SNR is set against."""
    loud = x[np.abs(x) > 0.002]
    return float(np.sqrt(np.mean(loud**2))) if loud.size else REFERENCE_SPEECH_RMS


def _band(noise: np.ndarray, sample_rate: int, low: float, high: float) -> np.ndarray:
    """``noise`` band-passed to ``[low, high]`` Hz (brick wall in the frequency domain)."""
    spectrum = np.fft.rfft(noise)
    freqs = np.fft.rfftfreq(len(noise), 1 / sample_rate)
    spectrum[(freqs < low) | (freqs > high)] = 0
    return np.fft.irfft(spectrum, len(noise))


def _to_frame(x: np.ndarray, sample_rate: int) -> AudioFrame:
    return AudioFrame.from_int16(np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16),
                                 sample_rate)


def _set_rms(x: np.ndarray, rms: float) -> np.ndarray:
    current = float(np.sqrt(np.mean(x**2)))
    return x * (rms / current) if current > 0 else x


def cough(rng: np.random.Generator, sample_rate: int, level: float) -> AudioFrame:
    """A cough-like sound: 1-3 bursts of band-passed noise (fast attack, exponential decay),
    ``level`` RMS over its audible part."""
    pieces = []
    for i in range(int(rng.integers(1, 4))):
        dur = rng.uniform(0.15, 0.35)
        n = int(dur * sample_rate)
        t = np.arange(n) / sample_rate
        centre = rng.uniform(400, 1500)
        burst = _band(rng.standard_normal(n), sample_rate, centre * 0.4, centre * 2.5)
        env = np.minimum(t / 0.012, 1.0) * np.exp(-t / rng.uniform(0.06, 0.12))
        pieces.append(burst * env)
        if i < 2:
            pieces.append(np.zeros(int(rng.uniform(0.1, 0.25) * sample_rate)))
    x = np.concatenate(pieces)
    x = np.trim_zeros(x)
    return _to_frame(_scale_active(x, level), sample_rate)


def knock(rng: np.random.Generator, sample_rate: int, level: float) -> AudioFrame:
    """A knock-like sound: 2-4 short damped resonances with a noise click, 0.12-0.3 s apart."""
    pieces = []
    count = int(rng.integers(2, 5))
    freq = rng.uniform(150, 600)
    for i in range(count):
        n = int(rng.uniform(0.04, 0.08) * sample_rate)
        t = np.arange(n) / sample_rate
        tone = np.sin(2 * np.pi * freq * rng.uniform(0.95, 1.05) * t)
        click = _band(rng.standard_normal(n), sample_rate, 500, 5000) * np.exp(-t / 0.004)
        env = np.exp(-t / rng.uniform(0.01, 0.025))
        pieces.append((tone + 0.5 * click) * env)
        if i < count - 1:
            pieces.append(np.zeros(int(rng.uniform(0.12, 0.3) * sample_rate)))
    x = np.trim_zeros(np.concatenate(pieces))
    return _to_frame(_scale_active(x, level), sample_rate)


def _scale_active(x: np.ndarray, rms: float) -> np.ndarray:
    peak = float(np.max(np.abs(x))) or 1.0
    active = x[np.abs(x) > peak * 0.05]
    current = float(np.sqrt(np.mean(active**2))) if active.size else peak
    y = x * (rms / current)
    return np.clip(y, -0.99, 0.99)


async def background_bed(case: BenchCase, duration: float, speech_rms: float,
                         sample_rate: int = 16000) -> AudioFrame | None:
    """``duration`` seconds of the case's background noise at its SNR below ``speech_rms``,
    or None for a clean line. Deterministic for the case."""
    return await noise_bed(case.background, case.seed, duration, speech_rms, sample_rate)


async def noise_bed(background: Background, seed: int, duration: float, speech_rms: float,
                    sample_rate: int = 16000) -> AudioFrame | None:
    """``duration`` seconds of ``background`` noise at its SNR below ``speech_rms``, or None
    for a clean line. The same ``seed`` gives the same noise."""
    bg = background
    if bg.kind == "none" or bg.snr_db is None:
        return None
    n = math.ceil(duration * sample_rate)
    rng = np.random.default_rng(seed + 7919)
    if bg.kind == "white":
        x = rng.standard_normal(n)
    elif bg.kind == "pink":
        x = _pink(rng, n)
    elif bg.kind == "babble":
        source = await _babble_source(sample_rate)
        start = int(rng.integers(0, len(source)))
        x = np.resize(np.roll(source, -start), n)
    else:
        raise ValueError(f"unknown background kind {bg.kind!r}")
    x = _set_rms(x, speech_rms * 10 ** (-bg.snr_db / 20))
    return _to_frame(np.clip(x, -0.99, 0.99), sample_rate)


def _pink(rng: np.random.Generator, n: int) -> np.ndarray:
    """1/f noise: white noise shaped in the frequency domain."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spectrum), dtype=np.float64)
    f[0] = 1.0
    return np.fft.irfft(spectrum / np.sqrt(f), n)


#: Voices of the babble: twelve other speakers talking at once, like a busy cafeteria. (With
#: only a few talkers, Silero VAD hears them as speech even 30 dB below the user: that is a
#: competing speaker, not background noise.)
BABBLE_VOICES = (
    "en-us+m1", "en-gb+f4", "en-us+m6", "en-gb+f1", "en-us+m2", "en-gb+f2", "en-029+m3",
    "en-us+f5", "en-gb-scotland+m5", "en-us-nyc+f3", "en-gb+m7", "en-us+f1",
)  # fmt: skip
BABBLE_SECONDS = 8


_BABBLE: dict[int, np.ndarray] = {}


async def _babble_source(sample_rate: int) -> np.ndarray:
    """Twelve espeak voices talking at once (8 s, looped by the caller), unit RMS."""
    if sample_rate not in _BABBLE:
        from bargein.providers.espeak_tts import EspeakTTS

        tracks = []
        n = BABBLE_SECONDS * sample_rate
        for i, voice in enumerate(BABBLE_VOICES):
            line = " ".join(MONOLOGUE_SENTENCES[i:i + 3])
            tts = EspeakTTS(voice=voice, sample_rate=sample_rate, ttfb=Fixed(0.0))
            audio = (await tts.synthesize(line)).audio.to_float()
            tracks.append(np.roll(np.resize(audio, n), i * n // len(BABBLE_VOICES)))
        x = np.sum(tracks, axis=0)
        _BABBLE[sample_rate] = x / float(np.sqrt(np.mean(x**2)))
    return _BABBLE[sample_rate]
