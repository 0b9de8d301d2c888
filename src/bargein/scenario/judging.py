"""Judging a conversation: deterministic checks offline, or an LLM for free-text criteria.

``judge(criteria=[...])`` takes strings (judged by an LLM: pass ``llm=`` to ``judge`` or to
``run``) and/or deterministic criteria built here (``said``, ``not_said``,
``recovered_after_interruptions``, ``metric``). The verdict names each criterion, pass or
fail, and why.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bargein.errors import ScenarioError
from bargein.providers.llm import LLM, ChatMessage
from bargein.scenario.expectations import CheckContext, CheckResult
from bargein.scenario.metrics import TALK_OVER_LIMIT
from bargein.scenario.steps import Step


@dataclass(frozen=True)
class Criterion:
    """A deterministic criterion: a description and a check over the whole conversation."""

    description: str
    check: Callable[[CheckContext], tuple[bool, str]] = field(compare=False)


def said(*phrases: str) -> Criterion:
    """The agent said each of ``phrases`` at some point (case-insensitive)."""

    def check(ctx: CheckContext) -> tuple[bool, str]:
        text = " ".join(t for _, t, _ in ctx.agent_messages).lower()
        missing = [p for p in phrases if p.lower() not in text]
        return not missing, (f"missing {missing}" if missing else f"said {list(phrases)}")

    return Criterion(f"agent said {list(phrases)}", check)


def not_said(*phrases: str) -> Criterion:
    """The agent never said any of ``phrases``."""

    def check(ctx: CheckContext) -> tuple[bool, str]:
        text = " ".join(t for _, t, _ in ctx.agent_messages).lower()
        found = [p for p in phrases if p.lower() in text]
        return not found, (f"said {found}" if found else f"never said {list(phrases)}")

    return Criterion(f"agent never said {list(phrases)}", check)


def recovered_after_interruptions(max_stop: float = 1.0) -> Criterion:
    """Every barge-in stopped the agent within ``max_stop`` s, without talking over the
    caller again, and the agent then answered with a complete message."""

    def check(ctx: CheckContext) -> tuple[bool, str]:
        barge_ins = [u for u in ctx.utterances if u.barge_in and not u.backchannel]
        if not barge_ins:
            return False, "there was no barge-in to recover from"
        problems = []
        for u in barge_ins:
            m = next((m for m in ctx.metrics.interruptions if m.utterance == u.index), None)
            if m is not None and m.agent_was_speaking and not m.protected and (
                    (m.stop_latency or 0) > max_stop or m.talked_over > TALK_OVER_LIMIT):
                problems.append(f"{m.describe()} ({u.text!r})")
            if not any(at > u.onset and not cut for at, _, cut in ctx.agent_messages):
                problems.append(f"no complete reply after {u.text!r}")
        return not problems, ("; ".join(problems) if problems else
                              f"recovered from {len(barge_ins)} barge-in(s)")

    return Criterion(f"agent recovered after every interruption (stop <= {max_stop:g} s)",
                     check)


def metric(name: str, *, at_most: float | None = None,
           at_least: float | None = None) -> Criterion:
    """A headline metric within bounds (see ``Metrics.summary()``)."""
    from bargein.scenario.expectations import expect_metric

    step = expect_metric(name, at_most=at_most, at_least=at_least)
    return Criterion(step.description, step.check)


@dataclass(frozen=True)
class JudgeStep(Step):
    """Judge the whole conversation at the end of the scenario."""

    criteria: tuple[str | Criterion, ...]
    llm: Any = field(default=None, compare=False)
    kind = "judge"

    def describe(self) -> str:
        return f"judge({len(self.criteria)} criteria)"

    @property
    def needs_llm(self) -> bool:
        """True if some criterion is free text."""
        return any(isinstance(c, str) for c in self.criteria)


def judge(criteria: Sequence[str | Criterion], *, llm: LLM | None = None) -> JudgeStep:
    """Judge the conversation against ``criteria`` once it has ended."""
    if isinstance(criteria, (str, Criterion)) or not criteria:
        raise ScenarioError("judge(criteria=[...]) needs a non-empty list of criteria")
    for c in criteria:
        if not isinstance(c, (str, Criterion)) or (isinstance(c, str) and not c.strip()):
            raise ScenarioError(f"judge criterion {c!r} is neither text nor a criterion "
                                "(said, not_said, recovered_after_interruptions, metric)")
    return JudgeStep(tuple(criteria), llm)


def transcript_for_judge(ctx: CheckContext) -> str:
    """The conversation as text lines with times, barge-ins and cut-off replies marked."""
    lines = []
    for u in ctx.utterances:
        mark = " [barges in]" if u.barge_in else ""
        lines.append((u.onset, f"[{u.onset:6.2f} s] USER{mark}: {u.text}"))
    for at, text, cut in ctx.agent_messages:
        mark = " [cut off]" if cut else ""
        lines.append((at, f"[{at:6.2f} s] AGENT{mark}: {text}"))
    return "\n".join(line for _, line in sorted(lines))


async def evaluate(step: JudgeStep, ctx: CheckContext, llm: LLM | None) -> list[CheckResult]:
    """Verdicts for every criterion of ``step``."""
    results: list[CheckResult] = []
    texts = [c for c in step.criteria if isinstance(c, str)]
    llm_verdicts: dict[str, tuple[bool, str]] = {}
    if texts:
        model = step.llm or llm
        if model is None:
            raise ScenarioError(
                f"judge criteria {texts!r} are free text and need an LLM judge: pass "
                "judge(..., llm=...) or run(..., judge_llm=...), or use deterministic "
                "criteria (said, not_said, recovered_after_interruptions, metric)")
        llm_verdicts = await _ask(model, texts, transcript_for_judge(ctx))
    for c in step.criteria:
        if isinstance(c, str):
            ok, why = llm_verdicts[c]
            results.append(CheckResult(f"judge: {c}", ok, why))
        else:
            ok, why = c.check(ctx)
            results.append(CheckResult(f"judge: {c.description}", ok, why))
    return results


_PROMPT = (
    "You judge a recorded phone conversation between a USER and a voice AGENT. "
    "For each criterion decide whether the conversation meets it. Answer with JSON only: "
    '{"verdicts": [{"criterion": <criterion text>, "passed": true|false, '
    '"reason": <one sentence>}]}'
)


async def _ask(llm: LLM, criteria: list[str], transcript: str) -> dict[str, tuple[bool, str]]:
    listed = "\n".join(f"- {c}" for c in criteria)
    messages = [ChatMessage("system", _PROMPT),
                ChatMessage("user", f"Conversation:\n{transcript}\n\nCriteria:\n{listed}")]
    text = "".join([chunk.text async for chunk in llm.chat(messages)])
    match = re.search(r"\{.*\}", text, re.DOTALL)
    try:
        data = json.loads(match.group(0) if match else text)
        verdicts = {v["criterion"].strip(): (bool(v["passed"]), str(v.get("reason", "")))
                    for v in data["verdicts"]}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ScenarioError(f"the judge LLM did not answer in the expected JSON form "
                            f"({exc}); it said: {text[:300]!r}") from exc
    missing = (False, "the judge gave no verdict for this criterion")
    return {c: verdicts.get(c.strip(), missing) for c in criteria}
