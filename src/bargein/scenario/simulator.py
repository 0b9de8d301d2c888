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
from bargein.scenario.user_lines import (
    DEFAULT_PHRASES,
    Turn,
    contextual_interjection,
    follow_up,
    pick_phrase,
)

__all__ = ["DEFAULT_PHRASES", "InterruptionConfig", "UserSimulator", "contextual_interjection"]


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

    - ``persona``: who they are; an LLM simulator plays this person (the rule-based one
      does not use it).
    - ``goals``: what they want, in order. Rule-based, each goal is said as one user turn,
      then follow-ups react to the agent's last message; with an ``llm``, the model pursues
      them in its own words.
    - ``interrupt_probability``: barge in on this share of agent turns in ``proceed`` loops
      that have no ``interruptions`` config of their own (that config wins).
    - ``voice``: espeak voice of the caller.
    - ``llm``: optional LLM (any OpenAI-compatible endpoint through ``OpenAICompatibleLLM``)
      that writes every next line and the contextual interjections from the persona, the
      goals and the conversation so far.
    """

    persona: str = "a customer calling a support line"
    goals: Sequence[str] = ()
    interrupt_probability: float | None = None
    voice: str = "en-us+m3"
    llm: Any = None
    _said: int = field(default=0, init=False)
    _follow_ups: int = field(default=0, init=False)

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

    @property
    def next_goal(self) -> str | None:
        """The first goal the caller has not said yet (rule-based bookkeeping)."""
        return self.goals[self._said] if self._said < len(self.goals) else None

    def next_line(self, rng: random.Random | None = None,
                  conversation: Sequence[Turn] = ()) -> str:
        """The caller's next turn, offline: the next goal, then a follow-up that reacts to
        the agent's last message in ``conversation``. ``rng`` is not used (kept so the draws
        of a seeded loop do not depend on the lines)."""
        goal = self.next_goal
        if goal is not None:
            self._said += 1
            return goal
        line = follow_up(conversation, self._follow_ups)
        self._follow_ups += 1
        return line

    async def write_line(self, conversation: Sequence[Turn], rng: random.Random) -> str:
        """The caller's next turn: written by the ``llm`` from persona, goals and
        ``conversation`` when there is one, else :meth:`next_line`."""
        if self.llm is None:
            return self.next_line(rng, conversation)
        from bargein.scenario.user_llm import MAX_LINE_WORDS, ask, line_messages

        line = await ask(self.llm, line_messages(self.persona, self.goals, conversation),
                         max_words=MAX_LINE_WORDS, what="line")
        self._said = min(self._said + 1, len(self.goals))
        return line

    async def interjection(self, config: InterruptionConfig, heard: Sequence[str],
                           conversation: Sequence[Turn], rng: random.Random,
                           drawn: str) -> str:
        """What the caller says when it barges in under ``config``.

        - "random_phrase": ``drawn``, the phrase the seeded loop drew from ``config.phrases``.
        - "contextual" with an ``llm``: one sentence written from the persona, the next goal,
          the ``heard`` words of the agent's reply and the conversation, with
          ``config.phrases`` as examples of style.
        - "contextual" offline: with custom ``phrases``, the one that best fits what was
          heard; with the built-in pool, a sentence that steers to the next goal or asks
          about the latest thing heard. A goal the caller steered to counts as said.
        """
        if config.strategy != "contextual":
            return drawn
        goal = self.next_goal
        if self.llm is not None:
            from bargein.scenario.user_llm import (
                MAX_INTERJECTION_WORDS,
                ask,
                interjection_messages,
            )

            messages = interjection_messages(self.persona, goal, heard, conversation,
                                             config.phrases)
            return await ask(self.llm, messages, max_words=MAX_INTERJECTION_WORDS,
                             what="interjection")
        if tuple(config.phrases) != DEFAULT_PHRASES:
            return pick_phrase(config.phrases, heard, goal, rng)
        if goal is not None:
            self._said += 1
        return contextual_interjection(heard, goal, rng)

    def interruptions(self) -> InterruptionConfig | None:
        """The config its ``interrupt_probability`` implies (None if not set)."""
        if self.interrupt_probability is None:
            return None
        return InterruptionConfig(probability=self.interrupt_probability)
