"""The ``proceed`` step: the simulated user leads the conversation, barging in at random.

It picks up where the script left off: a caller line (or barge-in) the agent has not answered
yet is answered first, so two caller lines never run together into one turn. Then each
exchange is a line written by the user simulator and the agent's reply. Every agent reply in
the step may be cut, per the step's :class:`~bargein.scenario.simulator.InterruptionConfig`
(or the simulator's ``interrupt_probability``), after a seeded random delay of *heard* agent
speech.

``proceed(turns=N)`` leads N exchanges. An open-ended ``proceed()`` asks the judge after every
reply: once the scenario's own criteria are all met, the judge has decided and the scenario
ends as a success (:class:`JudgeDecided`); otherwise it goes on until the conversation holds
``max_turns`` caller turns, and the script continues.
"""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING

from bargein.errors import ScenarioError
from bargein.scenario.expectations import CheckResult
from bargein.scenario.judging import evaluate_criteria, needs_llm
from bargein.scenario.outcome import check_context
from bargein.scenario.simulator import InterruptionConfig
from bargein.scenario.steps import AgentStep, ProceedStep, StepFailed

if TYPE_CHECKING:
    from bargein.scenario.runner import ScenarioRun

__all__ = ["JudgeDecided", "caller_turns", "run_proceed"]


class JudgeDecided(Exception):
    """An open-ended ``proceed()`` found every one of the scenario's criteria met."""

    def __init__(self, results: list[CheckResult], turns: int) -> None:
        super().__init__(f"the judge's criteria were all met after {turns} caller turn(s)")
        self.results, self.turns = results, turns


def caller_turns(run: ScenarioRun) -> int:
    """Caller turns so far: lines that opened an exchange (barge-ins and backchannels are
    not turns of their own)."""
    return sum(1 for u in run.utterances if not u.barge_in and not u.backchannel)


async def run_proceed(run: ScenarioRun, index: int, step: ProceedStep) -> None:
    """Run ``step`` (step number ``index``) on ``run`` (see the module docstring)."""
    config = step.interruptions or run.user.interruptions()
    if config is not None and config.seed is not None:
        rng = random.Random(config.seed)
    else:
        rng = random.Random(f"{run.seed}/{index}")
    open_ended = step.turns is None
    reply = 0
    if run.reply_pending:  # the script's last line has not been answered yet
        await _agent_reply(run, index, config, rng, reply, answers="script")
        reply += 1
        if open_ended:
            await _ask_judge(run)
    lines = 0
    while _more(run, step, lines):
        line = await run.user.write_line(run.conversation(), rng)
        await run.say(await run.synthesize(line), barge_in=False)
        lines += 1
        await _agent_reply(run, index, config, rng, reply)
        reply += 1
        if open_ended:
            await _ask_judge(run)
    if open_ended:
        run.timeline.add(run.room.time, "proceed_max_turns", step=index,
                         max_turns=run.max_turns)


def _more(run: ScenarioRun, step: ProceedStep, lines: int) -> bool:
    if step.turns is not None:
        return lines < step.turns
    return caller_turns(run) < run.max_turns


async def _ask_judge(run: ScenarioRun) -> None:
    """End the scenario if the judge can judge now and finds every criterion met."""
    criteria = run.own_criteria
    if not criteria or (needs_llm(criteria) and run.judge_llm is None):
        return
    try:
        results = await evaluate_criteria(criteria, check_context(run.active_call), run.judge_llm)
    except ScenarioError as exc:  # e.g. an LLM judge that does not answer in JSON
        raise StepFailed(f"the judge could not decide during proceed(): {exc}") from exc
    if all(r.passed for r in results):
        turns = caller_turns(run)
        run.timeline.add(run.room.time, "judge_decided", turns=turns)
        raise JudgeDecided(results, turns)


async def _agent_reply(run: ScenarioRun, index: int, config: InterruptionConfig | None,
                       rng: random.Random, reply: int, answers: str | None = None) -> None:
    """The agent's reply, cut or not per the seeded draw."""
    roll, delay, phrase = rng.random(), 0.0, ""
    if config is not None:
        delay = rng.uniform(*config.delay_range)
        phrase = rng.choice(config.phrases)
    extra = {"answers": answers} if answers else {}
    if config is None or roll >= config.probability:
        run.timeline.add(run.room.time, "proceed_turn", step=index, turn=reply,
                         interrupt=False, **extra)
        await run.wait_reply(index, AgentStep())
        return
    run.timeline.add(run.room.time, "proceed_turn", step=index, turn=reply, interrupt=True,
                     delay=delay, **extra)
    await _random_barge_in(run, index, config, delay, phrase, rng)


async def _random_barge_in(run: ScenarioRun, index: int, config: InterruptionConfig,
                           delay: float, phrase: str, rng: random.Random) -> None:
    since = run.reply_since()
    moment = run.hearing.heard_seconds(delay, since)
    finished = asyncio.ensure_future(run.wait_reply(index, AgentStep(), since=since))
    done, _ = await asyncio.wait([moment, finished], return_when=asyncio.FIRST_COMPLETED)
    if moment not in done:  # the reply was shorter than the delay: nothing to cut
        run.hearing.cancel(moment)
        finished.result()  # a reply that never came fails the run here
        run.timeline.add(run.room.time, "interrupt_skipped", step=index,
                         reason="reply ended before the delay")
        return
    finished.cancel()
    fire_at = moment.result()
    if fire_at > run.room.time:
        await asyncio.sleep(fire_at - run.room.time)
    heard = run.hearing.words_heard_before(run.room.time, since)
    phrase = await run.user.interjection(config, heard, run.conversation(), rng, phrase)
    speech = await run.synthesize(phrase)
    resolved = run.mode("auto", index)
    run.timeline.add(run.room.time, "interrupt_fired", trigger="after", mode=resolved,
                     content=phrase, delay=delay)
    if resolved == "native":
        await run.adapter.interrupt()
    await run.say(speech, barge_in=True, trigger="after", mode=resolved)
    await run.wait_reply(index, AgentStep())
