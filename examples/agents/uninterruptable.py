"""An agent that cannot be interrupted: whatever the caller says, its reply plays to the end.

``Agent(allow_interruptions=False)`` makes every speech of this agent uninterruptible. To test
it straight away, ``on_enter`` asks for a long, dull reply as if the caller had requested one.
While that reply plays, the caller's speech is discarded by default
(``InterruptionOptions(discard_audio_if_uninterruptible=True)``): it is neither a barge-in nor
the start of the next turn. ``--keep`` keeps it instead and the agent answers it afterwards.

    python examples/agents/uninterruptable.py               # simulated call, virtual time
    python examples/agents/uninterruptable.py --keep        # answer what was said over it
    python examples/agents/uninterruptable.py --stt local   # real speech recognition
    python examples/agents/uninterruptable.py console       # talk to it live (--text: type)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _common import CallResult, Providers, SimulatedCall, main, run_call

from bargein.agent import Agent, AgentSession, InterruptionOptions
from bargein.providers.rule_based_llm import Intent, RuleBasedLLM, default_support_intents

LONG_REQUEST = "Tell me something long and rather dull, so I can check whether I can cut you off."

LONG_AND_DULL = (
    "Certainly. Standard office paper in most of the world follows the A series of sizes. "
    "An A zero sheet has an area of exactly one square metre. "
    "Each smaller size is made by folding the one before it in half along its longer side. "
    "So A one is half of A zero, A two is half of A one, and so on down to A ten. "
    "Because the ratio of the sides stays the same, a page can be scaled from one size to the "
    "next without any cropping. The common A four sheet measures two hundred and ten by two "
    "hundred and ninety seven millimetres. That concludes my overview of paper sizes."
)

CALLER_OVER_IT = "Sorry to jump in, can you tell me about refunds instead?"


class UninterruptableAgent(Agent):
    """A voice assistant whose speech always plays to the end."""

    def __init__(self) -> None:
        super().__init__(
            instructions="You are a helpful voice assistant. You cannot be interrupted.",
            allow_interruptions=False,
        )

    async def on_enter(self) -> None:
        self.session.generate_reply(user_input=LONG_REQUEST)


def long_and_dull_llm() -> RuleBasedLLM:
    """The rule-based stand-in LLM, taught one more canned reply: the long and dull one."""
    dull = Intent("long_and_dull", [r"\blong\b.*\b(dull|boring)\b"], LONG_AND_DULL, priority=3)
    return RuleBasedLLM([*default_support_intents(), dull])


#: The console (`bargein console`) builds its LLM with this: the long and dull one.
build_llm = long_and_dull_llm


def build_session(providers: Providers, *,
                  discard_audio_if_uninterruptible: bool = True) -> AgentSession:
    """The session of this recipe: the given providers, default interruption options
    (speech heard during uninterruptible speech is dropped unless told otherwise)."""
    return AgentSession(
        vad=providers.vad, stt=providers.stt, llm=providers.llm, tts=providers.tts,
        turn_detector=providers.turn_detector,
        interruption=InterruptionOptions(
            discard_audio_if_uninterruptible=discard_audio_if_uninterruptible),
    )


async def _caller(call: SimulatedCall) -> None:
    reply = await call.speech(0)
    while reply.started_at is None:  # wait for the reply to become audible...
        await call.pause(0.1)
    await call.pause(4.0)  # ...listen for a while, then talk over it
    over_it = await call.say(CALLER_OVER_IT)
    await over_it.done()
    await reply


async def simulate_call(out_dir: str | Path | None = None, stt: str = "oracle", *,
                        discard_audio_if_uninterruptible: bool = True) -> CallResult:
    """Run the simulated call (inside ``bargein.sim.run_simulation``) and return its result.

    ``result.marks["reply"]`` is the long reply's SpeechHandle and ``result.marks["barge_in"]``
    the caller's utterance spoken over it.
    """
    agent = UninterruptableAgent()

    def build(providers: Providers) -> AgentSession:
        return build_session(
            providers, discard_audio_if_uninterruptible=discard_audio_if_uninterruptible)

    call = SimulatedCall(build, agent, stt=stt, llm=long_and_dull_llm())
    result = await run_call(call, _caller, out_dir)
    result.marks["reply"] = result.speeches[0]
    result.marks["barge_in"] = result.utterances[0]
    return result


def summarize(result: CallResult) -> list[str]:
    """The measured facts of the ignored barge-in, as printed by ``main``."""
    reply, over = result.marks["reply"], result.marks["barge_in"]
    gaps = [(a, b) for a, b in result.room.agent_audible_spans()
            if a < over.end and b > over.start]
    answered = [m for m in result.history if m.role == "user" and "refund" in m.content.lower()]
    return [
        f"long reply played {reply.started_at:.2f}-{reply.ended_at:.2f} s, "
        f"interrupted: {reply.interrupted}",
        f"caller talked over it {over.start:.2f}-{over.end:.2f} s; agent audible then: "
        + ", ".join(f"{a:.2f}-{b:.2f}" for a, b in gaps),
        "caller's words kept for the next turn: " + ("yes" if answered else "no (discarded)"),
        f"speeches after the long reply: {len(result.speeches) - 1}",
    ]


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--keep", dest="discard_audio_if_uninterruptible", action="store_false",
                        help="keep what the caller says over the reply and answer it afterwards")


if __name__ == "__main__":
    sys.exit(main("uninterruptable", simulate_call, summarize, add_arguments=_add_arguments))
