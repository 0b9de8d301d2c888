"""Chat history, and the rule that turns a cut-off reply into the words that were heard."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from bargein.providers.llm import ChatMessage
from bargein.providers.types import WordTiming


class ChatContext:
    """The conversation so far: an ordered list of :class:`ChatMessage`."""

    def __init__(self, messages: Iterable[ChatMessage] = ()) -> None:
        self._messages: list[ChatMessage] = list(messages)

    @property
    def messages(self) -> tuple[ChatMessage, ...]:
        """All messages, oldest first."""
        return tuple(self._messages)

    def add(self, message: ChatMessage) -> ChatMessage:
        """Append ``message`` and return it."""
        self._messages.append(message)
        return message

    def copy(self) -> ChatContext:
        """An independent copy."""
        return ChatContext(self._messages)

    def last(self, role: str | None = None) -> ChatMessage | None:
        """The newest message (of ``role`` if given)."""
        for message in reversed(self._messages):
            if role is None or message.role == role:
                return message
        return None

    def __iter__(self) -> Iterator[ChatMessage]:
        return iter(self._messages)

    def __len__(self) -> int:
        return len(self._messages)

    def __repr__(self) -> str:
        return f"ChatContext({len(self._messages)} messages)"


def heard_words(words: Sequence[WordTiming], position: float) -> list[WordTiming]:
    """The words whose audio had started playing when playout reached ``position`` seconds."""
    return [w for w in words if w.start < position - 1e-9]


def heard_text(text: str, words: Sequence[WordTiming], position: float) -> str:
    """The part of ``text`` the listener heard: up to the end of the last word that started.

    Word ``char_end`` positions index ``text``; without them the heard words are joined.
    """
    heard = heard_words(words, position)
    if not heard:
        return ""
    last = heard[-1]
    if last.char_end is not None:
        return text[: last.char_end].strip()
    return " ".join(w.text for w in heard)
