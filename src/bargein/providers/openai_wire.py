"""The OpenAI chat completions wire format: messages and tools out, streamed events back in.

Requests: :func:`message_to_wire`, :func:`tool_to_wire`. Answers: :func:`sse_data` parses
server-sent event lines, :func:`non_streamed_as_event` turns a whole (non-streamed) answer
into one event, :func:`add_fragment` / :func:`finish_calls` assemble streamed tool calls.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from bargein.providers.llm import ChatMessage, ToolCall, as_tool_spec
from bargein.providers.openai_errors import LLMError, LLMStreamError

__all__ = [
    "add_fragment",
    "finish_calls",
    "message_to_wire",
    "non_streamed_as_event",
    "sse_data",
    "tool_to_wire",
]


def message_to_wire(message: ChatMessage) -> dict[str, Any]:
    """One :class:`ChatMessage` as an OpenAI chat message."""
    if message.role == "tool":
        if not message.tool_call_id:
            raise ValueError("a 'tool' message needs the tool_call_id of the call it answers")
        return {"role": "tool", "content": message.content, "tool_call_id": message.tool_call_id}
    if message.role == "assistant" and message.tool_calls:
        return {
            "role": "assistant",
            "content": message.content or None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in message.tool_calls
            ],
        }
    return {"role": message.role, "content": message.content}


def tool_to_wire(tool: Any) -> dict[str, Any]:
    """A tool (``ToolSpec``, mapping or object, see ``as_tool_spec``) in the wire shape."""
    spec = as_tool_spec(tool)
    function: dict[str, Any] = {"name": spec.name}
    if spec.description:
        function["description"] = spec.description
    function["parameters"] = json.loads(json.dumps(spec.parameters))
    return {"type": "function", "function": function}


async def sse_data(lines: AsyncIterator[str], url: str) -> AsyncIterator[str]:
    """Parse server-sent event lines; yield each event's data (multi-line data joined)."""
    data: list[str] = []
    async for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue  # comment / keep-alive
        name, sep, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if sep and name == "data":
            data.append(value)
        elif sep and name in ("event", "id", "retry"):
            continue
        elif sep and name == "error":  # llama.cpp server style
            raise LLMError(f"LLM server {url} reported an error mid-stream: {value[:500]}")
        else:
            raise LLMStreamError(
                f"malformed server-sent event line from LLM server {url}: {line[:200]!r} "
                "(expected 'data: {...}' lines; is base_url an OpenAI-compatible /v1 API?)"
            )
    if data:
        yield "\n".join(data)


def non_streamed_as_event(raw: bytes, url: str) -> str:
    """A whole (non-streamed) chat completion as the data of one streamed event."""
    try:
        obj = json.loads(raw)
        choice = obj["choices"][0]
        message = dict(choice.get("message") or {})
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise LLMStreamError(
            f"LLM server {url} answered JSON that is not a chat completion: {raw[:200]!r}"
        ) from exc
    calls = message.get("tool_calls") or []
    message["tool_calls"] = [{**c, "index": i} for i, c in enumerate(calls)] or None
    event = {"choices": [{"index": 0, "delta": message, "finish_reason": "stop"}]}
    return json.dumps(event)


def add_fragment(calls: dict[int, dict[str, Any]], fragment: Any, data: str, url: str) -> None:
    """Add one streamed tool-call fragment to ``calls`` (by index; by id where it has none)."""
    if not isinstance(fragment, dict):
        raise LLMStreamError(f"LLM server {url} streamed a bad tool call fragment: {data[:200]!r}")
    index = fragment.get("index")
    if not isinstance(index, int):
        # Some servers omit the index: a fragment with a new id starts a new call.
        new_id = fragment.get("id")
        known = {c["id"] for c in calls.values()}
        index = len(calls) if (not calls or (new_id and new_id not in known)) else max(calls)
    call = calls.setdefault(index, {"id": "", "name": "", "arguments": []})
    if fragment.get("id"):
        call["id"] = fragment["id"]
    function = fragment.get("function") or {}
    if function.get("name") and not call["name"]:
        call["name"] = function["name"]
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        call["arguments"].append(arguments)
    elif arguments is not None:  # a server that sends a parsed object
        call["arguments"].append(json.dumps(arguments))


def finish_calls(calls: dict[int, dict[str, Any]], url: str) -> tuple[ToolCall, ...]:
    """The assembled tool calls, in index order; a call without a name is a stream error."""
    out = []
    for index in sorted(calls):
        call = calls[index]
        if not call["name"]:
            raise LLMStreamError(
                f"LLM server {url} streamed tool call #{index} without a function name"
            )
        out.append(
            ToolCall(
                id=call["id"] or f"call_{index}",
                name=call["name"],
                arguments="".join(call["arguments"]) or "{}",
            )
        )
    return tuple(out)
