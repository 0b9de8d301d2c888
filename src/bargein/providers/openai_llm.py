"""Streaming chat completions over the OpenAI wire format (OpenAI, Ollama, vLLM, llama.cpp).

:class:`OpenAICompatibleLLM` POSTs ``{base_url}/chat/completions`` with ``"stream": true``
and turns the server-sent events into :class:`LLMChunk` objects: text deltas as they come,
tool calls once all their fragments have arrived. It sends only standard fields, so any
server that speaks the OpenAI chat completions API works.

It needs ``httpx`` (``pip install 'bargein[openai]'``), imported only when a client is made.
With ``cassette=Cassette(path, mode="replay")`` it replays recorded answers instead and never
touches the network (nor needs httpx); see :mod:`bargein.providers.cassette`. The wire format
is in :mod:`bargein.providers.openai_wire`, the errors in :mod:`bargein.providers.openai_errors`.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from typing import Any
from urllib.parse import urlsplit

from bargein._extras import require
from bargein.errors import NetworkInSimulationError
from bargein.providers.cassette import Cassette, Recorder
from bargein.providers.llm import ChatMessage, LLMChunk
from bargein.providers.openai_errors import (
    LLMConnectionError,
    LLMError,
    LLMHTTPError,
    LLMStreamError,
    LLMTimeoutError,
    server_message,
)
from bargein.providers.openai_wire import (
    add_fragment,
    finish_calls,
    message_to_wire,
    non_streamed_as_event,
    sse_data,
    tool_to_wire,
)

__all__ = [
    "LLMConnectionError",
    "LLMError",
    "LLMHTTPError",
    "LLMStreamError",
    "LLMTimeoutError",
    "OpenAICompatibleLLM",
    "message_to_wire",
    "tool_to_wire",
]


class OpenAICompatibleLLM:
    """LLM client for any server speaking the OpenAI streaming chat completions API.

    Args:
        model: model name as the server knows it (``"gpt-4o-mini"``, ``"llama3.2"``...).
        base_url: API root; ``http://localhost:11434/v1`` for Ollama, ``http://host:8000/v1``
            for vLLM or llama.cpp server.
        api_key: sent as ``Authorization: Bearer``; default ``$OPENAI_API_KEY``; no header
            when neither is set (local servers).
        temperature: sampling temperature; None leaves the server default.
        timeout: seconds to connect, and at most between two streamed chunks.
        extra_headers: more HTTP headers to send.
        max_tokens: cap on the reply length; None leaves the server default.
        extra_body: more JSON fields for the request body (server-specific options).
        cassette: record or replay answers (:class:`~bargein.providers.cassette.Cassette`).

    Always consume ``chat()`` to the end or close it (``async with aclosing(...)``, or cancel
    the task): closing it closes the HTTP stream at once, so an interrupted reply stops
    costing tokens.
    """

    def __init__(
        self,
        model: str,
        base_url: str = "https://api.openai.com/v1",
        api_key: str | None = None,
        temperature: float | None = None,
        timeout: float = 60.0,
        extra_headers: Mapping[str, str] | None = None,
        *,
        max_tokens: int | None = None,
        extra_body: Mapping[str, Any] | None = None,
        cassette: Cassette | None = None,
    ) -> None:
        if not model:
            raise ValueError("OpenAICompatibleLLM needs a model name")
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 s, got {timeout!r}")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.url = f"{self.base_url}/chat/completions"
        self.path = urlsplit(self.url).path
        self._api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.temperature = temperature
        self.timeout = float(timeout)
        self.extra_headers = dict(extra_headers or {})
        self.max_tokens = max_tokens
        self.extra_body = dict(extra_body or {})
        self.cassette = cassette
        self._httpx: Any = None
        self._client: Any = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        if cassette is None or cassette.mode != "replay":
            self._httpx = require("httpx", extra="openai", feature="OpenAI-compatible LLM")

    def __repr__(self) -> str:
        return f"OpenAICompatibleLLM(model={self.model!r}, base_url={self.base_url!r})"

    # -- request -----------------------------------------------------------------------------

    def request_body(
        self, messages: Sequence[ChatMessage], *, tools: Sequence[Any] | None = None
    ) -> dict[str, Any]:
        """The JSON body ``chat`` sends for this conversation."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [message_to_wire(m) for m in messages],
            "stream": True,
        }
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        if tools:
            body["tools"] = [tool_to_wire(t) for t in tools]
        body.update(self.extra_body)
        return body

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        headers.update(self.extra_headers)
        return headers

    # -- streaming ---------------------------------------------------------------------------

    async def chat(
        self, messages: Sequence[ChatMessage], *, tools: Sequence[Any] | None = None
    ) -> AsyncIterator[LLMChunk]:
        """Stream the reply: text chunks as they arrive, then any complete tool calls."""
        body = self.request_body(messages, tools=tools)
        events: AsyncIterator[str]
        cassette = self.cassette
        if cassette is not None:
            key = cassette.key("POST", self.path, body)
            if cassette.should_replay(key):
                recording = cassette.lookup(key, {"method": "POST", "path": self.path})
                if recording.status >= 400:
                    if recording.error_delay > 0:
                        await asyncio.sleep(recording.error_delay)
                    body_text = recording.error_body or ""
                    raise LLMHTTPError(
                        recording.status, server_message(body_text), self.url, body_text
                    )
                events = cassette.play(recording)
            else:
                events = self._recorded(cassette.recorder(key, "POST", self.path, body), body)
        else:
            events = self._http_events(body)
        async with aclosing(events), aclosing(self._chunks(events)) as chunks:
            async for chunk in chunks:
                yield chunk

    async def aclose(self) -> None:
        """Close the pooled HTTP connections."""
        client, self._client, self._client_loop = self._client, None, None
        if client is not None and not client.is_closed:
            await client.aclose()

    def _http_client(self) -> Any:
        httpx = self._httpx
        if httpx is None:
            httpx = self._httpx = require("httpx", extra="openai", feature="OpenAI-compatible LLM")
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop or self._client.is_closed:
            # A client belongs to one event loop; a new loop (a new test, a new simulation)
            # gets a new client.
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout))
            self._client_loop = loop
        return self._client

    async def _http_events(self, body: dict[str, Any]) -> AsyncIterator[str]:
        """POST the request and yield the data of each server-sent event."""
        client = self._http_client()
        httpx = self._httpx
        try:
            async with client.stream("POST", self.url, json=body, headers=self._headers()) as resp:
                if resp.status_code >= 400:
                    text = (await resp.aread()).decode("utf-8", "replace")
                    raise LLMHTTPError(resp.status_code, server_message(text), self.url, text)
                ctype = resp.headers.get("content-type", "")
                if "json" in ctype and "event-stream" not in ctype:
                    # The server ignored "stream": answer as one synthetic stream chunk.
                    yield non_streamed_as_event(await resp.aread(), self.url)
                    return
                async with aclosing(sse_data(resp.aiter_lines(), self.url)) as data:
                    async for item in data:
                        yield item
        except httpx.TimeoutException as exc:
            raise LLMTimeoutError(
                f"LLM server {self.url} did not answer within {self.timeout:g} s "
                f"(timeout to connect and between streamed chunks): {type(exc).__name__}"
            ) from exc
        except httpx.TransportError as exc:
            raise LLMConnectionError(
                f"cannot talk to LLM server {self.url}: {type(exc).__name__}: {exc}"
            ) from exc
        except NetworkInSimulationError as exc:
            raise self._refused_in_simulation() from exc
        except ExceptionGroup as group:
            # anyio (under httpx) groups a connect failure; surface a simulation refusal plainly.
            refused, _ = group.split(NetworkInSimulationError)
            if refused is None:
                raise
            raise self._refused_in_simulation() from group

    def _refused_in_simulation(self) -> NetworkInSimulationError:
        return NetworkInSimulationError(
            f"OpenAICompatibleLLM cannot call {self.url} inside a virtual-time simulation. "
            "Record its answers live with cassette=Cassette(path, mode='record'), then "
            "replay them in the simulation with mode='replay'."
        )

    async def _recorded(self, recorder: Recorder, body: dict[str, Any]) -> AsyncIterator[str]:
        """Like ``_http_events``, noting each event (and its timing) in the cassette."""
        try:
            async with aclosing(self._http_events(body)) as events:
                async for data in events:
                    recorder.event(data)
                    if data.strip() == "[DONE]":
                        recorder.finish(complete=True)  # the reader stops here
                    yield data
        except LLMHTTPError as exc:
            recorder.error(exc.status_code, exc.body)
            raise
        except (GeneratorExit, asyncio.CancelledError):
            # Interrupted while recording: keep what came, marked incomplete.
            if recorder.recording.events:
                recorder.finish(complete=False)
            raise
        recorder.finish(complete=True)

    async def _chunks(self, events: AsyncIterator[str]) -> AsyncIterator[LLMChunk]:
        """Turn event data into chunks: text deltas, then tool calls when complete."""
        calls: dict[int, dict[str, Any]] = {}
        async for data in events:
            if data.strip() == "[DONE]":
                break
            try:
                obj = json.loads(data)
            except ValueError as exc:
                raise LLMStreamError(
                    f"LLM server {self.url} streamed an event that is not JSON: {data[:200]!r}"
                ) from exc
            if not isinstance(obj, dict):
                raise LLMStreamError(
                    f"LLM server {self.url} streamed a JSON {type(obj).__name__}, "
                    f"expected an object: {data[:200]!r}"
                )
            if obj.get("error"):
                raise LLMError(
                    f"LLM server {self.url} reported an error mid-stream: "
                    f"{server_message(json.dumps(obj))}"
                )
            choices = obj.get("choices") or []
            if not isinstance(choices, list):
                raise LLMStreamError(f"'choices' is not a list in event {data[:200]!r}")
            for choice in choices:
                if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                    continue
                delta = choice.get("delta") or choice.get("message") or {}
                content = delta.get("content")
                if content:
                    yield LLMChunk(text=str(content))
                for fragment in delta.get("tool_calls") or ():
                    add_fragment(calls, fragment, data, self.url)
                if choice.get("finish_reason") and calls:
                    yield LLMChunk(tool_calls=finish_calls(calls, self.url))
                    calls = {}
        if calls:
            yield LLMChunk(tool_calls=finish_calls(calls, self.url))
