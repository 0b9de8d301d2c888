"""A finished call's outcome: checks evaluated where the script placed them, the verdict, and
the :class:`~bargein.scenario.result.ScenarioResult` with its timeline, metrics and recording.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from bargein.errors import ScenarioError
from bargein.scenario.call import SimulatedCall
from bargein.scenario.expectations import CheckContext, CheckResult, ExpectStep
from bargein.scenario.judging import Criteria, JudgeStep, evaluate
from bargein.scenario.metrics import UserUtterance
from bargein.scenario.result import Recording, ScenarioResult, Segment
from bargein.scenario.steps import Step, VerdictStep
from bargein.scenario.turns import AgentTurn

__all__ = ["build_result", "check_context", "segments"]


def check_context(call: SimulatedCall, anchor: tuple[int, int] | None = None, *,
                  turns: list[AgentTurn] | None = None) -> CheckContext:
    """What checks and criteria look at, as the call stands now. ``anchor``: the barge-ins
    and utterances made before the step that checks (default: all so far)."""
    spans = call.agent_spans()
    if turns is None:
        turns = call.agent_turns(spans)
    if anchor is None:
        anchor = (sum(u.barge_in for u in call.utterances), len(call.utterances))
    return CheckContext(
        metrics=call.metrics(), utterances=call.utterances, agent_messages=call.agent_messages,
        user_spans=[s for u in call.utterances for s in u.speech_spans()], agent_spans=spans,
        barge_ins_before=anchor[0], utterances_before=anchor[1], timeline=call.timeline,
        agent_turns=turns)


async def build_result(call: SimulatedCall, *, name: str, description: str, steps: list[Step],
                       anchors: dict[int, tuple[int, int]], judge_llm: Any, seed: int,
                       live: bool, verdict: VerdictStep | None, error: str | None,
                       own_criteria: Criteria = (),
                       decided: list[CheckResult] | None = None) -> ScenarioResult:
    """The result of a closed ``call`` that ran ``steps``.

    ``anchors`` maps the index of each check or judge step the run reached to the number of
    barge-ins and of utterances made before it (what the check refers to). ``own_criteria``
    are what a bare ``judge()`` judges; ``decided``, the verdicts of an open-ended
    ``proceed()`` that found them all met (the judge ended the scenario). The verdict, in
    order: an ``error`` fails; ``fail()`` fails; a failed check fails; else success.
    """
    room, timeline = call.room, call.timeline
    caps = call.adapter.capabilities
    turns = call.agent_turns()
    for turn in turns:
        extra = {"protected": True} if turn.protected else {}
        timeline.add(turn.start, "agent_started_speaking", **extra)
        timeline.add(turn.end, "agent_stopped_speaking", **extra)
    whole = check_context(call, turns=turns)
    checks: list[CheckResult] = []
    for index, step in enumerate(steps, 1):
        if index not in anchors:
            continue
        ctx = dataclasses.replace(whole, barge_ins_before=anchors[index][0],
                                  utterances_before=anchors[index][1])
        if isinstance(step, ExpectStep):
            ok, detail = step.check(ctx)
            checks.append(CheckResult(step.description, ok, detail))
        elif isinstance(step, JudgeStep) and error is None:
            try:
                checks += await evaluate(step, ctx, judge_llm, own_criteria)
            except ScenarioError as exc:
                checks.append(CheckResult(f"judge: {step.describe()}", False, str(exc)))
    checks += decided or []
    metrics = whole.metrics
    failed = [c for c in checks if not c.passed]
    if error is not None:
        success, reasoning = False, error
    elif verdict is not None and not verdict.success:
        success, reasoning = False, verdict.reasoning or "the script called fail()"
    elif failed:
        success = False
        reasoning = "; ".join(f"{c.description}: {c.detail}" for c in failed)
    else:
        success = True
        reasoning = (verdict.reasoning if verdict is not None and verdict.reasoning else
                     f"all {len(checks)} checks passed" if checks else "script completed")
    recording = Recording(room.recorder.stereo(), room.sample_rate,
                          segments(turns, call.utterances, call.agent_messages))
    return ScenarioResult(
        name=name, description=description, success=success, reasoning=reasoning,
        adapter=call.adapter.name, capabilities=caps.as_row(), seed=seed, live=live,
        timeline=timeline, metrics=metrics, checks=checks, utterances=call.utterances,
        recording=recording, error=error)


def segments(turns: list[AgentTurn], utterances: list[UserUtterance],
             messages: list[tuple[float, str, bool]]) -> list[Segment]:
    """The turns on the recording, both parties, in time order (agent turns with the text of
    the first message reported after they began)."""
    parts = [("user", u.onset, u.end, u.text) for u in utterances]
    for turn in turns:
        text = next((t for at, t, _ in messages if turn.start <= at), "")
        parts.append(("agent", turn.start, turn.end, text))
    parts.sort(key=lambda t: (t[1], t[0]))
    return [Segment(party, i + 1, start, end, text)
            for i, (party, start, end, text) in enumerate(parts)]
