"""A bargein LLM (by default the rule-based responder) as a LiveKit Agents LLM plugin."""

from __future__ import annotations

from typing import Any

from livekit.agents import llm as lk_llm
from livekit.agents import utils as lk_utils
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)

from bargein.livekit.wrapping import WrapsBargeinProvider
from bargein.providers.llm import LLM as BargeinLLM
from bargein.providers.llm import ChatMessage

__all__ = ["LLM", "chat_messages"]


class LLM(WrapsBargeinProvider, lk_llm.LLM):
    """A bargein LLM as a LiveKit LLM; by default the deterministic rule-based responder.

    ``LLM()`` wraps :class:`~bargein.providers.rule_based_llm.RuleBasedLLM` (keyword
    arguments go to it): canned replies picked by intent patterns, **not a language model**.
    ``LLM(llm=...)`` wraps any bargein LLM (e.g. the OpenAI-compatible client with a
    cassette). LiveKit's chat context is handed over as plain messages (system, user,
    assistant with its ``interrupted`` flag); tools are not passed on.
    """

    def __init__(self, *, llm: BargeinLLM | None = None, **rule_based: Any) -> None:
        super().__init__()
        if llm is None:
            from bargein.providers.rule_based_llm import RuleBasedLLM

            llm = RuleBasedLLM(**rule_based)
        elif rule_based:
            raise TypeError("give either llm= or RuleBasedLLM keyword arguments, not both")
        self.inner = llm

    def chat(self, *, chat_ctx: lk_llm.ChatContext, tools: list[Any] | None = None,
             conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
             parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
             tool_choice: NotGivenOr[Any] = NOT_GIVEN,
             extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN) -> lk_llm.LLMStream:
        return _LLMStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)


def chat_messages(chat_ctx: lk_llm.ChatContext) -> list[ChatMessage]:
    """LiveKit chat context items as bargein :class:`~bargein.providers.llm.ChatMessage`."""
    out: list[ChatMessage] = []
    for item in chat_ctx.items:
        if getattr(item, "type", None) != "message":
            continue
        role = "system" if item.role == "developer" else item.role
        if role not in ("system", "user", "assistant"):
            continue
        text = item.text_content or ""
        out.append(ChatMessage(role=role, content=text,
                               interrupted=bool(getattr(item, "interrupted", False))))
    return out


class _LLMStream(lk_llm.LLMStream):
    async def _run(self) -> None:
        plugin: LLM = self._llm  # type: ignore[assignment]
        request_id = lk_utils.shortuuid()
        first = True
        async for chunk in plugin.inner.chat(chat_messages(self._chat_ctx)):
            if not chunk.text:
                continue
            self._event_ch.send_nowait(lk_llm.ChatChunk(
                id=request_id,
                delta=lk_llm.ChoiceDelta(role="assistant" if first else None,
                                         content=chunk.text)))
            first = False
