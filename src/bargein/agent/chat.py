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

    def replace(self, old: ChatMessage, new: ChatMessage) -> None:
        """Put ``new`` where ``old`` is (by identity); nothing happens if ``old`` is gone."""
        for i, message in enumerate(self._messages):
            if message is old:
                self._messages[i] = new
                return

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
    """The part of ``text`` the listener heard: up to the end of the last word that started
    (with the punctuation after it when the listener heard all the words there were).

    Word ``char_end`` positions index ``text``; without them the heard words are joined.
    """
    heard = heard_words(words, position)
    if not heard:
        return ""
    last = heard[-1]
    if last.char_end is not None:
        end = last.char_end
        if last is words[-1] and position >= last.end - 1e-9:
            # everything made was heard: keep the punctuation after the last word
            while end < len(text) and not text[end].isspace() and not text[end].isalnum():
                end += 1
        return text[:end].strip()
    return " ".join(w.text for w in heard)
