"""Errors of a remote OpenAI-compatible language model, and the explanation in an error body."""

from __future__ import annotations

import json

from bargein.errors import BargeinError

__all__ = [
    "LLMConnectionError",
    "LLMError",
    "LLMHTTPError",
    "LLMStreamError",
    "LLMTimeoutError",
    "server_message",
]


class LLMError(BargeinError, RuntimeError):
    """A remote language model failed to answer."""


class LLMHTTPError(LLMError):
    """The server answered with an HTTP error status; the message includes its explanation."""

    def __init__(self, status_code: int, server_message: str, url: str, body: str = "") -> None:
        self.status_code = status_code
        self.server_message = server_message
        self.url = url
        self.body = body
        super().__init__(f"LLM server {url} answered HTTP {status_code}: {server_message}")


class LLMStreamError(LLMError):
    """The streamed answer is not valid OpenAI-style server-sent events."""


class LLMTimeoutError(LLMError, TimeoutError):
    """The server did not answer (or stopped streaming) within the timeout."""


class LLMConnectionError(LLMError, ConnectionError):
    """The server could not be reached, or dropped the connection."""


def server_message(body: str) -> str:
    """The human explanation inside an error body (OpenAI, vLLM, Ollama, llama.cpp shapes)."""
    try:
        obj = json.loads(body)
    except ValueError:
        text = body.strip()
        return text[:500] if text else "(empty body)"
    if isinstance(obj, dict):
        err = obj.get("error", obj)
        if isinstance(err, dict):
            msg = err.get("message") or err.get("detail") or err.get("msg")
            if msg:
                kind = err.get("type") or err.get("code")
                return f"{msg} ({kind})" if kind and isinstance(kind, str) else str(msg)
        elif isinstance(err, str):
            return err
        if isinstance(obj.get("detail"), str):
            return obj["detail"]
    return body.strip()[:500]
