"""A bargein LLM (by default the rule-based responder) as a Pipecat LLM service."""

from __future__ import annotations

from typing import Any

from pipecat.frames.frames import (
    Frame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
)
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.llm_service import LLMService
from pipecat.services.settings import LLMSettings

from bargein.providers.llm import LLM as BargeinLLM
from bargein.providers.llm import ChatMessage

__all__ = ["LLM", "chat_messages"]

_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


def chat_messages(context: LLMContext) -> list[ChatMessage]:
    """Pipecat context messages as bargein :class:`~bargein.providers.llm.ChatMessage`."""
    out: list[ChatMessage] = []
    for message in context.get_messages():
        if not isinstance(message, dict):
            continue
        role = _ROLES.get(str(message.get("role")))
        if role is None:
            continue
        content = message.get("content")
        if isinstance(content, list):
            content = " ".join(part.get("text", "") for part in content
                               if isinstance(part, dict) and part.get("type") == "text")
        if isinstance(content, str) and content.strip():
            out.append(ChatMessage(role=role, content=content))
    return out


class LLM(LLMService):
    """Pipecat LLM service answering with a bargein LLM.

    ``LLM()`` wraps :class:`~bargein.providers.rule_based_llm.RuleBasedLLM` (keyword
    arguments go to it): canned replies picked by intent patterns, **not a language model**.
    ``LLM(llm=...)`` wraps any bargein LLM (e.g. the OpenAI-compatible client with a
    cassette). Each ``LLMContextFrame`` is answered with Pipecat's usual
    ``LLMFullResponseStartFrame``, text frames and ``LLMFullResponseEndFrame``; tools are not
    passed on.
    """

    def __init__(self, *, llm: BargeinLLM | None = None, **rule_based: Any) -> None:
        super().__init__(settings=LLMSettings(model=None, system_instruction=None,
                                              temperature=None, max_tokens=None, top_p=None,
                                              top_k=None, frequency_penalty=None,
                                              presence_penalty=None, seed=None,
                                              filter_incomplete_user_turns=None,
                                              user_turn_completion_config=None,
                                              use_provider_thinking_default=False))
        if llm is None:
            from bargein.providers.rule_based_llm import RuleBasedLLM

            llm = RuleBasedLLM(**rule_based)
        elif rule_based:
            raise TypeError("give either llm= or RuleBasedLLM keyword arguments, not both")
        self.inner = llm

    async def run_inference(self, context: LLMContext, max_tokens: int | None = None,
                            system_instruction: str | None = None,
                            response_schema: dict[str, Any] | None = None) -> str | None:
        """One-shot answer to ``context`` outside the pipeline (Pipecat's out-of-band call)."""
        messages = chat_messages(context)
        if system_instruction is not None:
            messages = [ChatMessage(role="system", content=system_instruction),
                        *(m for m in messages if m.role != "system")]
        text = "".join([chunk.text async for chunk in self.inner.chat(messages)])
        return text.strip() or None

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Answer ``LLMContextFrame``; pass everything else on."""
        await super().process_frame(frame, direction)
        if not isinstance(frame, LLMContextFrame):
            await self.push_frame(frame, direction)
            return
        await self.push_frame(LLMFullResponseStartFrame())
        try:
            async for chunk in self.inner.chat(chat_messages(frame.context)):
                if chunk.text:
                    await self._push_llm_text(chunk.text)
        except Exception as exc:  # reported as Pipecat reports a failed completion
            await self.push_error(error_msg=f"bargein LLM failed: {exc}", exception=exc)
        finally:
            await self.push_frame(LLMFullResponseEndFrame())
