"""What the rule-based responder matches: an :class:`Intent` (patterns, canned reply, tool)
and the :class:`ReplyContext` a reply callable gets."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bargein.providers.llm import ChatMessage

__all__ = ["ArgsFn", "Intent", "ReplyContext", "ReplyFn"]

ReplyFn = Callable[["ReplyContext"], str]
ArgsFn = Callable[["ReplyContext"], Mapping[str, Any]]

_KEYWORD = re.compile(r"[\w' ]+")


def _compile(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    if isinstance(pattern, re.Pattern):
        return pattern
    if _KEYWORD.fullmatch(pattern):
        # A plain keyword or phrase: whole words only, any spacing.
        body = r"\s+".join(re.escape(w) for w in pattern.split())
        return re.compile(rf"\b{body}\b", re.IGNORECASE)
    return re.compile(pattern, re.IGNORECASE)


@dataclass(frozen=True)
class ReplyContext:
    """What a reply callable gets to build its text."""

    messages: tuple[ChatMessage, ...]
    """The whole conversation as given to ``chat``."""
    user_text: str
    """The latest user message ("" if there is none)."""
    intent: Intent | None
    match: re.Match[str] | None
    """The pattern match that selected ``intent``."""
    turn: int
    """How many user messages the conversation holds."""
    instructions: str | None
    """The latest system message of the current turn, if any."""
    interrupted: ChatMessage | None
    """The assistant message cut short just before the latest user message, if any."""
    tool_result: str | None = None
    """The tool's output, when replying after a tool call."""
    _previous: Callable[[], str | None] | None = field(default=None, repr=False, compare=False)

    def previous_reply(self) -> str | None:
        """The full text of the assistant's previous reply (what it meant to say in full)."""
        return self._previous() if self._previous is not None else None


@dataclass(frozen=True)
class Intent:
    """One thing a user may ask, with the canned reply to give.

    ``patterns`` are regular expressions searched case-insensitively in the latest user
    message; a plain keyword or phrase (letters, digits, apostrophes, spaces) matches whole
    words only. ``reply`` is a string, a list of strings (one is picked deterministically per
    turn) or a callable taking a :class:`ReplyContext`.

    When several intents match, the highest ``priority`` wins, then the earliest match in the
    message, then the earliest intent in the list. ``topic`` names the intent in an
    acknowledge-and-redirect reply ("let's focus on your main question, about {topic}");
    intents without a topic (small talk) are never taken as the main question.

    ``tool`` makes the intent call that tool (when the caller offers it) instead of replying;
    ``tool_arguments`` (a mapping or a callable on the context) become its JSON arguments.
    After the tool's result comes back, ``reply`` is used, with ``{result}`` replaced by it.
    """

    name: str
    patterns: Sequence[str | re.Pattern[str]] = ()
    reply: str | Sequence[str] | ReplyFn = ""
    topic: str | None = None
    priority: int = 1
    tool: str | None = None
    tool_arguments: Mapping[str, Any] | ArgsFn | None = None
    _compiled: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("an Intent needs a name")
        if isinstance(self.patterns, str):
            raise TypeError(f"Intent {self.name!r}: patterns must be a list, not one string")
        object.__setattr__(self, "_compiled", tuple(_compile(p) for p in self.patterns))

    def search(self, text: str) -> re.Match[str] | None:
        """The earliest match of any pattern in ``text``, or None."""
        best: re.Match[str] | None = None
        for pattern in self._compiled:
            m = pattern.search(text)
            if m is not None and (best is None or m.start() < best.start()):
                best = m
        return best
