"""Soak scenarios as plain data, drawn from a seed: who the agent is, what the caller does.

Scenario ``index`` of run ``seed`` is drawn from its own random stream
(``"bargein-soak/{seed}/{index}"``), so it is the same whether it runs among thousands or
alone (``bargein soak --seed S --only K``). A :class:`ScenarioPlan` holds:

- the agent: one setup (by name), a :class:`~bargein.adapters.soak_agent.SoakVariant`
  (recognizer, at most one injected fault, the opening line);
- the caller: a voice, a background (clean line or noise at an SNR), and 2-6
  :class:`Move` s: questions, barge-ins at random moments of the agent's speech,
  backchannels, coughs and knocks, sentences with a pause inside, monologues that run into
  a turn limit, quick follow-ups over a thinking agent, and silences.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from bargein.adapters.bench_agent import OPENING
from bargein.adapters.soak_agent import FAULTS, SoakVariant
from bargein.bench.cases import (
    BACKCHANNELS,
    BACKGROUNDS,
    LONG_BARGE_INS,
    MONOLOGUE_SENTENCES,
    PAUSED_SENTENCES,
    PITCH_RANGE,
    RATE_RANGE,
    SHORT_BARGE_INS,
    USER_VOICES,
    VOLUME_RANGE,
    Background,
    Voice,
)

__all__ = ["MOVES", "QUESTIONS", "Move", "ScenarioPlan", "draw_scenario"]

#: What the caller asks: the rule-based agent's topics, and a few it does not know.
QUESTIONS = (
    "What are your business hours?",
    "How do I get a refund?",
    "Can you tell me about your product features?",
    "I have a question about my bill.",
    "How do I reset my password?",
    "Do you ship to Canada?",
    "Can I speak to someone about my account?",
    "Is there a discount for students?",
    "My order never arrived, what can I do?",
    "How much does the team plan cost?",
    "Can I change the email address on my account?",
    "Why was I charged twice this month?",
)
SHORT_OPENING = "Hello, thanks for calling. How can I help you today?"

#: Move kinds and how often each is drawn.
MOVES: dict[str, float] = {
    "ask": 0.30, "barge_in": 0.18, "backchannel": 0.10, "noise": 0.07, "pause": 0.10,
    "monologue": 0.07, "follow_up": 0.06, "silence": 0.12,
}  # fmt: skip
#: Kinds whose lines hold real words the agent must take as (part of) a turn.
WORDY = ("ask", "barge_in", "pause", "monologue", "follow_up")

FAULT_SHARE = 0.35  # scenarios with one injected fault
STT_SHARES = (("oracle", 0.86), ("whisper", 0.09), ("local", 0.05))
OPENINGS = ((None, 0.4), (SHORT_OPENING, 0.3), (OPENING, 0.3))


@dataclass(frozen=True)
class Move:
    """One thing the caller does.

    - ``kind``: one of :data:`MOVES`.
    - ``wait``: before it, ``"quiet"`` (until neither side has made a sound for ``settle`` s
      and the agent is not busy, at most ``patience`` s: after a question, a caller with a
      short ``settle`` may speak before the answer), ``"heard"`` (until ``delay`` s of agent
      audio were heard since the move began, at most ``patience`` s: a barge-in moment) or
      ``"none"``.
    - ``parts``: the words, one entry per utterance (a paused sentence has two, said
      ``gap`` s apart); empty for noise and silence.
    - ``burst``: ``cough`` or ``knock`` for noise; ``seconds``: how long a silence lasts.
    """

    kind: str
    wait: str = "none"
    parts: tuple[str, ...] = ()
    delay: float = 0.0
    settle: float = 1.5
    patience: float = 20.0
    gap: float = 0.0
    burst: str | None = None
    seconds: float = 0.0

    @property
    def wordy(self) -> bool:
        """True if the caller says real words the agent must take as a turn."""
        return self.kind in WORDY

    def describe(self) -> str:
        """A short human description, e.g. ``barge_in after 1.2 s: "Wait."``."""
        what = {"quiet": f" when quiet {self.settle:g} s", "none": "",
                "heard": f" after {self.delay:g} s heard"}[self.wait]
        if self.kind == "silence":
            return f"silence {self.seconds:g} s"
        if self.kind == "noise":
            return f"{self.burst}{what}"
        said = " / ".join(self.parts)
        gap = f" (gap {self.gap:g} s)" if self.gap else ""
        return f'{self.kind}{what}: "{said}"{gap}'


@dataclass(frozen=True)
class ScenarioPlan:
    """Everything one soak scenario does (plain data; :func:`draw_scenario` makes it)."""

    seed: int
    index: int
    setup: str
    variant: SoakVariant
    voice: Voice
    background: Background
    moves: tuple[Move, ...] = field(default_factory=tuple)

    @property
    def noise_seed(self) -> int:
        """Seed of the generated noise (bursts and the background bed)."""
        return self.seed * 1_000_003 + self.index

    def describe(self) -> str:
        """One paragraph: the agent, then the caller's moves."""
        opening = "opens" if self.variant.opening else "waits"
        moves = "; ".join(m.describe() for m in self.moves)
        return (f"setup {self.setup}, {self.variant.describe()}, agent {opening}; caller "
                f"{self.voice.name} on a {self.background.describe()} line: {moves}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        data["moves"] = [{k: v for k, v in asdict(m).items() if v not in ((), None, 0.0)}
                         for m in self.moves]
        return data


