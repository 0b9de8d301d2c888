"""The "interrupt user" recipe as a Pipecat pipeline, on bargein's offline services.

A frame processor after the STT appends every interim transcript to a buffer and counts the
sentences in it; at three it cuts in: ``TTSSpeakFrame("Sorry, can I pause you there?")``
marked uninterruptible, then a reply from a focused prompt (acknowledge, then redirect),
generated out of band with the LLM's ``run_inference`` and spoken uninterruptible too. Only
the services are bargein's (Silero VAD, espeak-ng TTS, a rule-based LLM, an offline STT).

    python examples/pipecat/interrupt_user.py      # a bargein scenario, in virtual time

Under bargein scenarios the pipeline is built by :func:`build` (``PipecatAdapter(build)``),
with the oracle STT. As in the LiveKit recipe, interim transcripts are cumulative (each one
repeats the turn so far), so appending every interim counts the same sentence several times
and the cut-in comes well before the third sentence; the scenario shows it on the recording.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _pipeline import print_verdict, worker
from pipecat.frames.frames import (
    BotStoppedSpeakingFrame,
    Frame,
    InterimTranscriptionFrame,
    LLMRunFrame,
    TTSSpeakFrame,
)
from pipecat.pipeline.worker import PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.services.llm_service import LLMService
from pipecat.turns.user_mute.base_user_mute_strategy import BaseUserMuteStrategy

from bargein import pipecat as offline
from bargein import scenario
from bargein.adapters.pipecat import PipecatAdapter, PipecatContext

MAX_SENTENCES = 3
CUT_IN = "Sorry, can I pause you there?"


def count_sentences(text: str) -> int:
    """Count the number of sentences in text"""
    return len(re.findall(r"[^.!?]+[.!?](?:\s|$)", text))


def uninterruptible(text: str) -> TTSSpeakFrame:
    """Speech that an interruption does not cut off."""
    frame = TTSSpeakFrame(text)
    frame.interruptible = False
    return frame


class InterruptWhenTooLong(FrameProcessor):
    """Counts the sentences of the interim transcripts; cuts in at ``MAX_SENTENCES``.

    ``cutting_in`` holds from the cut-in until its two speeches (the phrase, the reply)
    have played: meanwhile the caller's words are not counted, and :class:`MutedWhileCuttingIn`
    keeps them out of the conversation (as LiveKit discards audio over uninterruptible speech).
    """

    def __init__(self, llm: LLMService) -> None:
        super().__init__()
        self._llm = llm
        self._buffer = ""
        self._speeches_left = 0

    @property
    def cutting_in(self) -> bool:
        return self._speeches_left > 0

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        await self.push_frame(frame, direction)
        if isinstance(frame, BotStoppedSpeakingFrame) and self.cutting_in:
            self._speeches_left -= 1
        if not isinstance(frame, InterimTranscriptionFrame) or self.cutting_in:
            return
        self._buffer = f"{self._buffer} {frame.text}".strip()
        if count_sentences(self._buffer) < MAX_SENTENCES:
            return
        said, self._buffer = self._buffer, ""
        self._speeches_left = 1
        await self.push_frame(uninterruptible(CUT_IN))
        reply = await self._llm.run_inference(LLMContext([
            {"role": "system",
             "content": "You are an agent that politely interrupts users who speak too much. "
                        "Create a brief response that acknowledges what they've said so far, "
                        "then redirects to get more focused information."},
            {"role": "user", "content": f"User has been speaking and said: {said}"},
        ]))
        if reply:
            self._speeches_left += 1
            await self.push_frame(uninterruptible(reply))


class MutedWhileCuttingIn(BaseUserMuteStrategy):
    """Mutes the user (for Pipecat's user aggregator) while the bot cuts in."""

    def __init__(self, cut_in: InterruptWhenTooLong) -> None:
        super().__init__()
        self._cut_in = cut_in

    async def process_frame(self, frame: Frame) -> bool:
        await super().process_frame(frame)
        return self._cut_in.cutting_in


def build(context: PipecatContext) -> PipelineWorker:
    """The recipe's bot as a Pipecat pipeline on the scenario's room."""
    transport = context.transport
    llm = offline.LLM()
    llm_context = LLMContext([{
        "role": "system",
        "content": "You are a helpful agent that politely interrupts users when they talk too "
                   "much."}])
    cut_in = InterruptWhenTooLong(llm)
    user, assistant = LLMContextAggregatorPair(llm_context, user_params=LLMUserAggregatorParams(
        vad_analyzer=offline.VADAnalyzer(), user_mute_strategies=[MutedWhileCuttingIn(cut_in)]))
    bot = worker([transport.input(), offline.STT.oracle(), cut_in, user, llm,
                  offline.TTS(voice="en-gb+f3"), transport.output(), assistant],
                 context.sample_rate)

    @bot.event_handler("on_pipeline_started")
    async def on_started(_worker: PipelineWorker, _frame: object) -> None:
        llm_context.add_message({"role": "developer",
                                 "content": "Greet the caller and offer your help."})
        await bot.queue_frames([LLMRunFrame()])

    return bot


MONOLOGUE = (
    "Hi, I'm calling because my bill from last month looks wrong. "
    "I moved house in March and I changed my address on your website. "
    "My sister had the very same problem with her phone company last year. "
    "Anyway, the letters kept going to my old flat for weeks after that. "
    "The new tenants only passed some of them on to me. "
    "So now there is a late fee on my account and I don't know why."
)

SCENARIO = scenario.Scenario(
    "a talkative caller is cut in on",
    agent=lambda: PipecatAdapter(build, name="pipecat interrupt_user"),
    script=[scenario.agent(), scenario.user(MONOLOGUE), scenario.agent(),
            scenario.judge([scenario.said("pause you there")])],
)

if __name__ == "__main__":
    sys.exit(print_verdict(SCENARIO.run()))
