"""The "uninterruptable agent" recipe as a Pipecat pipeline, on bargein's offline services.

The bot opens with something long and boring and must not be interrupted. In Pipecat that
is a user mute strategy: ``AlwaysUserMuteStrategy`` mutes the user while the bot speaks, so
the caller's words over it are dropped and never start a turn or an interruption. Only the
services are bargein's (Silero VAD, espeak-ng TTS, a rule-based LLM taught one long and
boring answer, an offline STT): no key, no network.

    python examples/pipecat/uninterruptable.py      # a bargein scenario, in virtual time

Under bargein scenarios the pipeline is built by :func:`build`
(``PipecatAdapter(build)``), with the oracle STT. See
``tests/integration/test_pipecat_adapter.py`` and ``docs/pipecat.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _pipeline import print_verdict, worker
from pipecat.frames.frames import LLMRunFrame
from pipecat.pipeline.worker import PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.turns.user_mute import AlwaysUserMuteStrategy

from bargein import pipecat as offline
from bargein import scenario
from bargein.adapters.pipecat import PipecatAdapter, PipecatContext
from bargein.providers.rule_based_llm import Intent, default_support_intents

#: The rule-based LLM's answer to "say something long and boring" (it is not a model).
LONG_AND_BORING = (
    "Of course. Standard office paper in most of the world follows the A series of sizes. "
    "An A zero sheet has an area of exactly one square metre. "
    "Each smaller size is made by folding the one before it in half along its longer side. "
    "So A one is half of A zero, A two is half of A one, and so on down to A ten. "
    "Because the ratio of the sides stays the same, a page can be scaled from one size to the "
    "next without any cropping. That concludes my overview of paper sizes."
)


def offline_llm() -> offline.LLM:
    """The rule-based stand-in for the recipe's LLM, with one extra canned answer."""
    boring = Intent("long_and_boring", [r"\blong\b.*\b(dull|boring)\b"], LONG_AND_BORING,
                    priority=3)
    return offline.LLM(intents=[*default_support_intents(), boring])


def build(context: PipecatContext) -> PipelineWorker:
    """The recipe's bot as a Pipecat pipeline on the scenario's room."""
    transport = context.transport
    llm_context = LLMContext([{
        "role": "system",
        "content": "You are a helpful assistant communicating through voice who is not "
                   "interruptable."}])
    user, assistant = LLMContextAggregatorPair(llm_context, user_params=LLMUserAggregatorParams(
        vad_analyzer=offline.VADAnalyzer(),
        user_mute_strategies=[AlwaysUserMuteStrategy()],  # the user cannot talk over the bot
    ))
    bot = worker([transport.input(), offline.STT.oracle(), user, offline_llm(),
                  offline.TTS(voice="en-gb+f3"), transport.output(), assistant],
                 context.sample_rate)

    @bot.event_handler("on_pipeline_started")
    async def on_started(_worker: PipelineWorker, _frame: object) -> None:
        llm_context.add_message({
            "role": "user",
            "content": "Say something somewhat long and boring so I can test if you're "
                       "interruptable."})
        await bot.queue_frames([LLMRunFrame()])

    return bot


SCENARIO = scenario.Scenario(
    "the caller talks over the long answer; it plays to the end",
    agent=lambda: PipecatAdapter(build, name="pipecat uninterruptable"),
    script=[
        scenario.interrupt("Sorry to jump in, can you tell me about refunds instead?",
                           after=4.0, mode="vad"),
        scenario.agent(),
        scenario.expect_metric("yield_rate", at_most=0.0),
        scenario.judge([scenario.not_said("refund")]),
    ],
)

if __name__ == "__main__":
    sys.exit(print_verdict(SCENARIO.run()))
