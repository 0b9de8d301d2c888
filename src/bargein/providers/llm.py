"""Language model interface: streaming chat completion with tool calls."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
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


@dataclass(frozen=True)
class ToolSpec:
    """Description of a function the model may call: name, description, JSON-schema parameters.

    LLM providers accept tools as ``ToolSpec`` objects or anything :func:`as_tool_spec` turns
    into one.
    """

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(
        default_factory=lambda: {"type": "object", "properties": {}}
    )


def as_tool_spec(tool: Any) -> ToolSpec:
    """Turn a tool description into a :class:`ToolSpec`.

    Accepts a ``ToolSpec``; an object with a ``tool_spec`` attribute (or zero-argument method)
    giving one; a mapping, either flat (``{"name", "description", "parameters"}``) or in the
    OpenAI wire shape (``{"type": "function", "function": {...}}``); or any object with
    ``name`` (and optionally ``description`` and ``parameters``) attributes.
    """
    if isinstance(tool, ToolSpec):
        return tool
    spec = getattr(tool, "tool_spec", None)
    if spec is not None:
        spec = spec() if callable(spec) else spec
        if isinstance(spec, ToolSpec):
            return spec
    if isinstance(tool, Mapping):
        fn = tool.get("function", tool) if tool.get("type", "function") == "function" else tool
        if not isinstance(fn, Mapping) or not isinstance(fn.get("name"), str):
            raise TypeError(f"tool mapping needs a 'name': {tool!r}")
        return ToolSpec(
            name=fn["name"],
            description=str(fn.get("description") or ""),
            parameters=fn.get("parameters") or {"type": "object", "properties": {}},
        )
    name = getattr(tool, "name", None)
    if isinstance(name, str):
        return ToolSpec(
            name=name,
            description=str(getattr(tool, "description", "") or ""),
            parameters=getattr(tool, "parameters", None) or {"type": "object", "properties": {}},
        )
    raise TypeError(
        f"cannot use {tool!r} as a tool: give a ToolSpec, a mapping with a 'name', "
        "or an object with name/description/parameters attributes"
    )
