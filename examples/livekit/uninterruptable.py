"""The "uninterruptable agent" LiveKit recipe, on bargein's offline providers.

The agent is written with the LiveKit Agents API exactly as in the recipe: an ``Agent`` with
``allow_interruptions=False`` whose ``on_enter`` asks for something long and boring, in a
session with preemptive generation. Only the providers differ: bargein's LiveKit plugins
(Silero VAD, espeak-ng TTS, a rule-based LLM taught one long and boring answer, and an STT
that works offline) replace the cloud ones, so no key or network is needed.

    python examples/livekit/uninterruptable.py console   # LiveKit's console (mic + speaker)

``console`` is LiveKit's own entry point; it needs PortAudio and an audio device, and uses
pocketsphinx + Whisper (``plugins.STT.local()``). Under bargein scenarios the agent is built
by :func:`build` (``LiveKitAgentAdapter(build)``); there the STT is the oracle, which reads
the scenario's known words. See ``tests/integration/test_livekit_adapter.py`` and
``docs/livekit.md``.
"""

from __future__ import annotations

from livekit.agents import Agent, AgentServer, AgentSession, JobContext, JobProcess, cli
from livekit.agents import stt as lk_stt

from bargein.adapters import BuildContext
from bargein.livekit import plugins
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


class UninterruptableAgent(Agent):
    def __init__(self) -> None:
        super().__init__(
            instructions="""
            You are a helpful assistant communicating through voice who is not interruptable.
            """,
            allow_interruptions=False,
        )

    async def on_enter(self) -> None:
        self.session.generate_reply(
            user_input="Say something somewhat long and boring so I can test if you're "
                       "interruptable.")


def offline_llm() -> plugins.LLM:
    """The rule-based stand-in for the recipe's LLM, with one extra canned answer."""
    boring = Intent("long_and_boring", [r"\blong\b.*\b(dull|boring)\b"], LONG_AND_BORING,
                    priority=3)
    return plugins.LLM(intents=[*default_support_intents(), boring])


def create_session(*, stt: lk_stt.STT, vad: plugins.VAD) -> AgentSession:
    """The recipe's session; only the providers are bargein's offline plugins."""
    return AgentSession(
        stt=stt,
        llm=offline_llm(),
        tts=plugins.TTS(voice="en-gb+f3"),
        vad=vad,
        preemptive_generation=True,
    )


def build(context: BuildContext) -> tuple[Agent, AgentSession]:
    """Agent and session for ``LiveKitAgentAdapter`` (the STT reads the scenario's truth)."""
    return UninterruptableAgent(), create_session(stt=plugins.OracleSTT(),
                                                  vad=plugins.VAD.load())


server = AgentServer()


def prewarm(proc: JobProcess) -> None:
    proc.userdata["vad"] = plugins.VAD.load()


server.setup_fnc = prewarm


@server.rtc_session()
async def entrypoint(ctx: JobContext) -> None:
    ctx.log_context_fields = {"room": ctx.room.name}
    session = create_session(stt=plugins.STT.local(), vad=ctx.proc.userdata["vad"])
    await session.start(agent=UninterruptableAgent(), room=ctx.room)
    await ctx.connect()


if __name__ == "__main__":
    cli.run_app(server)
