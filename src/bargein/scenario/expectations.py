"""Timeline checks: script steps that state what must be true on the recording.

A check is placed in the script where it applies: "the agent stopped within 0.6 s" refers to
the latest barge-in before it; "the next reply addresses the interruption" to the first agent
message after that barge-in. Checks are evaluated once the scenario has ended.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bargein.audio.levels import merge_spans
from bargein.errors import ScenarioError
from bargein.scenario import validation as valid
from bargein.scenario.metrics import TALK_OVER_LIMIT, InterruptionMeasure, Metrics, UserUtterance
from bargein.scenario.steps import Step
from bargein.scenario.timeline import Timeline
from bargein.scenario.turns import AgentTurn
from bargein.scenario.wording import (
    acknowledgement,
    content_words,
    is_stop_request,
    request_topic,
)
from bargein.text import normalize_words


@dataclass
class CheckContext:
    """What a check can look at."""

    metrics: Metrics
    utterances: list[UserUtterance]
    agent_messages: list[tuple[float, str, bool]]  # (time, text, interrupted)
    user_spans: list[tuple[float, float]]  # the caller's speech (ground truth)
    agent_spans: list[tuple[float, float]]  # audible agent audio
    barge_ins_before: int  # barge-ins the script had made when it reached the check
    utterances_before: int
    timeline: Timeline = field(default_factory=Timeline)  # every event, adapter's included
    agent_turns: list[AgentTurn] = field(default_factory=list)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: its description, pass/fail, and why."""

    description: str
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.description, "passed": self.passed, "detail": self.detail}


@dataclass(frozen=True)
class ExpectStep(Step):
    """A check evaluated at the end of the scenario (see the module docstring)."""

    description: str
    check: Callable[[CheckContext], tuple[bool, str]] = field(compare=False)
    kind = "expect"

    def describe(self) -> str:
        return f"expect: {self.description}"


def _latest_barge_in(ctx: CheckContext) -> UserUtterance | None:
    barge_ins = [u for u in ctx.utterances[: ctx.utterances_before] if u.barge_in]
    return barge_ins[-1] if barge_ins else None


def _reply_after(ctx: CheckContext, t: float) -> str | None:
    """The first complete agent message after ``t`` (the one cut by the barge-in is not a
    reply to it)."""
    return next((text for at, text, cut in ctx.agent_messages if at > t and not cut), None)


def _latest_measure(ctx: CheckContext) -> tuple[InterruptionMeasure | None, str]:
    """The measure of the latest genuine barge-in before the check, or why there is none."""
    u = _latest_barge_in(ctx)
    if u is None:
        return None, "no barge-in happened before this check"
    m = next((m for m in ctx.metrics.interruptions if m.utterance == u.index), None)
    if m is None or not m.agent_was_speaking:
        return None, f"the agent was not speaking at the barge-in ({u.onset:.2f} s)"
    return m, ""


def expect_stopped_within(seconds: float) -> ExpectStep:
    """The agent's audio stopped within ``seconds`` of the latest barge-in's onset, and it
    did not talk over the caller again before the caller finished."""
    valid.seconds(seconds, "expect_stopped_within(seconds)")

    def check(ctx: CheckContext) -> tuple[bool, str]:
        m, why = _latest_measure(ctx)
        if m is None:
            return False, why
        if m.protected:
            return False, (f"{m.describe()}: protected speech is not meant to stop; check it "
                           "with expect_not_interrupted()")
        ok = m.stop_latency is not None and m.stop_latency <= seconds and not _talked_over(m)
        return ok, f"{m.describe()} (limit {seconds:g} s)"

    return ExpectStep(f"agent stopped within {seconds:g} s of the interrupt", check)


