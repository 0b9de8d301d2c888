"""Language model interface: streaming chat completion with tool calls."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A function the model asked to call; ``arguments`` is its JSON text."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of a conversation.

    ``interrupted`` marks an assistant message cut short by a barge-in; its ``content`` then
    holds only the words the user heard.
    """

    role: Role
    content: str
    interrupted: bool = False
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class LLMChunk:
    """A streamed piece of a reply: text and/or tool calls."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = field(default=())


@runtime_checkable
class LLM(Protocol):
    """A chat model that streams its reply."""

    def chat(
        self, messages: Sequence[ChatMessage], *, tools: Sequence[Any] | None = None
    ) -> AsyncIterator[LLMChunk]:
        """Stream the reply to ``messages``; the first chunk comes after the model's TTFT."""
        ...
