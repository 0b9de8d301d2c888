"""The "interrupt user" LiveKit recipe, on bargein's offline providers.

The agent is written with the LiveKit Agents API as in the recipe: it appends every interim
transcript to a buffer, counts the sentences in it, and at three it cuts in with
``session.say("Sorry, can I pause you there?", allow_interruptions=False)`` followed by an
uninterruptible reply generated from a focused prompt (acknowledge, then redirect). Only
the providers differ: bargein's LiveKit plugins (Silero VAD, espeak-ng TTS, a rule-based LLM,
an offline STT) replace the cloud ones.

One change besides the providers: LiveKit Agents 1.8 has no ``session_start`` session
event, so the recipe's start-of-session handler (reset the buffer, generate the opening
reply) runs from the agent's ``on_enter``, which LiveKit calls when the session starts.

    python examples/livekit/interrupt_user.py console   # LiveKit's console (mic + speaker)

``console`` is LiveKit's own entry point; it needs PortAudio and an audio device, and uses
pocketsphinx + Whisper (``plugins.STT.local()``). Under bargein scenarios the agent is built
by :func:`build` (``LiveKitAgentAdapter(build)``), with the oracle STT.

Note what the recipe's counting relies on: it appends every interim transcript to the buffer
and counts sentence ends in it. Interim transcripts are cumulative only within a sentence
here (the STT finalizes each sentence, as streaming cloud STTs do at a pause), and only the
last interim of a sentence carries its period, so each sentence is counted once: the cut-in
comes just after the third sentence, while the caller is in the fourth (the test
``test_talkative_caller_is_cut_in_on_after_the_third_sentence`` checks it on the recording).
With an STT whose interims run across sentences, the same counting would count a sentence
again with every later interim and cut in early.
"""

from __future__ import annotations

import asyncio
import logging
import re

from livekit.agents import Agent, AgentServer, AgentSession, JobContext, JobProcess, cli
from livekit.agents import stt as lk_stt
from livekit.agents.llm import ChatContext, ChatMessage

from bargein.adapters import BuildContext
from bargein.livekit import plugins

logger = logging.getLogger("interrupt-user")
logger.setLevel(logging.INFO)

MAX_SENTENCES = 3
CUT_IN = "Sorry, can I pause you there?"


def count_sentences(text: str) -> int:
    """Count the number of sentences in text"""
    sentences = re.findall(r"[^.!?]+[.!?](?:\s|$)", text)
    return len(sentences)


class InterruptingAgent(Agent):
    """``Agent(instructions=...)`` of the recipe; ``on_enter`` stands in for the recipe's
    ``session_start`` handler (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(
            instructions="You are a helpful agent that politely interrupts users when they "
                         "talk too much.")
        self.on_session_start = lambda: None

    async def on_enter(self) -> None:
        self.on_session_start()


def create_session(*, stt: lk_stt.STT, vad: plugins.VAD) -> tuple[Agent, AgentSession]:
    """The recipe's agent, session and handlers; only the providers are bargein's."""
    session = AgentSession(
        stt=stt,
        llm=plugins.LLM(),
        tts=plugins.TTS(voice="en-gb+f3"),
        vad=vad,
    )
    agent = InterruptingAgent()

    async def handle_interruption(context: ChatContext) -> None:
        await agent.update_chat_ctx(context)
        session.say(CUT_IN, allow_interruptions=False)
        await session.generate_reply(allow_interruptions=False)

    transcript_buffer = ""

    @session.on("user_input_transcribed")
    def on_transcript(transcript) -> None:  # type: ignore[no-untyped-def]
        nonlocal transcript_buffer
        if transcript.is_final:
            logger.info(f"Received final transcript: {transcript.transcript}")
            return
        transcript_buffer += " " + transcript.transcript
        transcript_buffer = transcript_buffer.strip()
        logger.info(f"Buffer: {transcript_buffer}")
        sentence_count = count_sentences(transcript_buffer)
        logger.info(f"Sentence count: {sentence_count}")
        if sentence_count >= MAX_SENTENCES:
            logger.info("Interrupting user...")
            interruption_ctx = ChatContext([
                ChatMessage(
                    type="message",
                    role="system",
                    content=["You are an agent that politely interrupts users who speak too "
                             "much. Create a brief response that acknowledges what they've "
                             "said so far, then redirects to get more focused information."],
                ),
                ChatMessage(type="message", role="user",
                            content=[f"User has been speaking and said: {transcript_buffer}"]),
            ])
            asyncio.create_task(handle_interruption(interruption_ctx))  # noqa: RUF006
            transcript_buffer = ""

    def on_session_start() -> None:
        nonlocal transcript_buffer
        transcript_buffer = ""
        session.generate_reply()

    agent.on_session_start = on_session_start
    return agent, session


def build(context: BuildContext) -> tuple[Agent, AgentSession]:
    """Agent and session for ``LiveKitAgentAdapter`` (the STT reads the scenario's truth)."""
    return create_session(stt=plugins.OracleSTT(), vad=plugins.VAD.load())


server = AgentServer()


def prewarm(proc: JobProcess) -> None:
    proc.userdata["vad"] = plugins.VAD.load()


server.setup_fnc = prewarm


@server.rtc_session()
async def entrypoint(ctx: JobContext) -> None:
    agent, session = create_session(stt=plugins.STT.local(), vad=ctx.proc.userdata["vad"])
    await session.start(agent=agent, room=ctx.room)
    await ctx.connect()


if __name__ == "__main__":
    cli.run_app(server)
