"""A deterministic, rule-based stand-in for an LLM: intents and canned replies, no model.

:class:`RuleBasedLLM` matches the latest user message against a list of :class:`Intent`
patterns and streams the intent's canned reply word by word, on the event loop's clock. It
is meant for demos and tests, where a real model would be slow, costly and non-deterministic.
It is *not* a language model: it understands nothing beyond its patterns.

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
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bargein.providers.latency import Fixed, Latency, WorkTimer
from bargein.providers.llm import ChatMessage, LLMChunk, ToolCall, as_tool_spec
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

ReplyFn = Callable[["ReplyContext"], str]
ArgsFn = Callable[["ReplyContext"], Mapping[str, Any]]

DEFAULT_FALLBACK = (
    "I'm sorry, I'm not sure I understood what you need. I can help with billing, your "
    "account, our support and opening hours, product features, and refunds. Which of "
    "those would you like to talk about?"
)
DEFAULT_INTERRUPTED_FALLBACK = "Sure, I'll stop there. What would you like to know instead?"
DEFAULT_TTFT = Fixed(0.3)

_KEYWORD = re.compile(r"[\w' ]+")
_ACK = re.compile(r"\backnowledg", re.IGNORECASE)
_REDIRECT = re.compile(r"\b(re-?direct|re-?focus|focus|steer|bring\b.*\bback)", re.IGNORECASE)
# "User has been speaking and said: ..." (a summary message built by a turn-limit handler).
_SAID_PREFIX = re.compile(r"^\s*(?:the\s+)?user\b[^:]{0,60}\bsaid\s*:\s*", re.IGNORECASE)


def wants_acknowledge_and_redirect(instructions: str) -> bool:
    """True if ``instructions`` ask to acknowledge the user and redirect/refocus them."""
    return bool(_ACK.search(instructions) and _REDIRECT.search(instructions))


def _compile(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    if isinstance(pattern, re.Pattern):
        return pattern
    if _KEYWORD.fullmatch(pattern):
        # A plain keyword or phrase: whole words only, any spacing.
        body = r"\s+".join(re.escape(w) for w in pattern.split())
        return re.compile(rf"\b{body}\b", re.IGNORECASE)
    return re.compile(pattern, re.IGNORECASE)


@dataclass(frozen=True)
class ReplyContext:
    """What a reply callable gets to build its text."""

    messages: tuple[ChatMessage, ...]
    """The whole conversation as given to ``chat``."""
    user_text: str
    """The latest user message ("" if there is none)."""
    intent: Intent | None
    match: re.Match[str] | None
    """The pattern match that selected ``intent``."""
    turn: int
    """How many user messages the conversation holds."""
    instructions: str | None
    """The latest system message of the current turn, if any."""
    interrupted: ChatMessage | None
    """The assistant message cut short just before the latest user message, if any."""
    tool_result: str | None = None
    """The tool's output, when replying after a tool call."""
    _previous: Callable[[], str | None] | None = field(default=None, repr=False, compare=False)

    def previous_reply(self) -> str | None:
        """The full text of the assistant's previous reply (what it meant to say in full)."""
        return self._previous() if self._previous is not None else None


@dataclass(frozen=True)
class Intent:
    """One thing a user may ask, with the canned reply to give.

    ``patterns`` are regular expressions searched case-insensitively in the latest user
    message; a plain keyword or phrase (letters, digits, apostrophes, spaces) matches whole
    words only. ``reply`` is a string, a list of strings (one is picked deterministically per
    turn) or a callable taking a :class:`ReplyContext`.

    When several intents match, the highest ``priority`` wins, then the earliest match in the
    message, then the earliest intent in the list. ``topic`` names the intent in an
    acknowledge-and-redirect reply ("let's focus on your main question, about {topic}");
    intents without a topic (small talk) are never taken as the main question.

    ``tool`` makes the intent call that tool (when the caller offers it) instead of replying;
    ``tool_arguments`` (a mapping or a callable on the context) become its JSON arguments.
    After the tool's result comes back, ``reply`` is used, with ``{result}`` replaced by it.
    """

    name: str
    patterns: Sequence[str | re.Pattern[str]] = ()
    reply: str | Sequence[str] | ReplyFn = ""
    topic: str | None = None
    priority: int = 1
    tool: str | None = None
    tool_arguments: Mapping[str, Any] | ArgsFn | None = None
    _compiled: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("an Intent needs a name")
        if isinstance(self.patterns, str):
            raise TypeError(f"Intent {self.name!r}: patterns must be a list, not one string")
        object.__setattr__(self, "_compiled", tuple(_compile(p) for p in self.patterns))

    def search(self, text: str) -> re.Match[str] | None:
        """The earliest match of any pattern in ``text``, or None."""
        best: re.Match[str] | None = None
        for pattern in self._compiled:
            m = pattern.search(text)
            if m is not None and (best is None or m.start() < best.start()):
                best = m
        return best


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


def _repeat_previous(ctx: ReplyContext) -> str:
    previous = ctx.previous_reply()
    if not previous:
        return "I haven't said anything yet. How can I help you today?"
    return f"Here it is again. {previous}"


