"""A deterministic, rule-based stand-in for an LLM: intents and canned replies, no model.

:class:`RuleBasedLLM` matches the latest user message against a list of :class:`Intent`
patterns and streams the intent's canned reply word by word, on the event loop's clock. It
is meant for demos and tests, where a real model would be slow, costly and non-deterministic.
It is *not* a language model: it understands nothing beyond its patterns. Intents and
their reply context are defined in :mod:`bargein.providers.rule_based_intents`, the
default customer-support intents in :mod:`bargein.providers.support_intents`.

It still honours the conversation rules an agent runtime relies on:

- the latest system message of the current turn may ask it to *acknowledge and redirect*
  (the turn-limit cut-in): the reply then opens with a short acknowledgement quoting the
  user's first words and refocuses on their main question;
- when the previous assistant message was interrupted, the reply addresses the words the
  user interrupted with, prefixed with a brief ``"Sure — "``;
- an intent with ``tool=`` emits a :class:`ToolCall` when that tool is offered, and replies
  with the tool's result once it comes back.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from bargein.providers.latency import Fixed, Latency, WorkTimer
from bargein.providers.llm import ChatMessage, LLMChunk, ToolCall, as_tool_spec
from bargein.providers.rule_based_intents import Intent, ReplyContext, ReplyFn
from bargein.providers.support_intents import default_support_intents
from bargein.text import normalize_words, words

__all__ = [
    "DEFAULT_FALLBACK",
    "DEFAULT_INTERRUPTED_FALLBACK",
    "Intent",
    "ReplyContext",
    "RuleBasedLLM",
    "RuleBasedReply",
    "default_support_intents",
    "wants_acknowledge_and_redirect",
]

DEFAULT_FALLBACK = (
    "I'm sorry, I'm not sure I understood what you need. I can help with billing, your "
    "account, our support and opening hours, product features, and refunds. Which of "
    "those would you like to talk about?"
)
DEFAULT_INTERRUPTED_FALLBACK = "Sure, I'll stop there. What would you like to know instead?"
DEFAULT_TTFT = Fixed(0.3)

_ACK = re.compile(r"\backnowledg", re.IGNORECASE)
_REDIRECT = re.compile(r"\b(re-?direct|re-?focus|focus|steer|bring\b.*\bback)", re.IGNORECASE)
# "User has been speaking and said: ..." (a summary message built by a turn-limit handler).
_SAID_PREFIX = re.compile(r"^\s*(?:the\s+)?user\b[^:]{0,60}\bsaid\s*:\s*", re.IGNORECASE)


def wants_acknowledge_and_redirect(instructions: str) -> bool:
    """True if ``instructions`` ask to acknowledge the user and redirect/refocus them."""
    return bool(_ACK.search(instructions) and _REDIRECT.search(instructions))


@dataclass(frozen=True)
class RuleBasedReply:
    """The reply :class:`RuleBasedLLM` chose: its text or tool calls, and why."""

    text: str
    intent: str | None
    """Name of the matched intent; None for the fallback."""
    tool_calls: tuple[ToolCall, ...] = ()
    redirected: bool = False
    """True when the reply acknowledged the user and refocused (turn-limit instruction)."""
    after_interruption: bool = False
    """True when the reply answers a user who interrupted the previous reply."""


def _stable_index(*parts: object, n: int) -> int:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") % n


class RuleBasedLLM:
    """Deterministic rule-based responder: intents and canned replies, **no model**.

    Picks the intent of the latest user message (see :class:`Intent`) and streams its reply
    word by word: the first chunk after ``ttft`` (a latency model, charged on the loop clock),
    then one word every ``1 / tokens_per_second`` seconds (``None``: no delay). The same
    conversation always gives the same reply; list replies are chosen by a hash of ``seed``,
    the intent and the turn number.

    Args:
        intents: the intents to recognise; default :func:`default_support_intents`.
        fallback: reply when no intent matches (a string or a callable on the context).
        interrupted_fallback: reply when no intent matches right after an interruption.
        interruption_prefix: put before a reply that answers an interruption ("" for none).
        ttft: time to first token.
        tokens_per_second: words streamed per second after the first.
        seed: varies the choice among list replies.
        quote_words: how many of the user's words an acknowledgement quotes.
        opening_intent: intent whose reply is used when the conversation has no user message
            yet (the agent speaks first).
    """

    def __init__(
        self,
        intents: Sequence[Intent] | None = None,
        *,
        fallback: str | ReplyFn = DEFAULT_FALLBACK,
        interrupted_fallback: str | ReplyFn = DEFAULT_INTERRUPTED_FALLBACK,
        interruption_prefix: str = "Sure — ",
        ttft: Latency = DEFAULT_TTFT,
        tokens_per_second: float | None = 40.0,
        seed: int = 0,
        quote_words: int = 6,
        opening_intent: str | None = "greeting",
    ) -> None:
        if tokens_per_second is not None and not tokens_per_second > 0:
            raise ValueError(f"tokens_per_second must be > 0 or None, got {tokens_per_second!r}")
        if quote_words < 1:
            raise ValueError(f"quote_words must be >= 1, got {quote_words!r}")
        self.intents: tuple[Intent, ...] = tuple(
            default_support_intents() if intents is None else intents
        )
        names = [i.name for i in self.intents]
        if len(set(names)) != len(names):
            raise ValueError(f"intent names must be unique, got {names}")
        self.fallback = fallback
        self.interrupted_fallback = interrupted_fallback
        self.interruption_prefix = interruption_prefix
        self.ttft = ttft
        self.tokens_per_second = tokens_per_second
        self.seed = seed
        self.quote_words = quote_words
        self.opening_intent = opening_intent

    # -- choosing the reply (synchronous, no timing) -------------------------------------

    def match(self, text: str) -> tuple[Intent | None, re.Match[str] | None]:
        """The intent ``text`` selects (and its match), or ``(None, None)``."""
        return self._best_match(text)

    def _best_match(self, text: str, *, topical: bool = False
                    ) -> tuple[Intent | None, re.Match[str] | None]:
        """The best intent matching ``text`` (highest priority, then earliest match, then
        earliest in the list), among those with a topic if ``topical``."""
        best: tuple[tuple[int, int, int], Intent, re.Match[str]] | None = None
        for index, intent in enumerate(self.intents):
            if topical and intent.topic is None:
                continue
            m = intent.search(text)
            if m is None:
                continue
            key = (intent.priority, -m.start(), -index)
            if best is None or key > best[0]:
                best = (key, intent, m)
        return (None, None) if best is None else (best[1], best[2])

    def reply_for(
        self, messages: Sequence[ChatMessage], *, tools: Sequence[Any] | None = None
    ) -> RuleBasedReply:
        """Choose the reply to ``messages`` without streaming it (handy in tests)."""
        msgs = tuple(messages)
        offered = {as_tool_spec(t).name for t in tools} if tools else set()

        if msgs and msgs[-1].role == "tool":
            return self._after_tool(msgs)

        last_user = _last_index(msgs, "user")
        last_assistant = _last_index(msgs, "assistant")
        user_text = msgs[last_user].content if last_user is not None else ""
        turn = sum(1 for m in msgs if m.role == "user")
        window_start = 0 if last_assistant is None else last_assistant + 1
        instructions = next(
            (m.content for m in reversed(msgs[window_start:]) if m.role == "system"), None
        )
        interrupted = None
        if last_user is not None:
            before = _last_index(msgs[:last_user], "assistant")
            if before is not None and msgs[before].interrupted:
                interrupted = msgs[before]

        if instructions is not None and wants_acknowledge_and_redirect(instructions):
            return self._acknowledge_and_redirect(msgs, user_text, turn, instructions)

        if last_user is None:
            intent = self._intent_named(self.opening_intent)
            m = None
        else:
            intent, m = self.match(user_text)
        ctx = ReplyContext(
            messages=msgs,
            user_text=user_text,
            intent=intent,
            match=m,
            turn=turn,
            instructions=instructions,
            interrupted=interrupted,
            _previous=lambda: self._previous_reply(msgs),
        )
        if intent is not None and intent.tool and intent.tool in offered:
            return RuleBasedReply(
                text="",
                intent=intent.name,
                tool_calls=(self._tool_call(intent, ctx),),
                after_interruption=interrupted is not None,
            )
        if intent is None:
            fallback = self.interrupted_fallback if interrupted is not None else self.fallback
            text = fallback(ctx) if callable(fallback) else fallback
            return RuleBasedReply(_clean(text), None, after_interruption=interrupted is not None)
        text = self._render(intent, ctx)
        if interrupted is not None and self.interruption_prefix:
            text = self.interruption_prefix + _lower_first(text)
        return RuleBasedReply(_clean(text), intent.name, after_interruption=interrupted is not None)

    # -- streaming -------------------------------------------------------------------------

    async def chat(
        self, messages: Sequence[ChatMessage], *, tools: Sequence[Any] | None = None
    ) -> AsyncIterator[LLMChunk]:
        """Stream the reply: first chunk after ``ttft``, then one word per ``1/rate`` s."""
        timer = WorkTimer()
        reply = self.reply_for(messages, tools=tools)
        await timer.settle(self.ttft)
        if reply.tool_calls:
            yield LLMChunk(tool_calls=reply.tool_calls)
            return
        interval = None if self.tokens_per_second is None else 1.0 / self.tokens_per_second
        loop = asyncio.get_running_loop()
        first = loop.time()
        for i, word in enumerate(reply.text.split()):
            if i and interval:  # an absolute schedule: late wake-ups do not add up
                await asyncio.sleep(max(0.0, first + i * interval - loop.time()))
            yield LLMChunk(text=word if i == 0 else " " + word)

    # -- helpers ---------------------------------------------------------------------------

    def _intent_named(self, name: str | None) -> Intent | None:
        return next((i for i in self.intents if i.name == name), None)

    def _render(self, intent: Intent, ctx: ReplyContext, *, result: str | None = None) -> str:
        reply = intent.reply
        if callable(reply):
            text = reply(ctx)
        elif isinstance(reply, str):
            text = reply
        else:
            options = list(reply)
            if not options:
                raise ValueError(f"Intent {intent.name!r} has an empty list of replies")
            text = options[_stable_index(self.seed, intent.name, ctx.turn, n=len(options))]
        if result is not None:
            text = text.replace("{result}", result) if text else f"Here is what I found: {result}"
        return text

    def _tool_call(self, intent: Intent, ctx: ReplyContext) -> ToolCall:
        args = intent.tool_arguments
        if callable(args):
            args = args(ctx)
        arguments = json.dumps(dict(args or {}), sort_keys=True)
        call_id = f"call_{intent.tool}_{ctx.turn}"
        return ToolCall(id=call_id, name=str(intent.tool), arguments=arguments)

    def _after_tool(self, msgs: tuple[ChatMessage, ...]) -> RuleBasedReply:
        result_msg = msgs[-1]
        tool_name = None
        for m in reversed(msgs):
            for call in m.tool_calls:
                if call.id == result_msg.tool_call_id:
                    tool_name = call.name
                    break
            if tool_name is not None:
                break
        intent = next((i for i in self.intents if i.tool and i.tool == tool_name), None)
        last_user = _last_index(msgs, "user")
        ctx = ReplyContext(
            messages=msgs,
            user_text=msgs[last_user].content if last_user is not None else "",
            intent=intent,
            match=None,
            turn=sum(1 for m in msgs if m.role == "user"),
            instructions=None,
            interrupted=None,
            tool_result=result_msg.content,
        )
        if intent is None:
            return RuleBasedReply(_clean(f"Here is what I found: {result_msg.content}"), None)
        text = self._render(intent, ctx, result=result_msg.content)
        return RuleBasedReply(_clean(text), intent.name)

    def _acknowledge_and_redirect(
        self, msgs: tuple[ChatMessage, ...], user_text: str, turn: int, instructions: str
    ) -> RuleBasedReply:
        said = _SAID_PREFIX.sub("", user_text)
        said_words = words(said)
        parts = []
        if said_words:
            quote = " ".join(said_words[: self.quote_words])
            more = "..." if len(said_words) > self.quote_words else ""
            parts.append(f'I hear you, you said "{quote}{more}".')
        else:
            parts.append("I hear you.")
        # The main question: the best intent that names a topic.
        intent, m = self._best_match(said, topical=True)
        if intent is None:
            parts.append(
                "So that I can help you best, what is the one thing you most need from us today?"
            )
            return RuleBasedReply(_clean(" ".join(parts)), None, redirected=True)
        ctx = ReplyContext(
            messages=msgs,
            user_text=user_text,
            intent=intent,
            match=m,
            turn=turn,
            instructions=instructions,
            interrupted=None,
            _previous=lambda: self._previous_reply(msgs),
        )
        parts.append(f"Let's focus on your main question, about {intent.topic}.")
        if intent.tool is None:
            parts.append(self._render(intent, ctx))
        return RuleBasedReply(_clean(" ".join(parts)), intent.name, redirected=True)

    def _previous_reply(self, msgs: tuple[ChatMessage, ...]) -> str | None:
        """The previous assistant reply in full: recomputed if it was cut short."""
        last_user = _last_index(msgs, "user")
        end = len(msgs) if last_user is None else last_user
        index = _last_index(msgs[:end], "assistant")
        while index is not None and not msgs[index].content.strip():
            index = _last_index(msgs[:index], "assistant")
        if index is None:
            return None
        heard = msgs[index].content
        full = self.reply_for(msgs[:index]).text
        heard_words, full_words = normalize_words(heard), normalize_words(full)
        if heard_words and full_words[: len(heard_words)] == heard_words:
            return full
        return heard


def _last_index(msgs: Sequence[ChatMessage], role: str) -> int | None:
    for i in range(len(msgs) - 1, -1, -1):
        if msgs[i].role == role:
            return i
    return None


def _clean(text: str) -> str:
    return " ".join(text.split())


def _lower_first(text: str) -> str:
    """Lower-case the first word after a prefix, unless it is "I" or looks like a name."""
    head, _, rest = text.partition(" ")
    if head[:1].isupper() and head[1:].islower() and head not in {"I", "I'm", "I'll", "I've"}:
        head = head.lower()
    return f"{head} {rest}" if rest else head