def draw_scenario(seed: int, index: int, setups: Sequence[str]) -> ScenarioPlan:
    """Scenario ``index`` of run ``seed``, its setup drawn from ``setups`` (names)."""
    if not setups:
        raise ValueError("a soak needs at least one setup")
    rng = random.Random(f"bargein-soak/{seed}/{index}")
    setup = rng.choice(list(setups))
    variant = _variant(rng)
    voice = Voice(rng.choice(USER_VOICES), rng.randint(*RATE_RANGE), rng.randint(*PITCH_RANGE),
                  rng.randint(*VOLUME_RANGE))
    kind, snr = rng.choice(BACKGROUNDS)
    used: set[str] = set()  # every line is said once: a turn taken twice stands out
    moves = tuple(_move(rng, used) for _ in range(rng.randint(2, 6)))
    if not any(m.wordy for m in moves):
        moves += (_ask(rng, used),)  # every scenario has at least one turn to answer
    return ScenarioPlan(seed, index, setup, variant, voice, Background(kind, snr), moves)


def _weighted(rng: random.Random, options: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _variant(rng: random.Random) -> SoakVariant:
    stt = _weighted(rng, STT_SHARES)
    opening = _weighted(rng, OPENINGS)
    if rng.random() >= FAULT_SHARE:
        return SoakVariant(stt=stt, opening=opening)
    fault = rng.choice(FAULTS)
    provider, name = fault.split(":")
    on = 1 if provider in ("stt", "vad") else rng.randint(1, 3)
    if provider == "tts":
        after = float(rng.randint(0, 12))  # chunks of audio before the fault
    elif provider == "llm":
        after = float(rng.randint(2, 30))  # text chunks (about words) before it
    elif name == "late_final":
        after = round(rng.uniform(1.0, 5.0), 2)  # seconds late
    elif name == "raise_once":
        after = float(rng.randint(1, 20))  # recognizer events before it
    elif name == "stuck":
        after = round(rng.uniform(1.0, 12.0), 2)  # seconds of audio before it sticks
    else:
        after = round(rng.uniform(0.5, 4.0), 2)  # seconds the VAD is down from its start
    return SoakVariant(stt=stt, fault=fault, fault_on=on, fault_after=after, opening=opening)


def _pick(rng: random.Random, options: Sequence[Any], used: set[str]) -> Any:
    """One of ``options`` not used yet in this scenario (any, once all were)."""
    fresh = [o for o in options if str(o) not in used] or list(options)
    choice = rng.choice(fresh)
    used.add(str(choice))
    return choice


def _ask(rng: random.Random, used: set[str]) -> Move:
    wait = "quiet" if rng.random() < 0.75 else "none"
    return Move("ask", wait, (_pick(rng, QUESTIONS, used),),
                settle=round(rng.uniform(0.5, 3.0), 2))


def _move(rng: random.Random, used: set[str]) -> Move:
    kind = _weighted(rng, list(MOVES.items()))
    heard = round(rng.uniform(0.2, 4.0), 2)
    if kind == "ask":
        return _ask(rng, used)
    if kind == "barge_in":
        phrases = SHORT_BARGE_INS if rng.random() < 0.5 else LONG_BARGE_INS
        return Move("barge_in", "heard", (_pick(rng, phrases, used),), delay=heard,
                    patience=8.0)
    if kind == "backchannel":
        return Move("backchannel", "heard", (rng.choice(BACKCHANNELS),), delay=heard,
                    patience=8.0)
    if kind == "noise":
        return Move("noise", "heard", delay=heard, burst=rng.choice(("cough", "knock")),
                    patience=8.0)
    if kind == "pause":
        return Move("pause", "quiet", tuple(_pick(rng, PAUSED_SENTENCES, used)),
                    settle=round(rng.uniform(0.5, 3.0), 2), gap=round(rng.uniform(0.3, 1.6), 2))
    if kind == "monologue":
        n = rng.randint(2, 6)
        start = rng.randrange(len(MONOLOGUE_SENTENCES))
        text = " ".join(MONOLOGUE_SENTENCES[(start + j) % len(MONOLOGUE_SENTENCES)]
                        for j in range(n))
        return Move("monologue", "quiet", (text,), settle=round(rng.uniform(0.5, 2.0), 2))
    if kind == "follow_up":
        return Move("follow_up", "none", (_pick(rng, QUESTIONS, used),),
                    gap=round(rng.uniform(0.0, 1.0), 2))
    return Move("silence", seconds=round(rng.uniform(0.5, 6.0), 1))