def expect_yielded() -> ExpectStep:
    """The agent yielded to the latest barge-in: it stopped within ``YIELD_WINDOW`` seconds
    of the onset and did not talk over the caller afterwards (docs/metrics.md)."""

    def check(ctx: CheckContext) -> tuple[bool, str]:
        m, why = _latest_measure(ctx)
        if m is None:
            return False, why
        if m.protected:
            return False, f"{m.describe()}: protected speech does not yield"
        return m.yielded, m.describe()

    return ExpectStep("agent yielded to the interrupt", check)


def expect_not_interrupted() -> ExpectStep:
    """Every protected (uninterruptible) agent speech the caller barged in on before this
    check played to its end. Needs an adapter that reports speech boundaries."""

    def check(ctx: CheckContext) -> tuple[bool, str]:
        if not any(t.speech is not None for t in ctx.agent_turns):
            return False, ("the adapter reports no agent_speech boundaries, so protected "
                           "speech cannot be told apart")
        before = {u.index for u in ctx.utterances[: ctx.utterances_before] if u.barge_in}
        protected = [m for m in ctx.metrics.protected if m.utterance in before]
        if not protected:
            return False, "no barge-in over protected speech happened before this check"
        cut = [m for m in protected if m.not_interrupted is not True]
        if cut:
            return False, "; ".join(m.describe() for m in cut)
        return True, "; ".join(m.describe() for m in protected)

    return ExpectStep("protected speech was not interrupted", check)


def expect_event(kind: str, **data: Any) -> ExpectStep:
    """The timeline holds an event of ``kind`` whose data has these values, e.g.
    ``expect_event("user_turn_exceeded", reason="sentences")`` (events the adapter reports:
    ``bargein.adapters.ADAPTER_EVENTS``)."""
    if not isinstance(kind, str) or not kind:
        raise ScenarioError("expect_event() needs an event kind, e.g. 'user_turn_exceeded'")

    def check(ctx: CheckContext) -> tuple[bool, str]:
        events = ctx.timeline.of(kind)
        hits = [e for e in events if all(e.data.get(k) == v for k, v in data.items())]
        if hits:
            return True, f"{kind} at {hits[0].time:.2f} s" + (
                f" ({len(hits)} in all)" if len(hits) > 1 else "")
        seen = f"; {len(events)} {kind} event(s) with other values" if events else ""
        return False, f"no {kind} event{' with ' + str(data) if data else ''}{seen}"

    fields = "".join(f", {k}={v!r}" for k, v in data.items())
    return ExpectStep(f"event {kind}{fields}", check)


def _talked_over(m: InterruptionMeasure) -> bool:
    return m.talked_over > TALK_OVER_LIMIT


def expect_reply_mentions(*words: str) -> ExpectStep:
    """The agent's first message after the latest barge-in (or latest user turn) contains
    at least one of ``words`` (case-insensitive)."""
    if not words:
        raise ScenarioError("expect_reply_mentions() needs at least one word")
    for i, word in enumerate(words, 1):  # "" is in any reply: a check that could not fail
        valid.speakable(word, f"expect_reply_mentions() word {i}")

    def check(ctx: CheckContext) -> tuple[bool, str]:
        anchor = _latest_barge_in(ctx) or (ctx.utterances[ctx.utterances_before - 1]
                                           if ctx.utterances_before else None)
        reply = _reply_after(ctx, anchor.onset if anchor else -1.0)
        if reply is None:
            return False, "the agent sent no message after it"
        found = [w for w in words if w.lower() in reply.lower()]
        return bool(found), (f"reply mentions {found}" if found
                             else f"none of {list(words)} in reply {reply[:120]!r}")

    return ExpectStep(f"next reply mentions one of {list(words)}", check)


