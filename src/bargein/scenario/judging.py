"""Judging a conversation: deterministic checks offline, or an LLM for free-text criteria.

``judge(criteria=[...])`` takes strings (judged by an LLM: pass ``llm=`` to ``judge`` or to
``run``) and/or deterministic criteria built here (``said``, ``not_said``,
``recovered_after_interruptions``, ``metric``). A bare ``judge()`` gives the final verdict on
the scenario's own criteria (the ``criteria`` option), or on its description when it has
none. The verdict names each criterion, pass or fail, and why.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bargein.errors import ScenarioError
from bargein.providers.llm import LLM, ChatMessage
from bargein.scenario import validation as valid
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
    _phrases(phrases, "said")

    def check(ctx: CheckContext) -> tuple[bool, str]:
        text = " ".join(t for _, t, _ in ctx.agent_messages).lower()
        missing = [p for p in phrases if p.lower() not in text]
        return not missing, (f"missing {missing}" if missing else f"said {list(phrases)}")

    return Criterion(f"agent said {list(phrases)}", check)


def not_said(*phrases: str) -> Criterion:
    """The agent never said any of ``phrases``."""
    _phrases(phrases, "not_said")

    def check(ctx: CheckContext) -> tuple[bool, str]:
        text = " ".join(t for _, t, _ in ctx.agent_messages).lower()
        found = [p for p in phrases if p.lower() in text]
        return not found, (f"said {found}" if found else f"never said {list(phrases)}")

    return Criterion(f"agent never said {list(phrases)}", check)


def recovered_after_interruptions(max_stop: float = 1.0) -> Criterion:
    """Every barge-in stopped the agent within ``max_stop`` s, without talking over the
    caller again, and the agent then answered with a complete message."""
    valid.seconds(max_stop, "recovered_after_interruptions(max_stop=...)", positive=True)

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


def _phrases(phrases: tuple[object, ...], name: str) -> None:
    """Refuse phrases a text match cannot test: none at all, or one without a letter or
    digit (an empty string is in every text, so ``said('')`` would always pass)."""
    if not phrases:
        raise ScenarioError(f"{name}() needs at least one phrase, e.g. {name}('Monday')")
    for phrase in phrases:
        valid.text(phrase, f"{name}() phrase")
        if not any(ch.isalnum() for ch in phrase):  # type: ignore[union-attr]
            raise ScenarioError(f"{name}() phrase {phrase!r} has no word to look for; give "
                                "the words to look for in what the agent said")


def metric(name: str, *, at_most: float | None = None,
           at_least: float | None = None) -> Criterion:
    """A headline metric within bounds (see ``Metrics.summary()``)."""
    from bargein.scenario.expectations import expect_metric

    step = expect_metric(name, at_most=at_most, at_least=at_least)
    return Criterion(step.description, step.check)


Criteria = tuple[str | Criterion, ...]


@dataclass(frozen=True)
class JudgeStep(Step):
    """Judge the whole conversation at the end of the scenario.

    With ``criteria`` it judges those. Without (a bare ``judge()``) it is the scenario's
    final verdict on its own criteria (the ``criteria`` run option, else its description),
    and no step may follow it.
    """

    criteria: Criteria = ()
    llm: Any = field(default=None, compare=False)
    kind = "judge"

    @property
    def final(self) -> bool:
        """True for a bare ``judge()``: the final verdict on the scenario's own criteria."""
        return not self.criteria

    @property
    def ends_script(self) -> bool:
        return self.final

    def describe(self) -> str:
        return "judge()" if self.final else f"judge({len(self.criteria)} criteria)"

    def criteria_for(self, own: Criteria) -> Criteria:
        """What this step judges, given the scenario's own criteria ``own``."""
        return self.criteria or own

    @property
    def needs_llm(self) -> bool:
        """True if some criterion of its own is free text."""
        return needs_llm(self.criteria)


def needs_llm(criteria: Criteria) -> bool:
    """True if some of ``criteria`` is free text (only an LLM can judge it)."""
    return any(isinstance(c, str) for c in criteria)


def check_criteria(criteria: object, what: str) -> Criteria:
    """``criteria`` as a tuple, if it is a non-empty list of free-text criteria and
    deterministic ones (:class:`Criterion`); else a :class:`ScenarioError` naming ``what``."""
    if isinstance(criteria, (str, Criterion)) or not isinstance(criteria, (list, tuple)) \
            or not criteria:
        raise ScenarioError(f"{what} takes a non-empty list of criteria, e.g. "
                            f"[said('Monday'), 'The agent apologised'], got {criteria!r}")
    for c in criteria:
        if not isinstance(c, (str, Criterion)) or (isinstance(c, str) and not c.strip()):
            raise ScenarioError(f"{what}: criterion {c!r} is neither text nor a criterion "
                                "(said, not_said, recovered_after_interruptions, metric)")
    return tuple(criteria)


def scenario_criteria(criteria: Criteria | None, description: str) -> Criteria:
    """The scenario's own criteria, as a bare ``judge()`` judges them: ``criteria`` when
    given, else the description as one free-text criterion, else none."""
    if criteria:
        return tuple(criteria)
    return (description.strip(),) if description.strip() else ()


def judge(criteria: Sequence[str | Criterion] | None = None, *,
          llm: LLM | None = None) -> JudgeStep:
    """Judge the conversation against ``criteria`` once it has ended; a bare ``judge()``
    gives the final verdict on the scenario's own criteria (see :class:`JudgeStep`)."""
    if criteria is None:
        return JudgeStep((), llm)
    if isinstance(criteria, (list, tuple)) and not criteria:
        raise ScenarioError("judge([]) has no criteria; write judge() to judge the scenario's "
                            "own criteria, or judge([...]) with at least one")
    return JudgeStep(check_criteria(criteria, "judge(criteria=...)"), llm)


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


async def evaluate(step: JudgeStep, ctx: CheckContext, llm: LLM | None,
                   own: Criteria = ()) -> list[CheckResult]:
    """Verdicts for every criterion of ``step`` (``own``: the scenario's own criteria, which
    a bare ``judge()`` judges)."""
    return await evaluate_criteria(step.criteria_for(own), ctx, step.llm or llm)


async def evaluate_criteria(criteria: Criteria, ctx: CheckContext,
                            llm: LLM | None) -> list[CheckResult]:
    """Verdicts for every one of ``criteria`` (free text is asked of ``llm``)."""
    results: list[CheckResult] = []
    texts = [c for c in criteria if isinstance(c, str)]
    llm_verdicts: dict[str, tuple[bool, str]] = {}
    if texts:
        model = llm
        if model is None:
            raise ScenarioError(
                f"judge criteria {texts!r} are free text and need an LLM judge: pass "
                "judge(..., llm=...) or run(..., judge_llm=...), or use deterministic "
                "criteria (said, not_said, recovered_after_interruptions, metric)")
        llm_verdicts = await _ask(model, texts, transcript_for_judge(ctx))
    for c in criteria:
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