def default_support_intents() -> list[Intent]:
    """The default intents of a customer-support voice agent.

    The information replies are several sentences long (roughly 10 to 20 seconds when
    spoken at 175 words per minute), so there is time to interrupt them.
    """
    return [
        Intent(
            "repeat",
            [
                r"\brepeat\b",
                "say that again",
                "come again",
                r"\bwhat did you (just )?say\b",
                r"^\W*(sorry,? )?what\W*$",  # "Sorry, what?" alone, not "Sorry, what are..."
                r"\bpardon\b",
                r"\bdidn'?t (quite )?(catch|hear|get) (that|it|you)\b",
            ],
            _repeat_previous,
            priority=2,
        ),
        Intent(
            "greeting",
            [r"\b(hi|hello|hey|hiya|good (morning|afternoon|evening))\b"],
            [
                "Hello, and thanks for calling Acme support. I'm the automated assistant. I "
                "can help with billing, your account, our hours, product features and "
                "refunds. What can I do for you today?",
                "Hi there, welcome to Acme support. I'm an automated assistant, and I can help "
                "with billing, account questions, our hours, our products and refunds. How "
                "can I help you today?",
            ],
            priority=0,
        ),
        Intent(
            "billing",
            [r"\b(bill(s|ing|ed)?|invoices?|charge[sd]?|overcharged|payments?|pay)\b"],
            "Happy to help with billing. Your invoice is issued on the first day of each month "
            "and payment is due within fourteen days. You can pay by card, bank transfer or "
            "direct debit. Every invoice is listed in your online account under Billing. "
            "If a charge looks wrong, tell me its date and I will check it.",
            topic="your bill",
        ),
        Intent(
            "account_support",
            [
                r"\baccount\b",
                r"\bpassword\b",
                r"\blog ?in\b",
                r"\bsign ?in\b",
                r"\busername\b",
                r"\blocked out\b",
                r"\bemail address\b",
            ],
            "Let's sort out your account. If you cannot sign in, use the Forgot password link "
            "on the sign in page and we will email you a reset link. To change your email "
            "address or phone number, open Settings, then Profile. "
            "If your account is locked after too many attempts, it unlocks by itself after "
            "thirty minutes.",
            topic="your account",
        ),
        Intent(
            "business_hours",
            [
                "business hours",
                "support hours",
                "office hours",
                "customer service hours",
                r"\bwhen can i (call|reach|contact)\b",
                r"\bwhat time can i (call|reach)\b",
            ],
            "Our support team is available Monday to Friday from eight in the morning to eight "
            "in the evening, and on Saturdays from nine to one. Outside those hours I can "
            "still help with most questions, and you can leave a message for a call back on "
            "the next working day. Public holidays follow the Saturday hours.",
            topic="our support hours",
        ),
        Intent(
            "opening_hours",
            [
                r"\bopening (hours|times)\b",
                "store hours",
                r"\b(are|is) (you|the store|the shop|it) open\b",
                r"\bwhen do(es)? (you|the store|the shop|it) (open|close)\b",
                r"\bclosing time\b",
                r"\byour hours\b",
            ],
            "Our stores are open from nine in the morning to six in the evening on weekdays, "
            "and from ten to five on Saturdays. On Sundays only the city centre store is open, "
            "from eleven to four. Opening hours can change around public holidays, so please "
            "check the store page on our website before you travel.",
            topic="our opening hours",
        ),
        Intent(
            "product_features",
            [
                r"\bfeatures?\b",
                r"\bwhat can (it|the product|the app) do\b",
                r"\bdoes (it|the product|the app) (support|have|work)\b",
                r"\b(products?|plans?|premium|integrations?)\b",
            ],
            "Our plans all include unlimited projects, shared workspaces, and the mobile app "
            "for phones and tablets. The Premium plan adds offline mode, priority support, "
            "and integrations with popular calendar and storage services. Every plan comes "
            "with a thirty day free trial, and you can switch plans at any time from your "
            "account settings.",
            topic="our product features",
        ),
        Intent(
            "refund",
            [r"\brefunds?\b", r"\bmoney back\b", r"\breturn(ing)? (it|this|my|the)\b"],
            "I can help you with a refund. Purchases can be refunded in full within thirty days, "
            "as long as the item is unused and in its original packaging. Once we receive the "
            "return, the money goes back to your original payment method within a week. I "
            "can start a return now if you have your order number.",
            topic="a refund",
        ),
        Intent(
            "goodbye",
            [r"\b(good ?bye|bye|see you|that's all|that is all|have a (nice|good) day)\b"],
            "Thanks for calling Acme support. Have a great day, goodbye!",
            priority=0,
        ),
        Intent(
            "thanks",
            [r"\b(thanks|thank you|cheers|appreciate it)\b"],
            "You're very welcome. Is there anything else I can help you with today?",
            priority=0,
        ),
    ]


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
        best: tuple[tuple[int, int, int], Intent, re.Match[str]] | None = None
        for index, intent in enumerate(self.intents):
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
        main = None
        best_key = None
        for index, intent in enumerate(self.intents):
            if intent.topic is None:
                continue
            m = intent.search(said)
            if m is None:
                continue
            key = (intent.priority, -m.start(), -index)
            if best_key is None or key > best_key:
                best_key, main = key, (intent, m)
        if main is None:
            parts.append(
                "So that I can help you best, what is the one thing you most need from us today?"
            )
            return RuleBasedReply(_clean(" ".join(parts)), None, redirected=True)
        intent, m = main
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