def expect_reply_addresses_interruption() -> ExpectStep:
    """The agent's first complete message after the latest barge-in addresses it.

    It does when it shares a content word with the interruption ("what are your business
    hours?" -> "...open from nine..." does not, "...our hours are..." does), or, when the
    interruption only asks the agent to stop or take something back ("Wait, that's wrong!",
    "Hold on"), when it acknowledges that ("Sure, I'll stop there", "You're right, sorry")
    rather than carrying on ("Anyway, as I was saying"). For subtler cases, judge with an
    LLM: ``judge(["The agent's reply takes the caller's interruption into account"])``.
    """

    def check(ctx: CheckContext) -> tuple[bool, str]:
        u = _latest_barge_in(ctx)
        if u is None:
            return False, "no barge-in happened before this check"
        reply = _reply_after(ctx, u.onset)
        if reply is None:
            return False, "the agent sent no message after the interruption"
        return reply_addresses(u.text, reply)

    return ExpectStep("next reply addresses the interruption", check)


def reply_addresses(interruption: str, reply: str) -> tuple[bool, str]:
    """Whether ``reply`` addresses ``interruption`` (see
    :func:`expect_reply_addresses_interruption`), and why."""
    shared = sorted(content_words(interruption) & set(normalize_words(reply)))
    if shared:
        return True, f"reply shares {shared} with {interruption!r}"
    clipped = reply[:120]
    if is_stop_request(interruption):
        topic = sorted(request_topic(interruption))
        if topic:
            return False, (f"reply {clipped!r} does not take up {topic} from {interruption!r}")
        ack = acknowledgement(reply)
        if ack:
            return True, f"reply acknowledges the stop request {interruption!r} ({ack!r})"
        return False, (f"reply {clipped!r} neither acknowledges the stop request nor shares a "
                       f"content word with {interruption!r}")
    return False, f"reply {clipped!r} shares no content word with {interruption!r}"


def expect_no_overlap_longer_than(seconds: float) -> ExpectStep:
    """No stretch of both parties speaking at once lasts longer than ``seconds``."""
    valid.seconds(seconds, "expect_no_overlap_longer_than(seconds)")

    def check(ctx: CheckContext) -> tuple[bool, str]:
        longest = 0.0
        for s1, e1 in merge_spans(ctx.user_spans, 0.1):
            for s2, e2 in merge_spans(ctx.agent_spans, 0.1):
                longest = max(longest, min(e1, e2) - max(s1, s2))
        return longest <= seconds, f"longest overlap {longest:.3f} s (limit {seconds:g} s)"

    return ExpectStep(f"no overlap longer than {seconds:g} s", check)


def expect_metric(name: str, *, at_most: float | None = None,
                  at_least: float | None = None) -> ExpectStep:
    """A headline metric (see ``Metrics.summary()``) within bounds."""
    known = sorted(Metrics().summary())
    if name not in known:
        raise ScenarioError(f"unknown metric {name!r}; metrics are {known}")
    if at_most is None and at_least is None:
        raise ScenarioError(f"expect_metric({name!r}) needs at_most= and/or at_least=")
    for bound, value in (("at_most", at_most), ("at_least", at_least)):
        if value is not None and (not valid.is_number(value) or not math.isfinite(value)):
            raise ScenarioError(f"expect_metric({name!r}, {bound}=...) must be a finite "
                                f"number, got {value!r}")
    if at_most is not None and at_least is not None and at_least > at_most:
        raise ScenarioError(f"expect_metric({name!r}): at_least={at_least:g} is above "
                            f"at_most={at_most:g}, so no value can pass")

    def check(ctx: CheckContext) -> tuple[bool, str]:
        summary = ctx.metrics.summary()
        if name not in summary:
            return False, f"unknown metric {name!r}; metrics are {sorted(summary)}"
        value = summary[name]
        if value is None:
            return False, f"{name} was not measured in this scenario"
        ok = (at_most is None or value <= at_most) and (at_least is None or value >= at_least)
        return ok, f"{name} = {value:g}"

    bounds = " ".join(b for b in (f"<= {at_most:g}" if at_most is not None else "",
                                  f">= {at_least:g}" if at_least is not None else "") if b)
    return ExpectStep(f"{name} {bounds}".strip(), check)
