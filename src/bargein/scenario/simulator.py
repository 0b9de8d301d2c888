"""The simulated user: what it says next, and when and how it barges in.

Everything here is seeded: the same seed gives the same lines, the same interruption
decisions, delays and phrases.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bargein.errors import ScenarioError
from bargein.scenario import validation as check
from bargein.text import normalize_words

#: Built-in interjections for the "random_phrase" strategy.
DEFAULT_PHRASES: tuple[str, ...] = (
    "Sorry, can I stop you there?",
    "Wait, hold on a second.",
    "Hang on, that's not what I asked.",
    "Sorry to cut in, but I'm in a hurry.",
    "Can you get to the point?",
    "Hold on, I have a question.",
    "Sorry, could you slow down?",
    "Wait, go back to the first part.",
)

_FOLLOW_UPS = (
    "Can you tell me a bit more about that?",
    "Okay. What else should I know?",
    "Thanks. Is there anything I need to do next?",
)

_STOP = frozenset("the a an and or to of in on for with about is are was my your it that this "
                  "you i me we our can could would will please just so what how".split())


@dataclass(frozen=True)
class InterruptionConfig:
    """Random barge-ins across a ``proceed`` loop.

    - ``probability``: share of agent turns to interrupt.
    - ``delay_range``: seconds of audible agent speech before the barge-in, drawn uniformly.
    - ``strategy``: "random_phrase" picks from ``phrases``; "contextual" builds the
      interjection from the running conversation (rule-based offline, or through the user
      simulator's LLM when it has one).
    - ``seed``: fixes the draws; None derives them from the scenario's seed.
    """

    probability: float = 0.3
    delay_range: tuple[float, float] = (0.5, 3.0)
    strategy: Literal["random_phrase", "contextual"] = "random_phrase"
    phrases: Sequence[str] = DEFAULT_PHRASES
    seed: int | None = None

    def __post_init__(self) -> None:
        check.fraction(self.probability, "InterruptionConfig: probability")
        delays = self.delay_range
        if isinstance(delays, (str, bytes)) or not isinstance(delays, Sequence) \
                or len(delays) != 2:
            raise ScenarioError(f"InterruptionConfig: delay_range must be two numbers "
                                f"(low, high), got {delays!r}")
        low, high = (check.seconds(x, f"InterruptionConfig: delay_range {name}")
                     for x, name in zip(delays, ("low", "high"), strict=True))
        if high < low:
            raise ScenarioError(f"InterruptionConfig: delay_range must satisfy 0 <= low <= "
                                f"high, got {delays!r}")
        object.__setattr__(self, "delay_range", (low, high))
        check.one_of(self.strategy, "InterruptionConfig: strategy",
                     ("random_phrase", "contextual"))
        phrases = check.speakable_lines(self.phrases, "InterruptionConfig: phrases")
        if not phrases:
            raise ScenarioError("InterruptionConfig: phrases must be a non-empty list of lines")
        object.__setattr__(self, "phrases", phrases)
        check.seed(self.seed, "InterruptionConfig: seed")


@dataclass
class UserSimulator:
    """The simulated caller.

    - ``persona``: who they are (used by an LLM simulator; the rule-based one ignores it).
    - ``goals``: what they want, in order: each is said as one user turn.
    - ``interrupt_probability``: barge in on this share of agent turns in ``proceed`` loops
      that have no ``interruptions`` config of their own (that config wins).
    - ``voice``: espeak voice of the caller.
    - ``llm``: optional LLM that writes the next line and contextual interjections.
    """

    persona: str = "a customer calling a support line"
    goals: Sequence[str] = ()
    interrupt_probability: float | None = None
    voice: str = "en-us+m3"
    llm: Any = None
    _said: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.interrupt_probability is not None:
            check.fraction(self.interrupt_probability, "UserSimulator: interrupt_probability")
        check.text(self.persona, "UserSimulator: persona")
        self.goals = check.speakable_lines(self.goals, "UserSimulator: goals")
        if not isinstance(self.voice, str) or not self.voice.strip():
            raise ScenarioError(f"UserSimulator: voice must be an espeak-ng voice name such "
                                f"as 'en-us+m3', got {self.voice!r}")
        if self.llm is not None and not callable(getattr(self.llm, "chat", None)):
            raise ScenarioError(f"UserSimulator: llm must be an LLM (an object with a chat() "
                                f"method, e.g. OpenAILLM), got {type(self.llm).__name__}")

    def next_line(self, rng: random.Random) -> str:
        """The caller's next turn: the next goal, then polite follow-ups."""
        if self._said < len(self.goals):
            line = self.goals[self._said]
        else:
            line = _FOLLOW_UPS[(self._said - len(self.goals)) % len(_FOLLOW_UPS)]
        self._said += 1
        return line

    def interruptions(self) -> InterruptionConfig | None:
        """The config its ``interrupt_probability`` implies (None if not set)."""
        if self.interrupt_probability is None:
            return None
        return InterruptionConfig(probability=self.interrupt_probability)


def contextual_interjection(heard: Sequence[str], goal: str | None, rng: random.Random) -> str:
    """A rule-based interjection built from what the caller heard and still wants."""
    topic = next((w for w in reversed([w for w in heard if len(w) > 3])
                  if w.lower() not in _STOP), None)
    want = None
    if goal:
        words = [w for w in normalize_words(goal) if w not in _STOP]
        want = " ".join(words[:3]) if words else None
    if topic and want:
        return f"Sorry, before you go on about {topic.lower()}, what about {want}?"
    if topic:
        return f"Wait, what do you mean by {topic.lower()}?"
    if want:
        return f"Sorry, I really need to know about {want}."
    return rng.choice(DEFAULT_PHRASES)
