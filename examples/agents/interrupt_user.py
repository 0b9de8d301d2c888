"""An agent that politely cuts in when the caller talks for too long.

The session counts the sentences of the caller's running transcript (``UserTurnLimit``). On
the third sentence of one turn it calls the agent's ``on_user_turn_exceeded`` hook, which cuts
in with a short phrase and then answers: it acknowledges what the caller said and steers back
to the main question. Both speeches are uninterruptible, so talking on does not stop them.

    python examples/agents/interrupt_user.py               # simulated call, virtual time
    python examples/agents/interrupt_user.py --stt local   # real speech recognition
    python examples/agents/interrupt_user.py console       # talk to it live (--text: type)

After the greeting, the simulated caller launches into a six-sentence story. The timeline shows
the limit firing just after the third sentence, and the agent cutting in over the caller.
"""

from __future__ import annotations

import sys
from pathlib import Path

from _common import CallResult, Providers, SimulatedCall, main, run_call

from bargein.agent import (
    DEFAULT_CUT_IN_PHRASE,
    DEFAULT_REFOCUS_INSTRUCTIONS,
    Agent,
    AgentSession,
    UserTurnLimit,
)
from bargein.agent.events import UserTurnExceeded

MAX_SENTENCES = 3

CALLER_MONOLOGUE = (
    "Hi, I'm calling because my bill from last month looks wrong. "
    "I moved house in March and I changed my address on your website. "
    "My sister had the very same problem with her phone company last year. "
    "Anyway, the letters kept going to my old flat for weeks after that. "
    "The new tenants only passed some of them on to me. "
    "So now there is a late fee on my account and I don't know why."
)


class InterruptingAgent(Agent):
    """Greets the caller, and cuts in politely when one turn runs past the limit."""

    def __init__(self) -> None:
        super().__init__(
            instructions="You are a friendly support agent. When a caller talks for too long, "
            "you politely interrupt, acknowledge what they said and ask for the key point.",
        )

    async def on_enter(self) -> None:
        self.session.generate_reply(instructions="Greet the caller and offer your help.")

    async def on_user_turn_exceeded(self, event: UserTurnExceeded) -> None:
        # What the default hook does, spelled out: a short cut-in the caller cannot talk over,
        # then a reply (also uninterruptible) that acknowledges and refocuses. With no words
        # transcribed yet (a recognizer without interims), the turn is answered as usual
        # once they arrive.
        self.session.say(DEFAULT_CUT_IN_PHRASE, allow_interruptions=False)
        if not event.transcript:
            return
        self.session.generate_reply(
            user_input=event.transcript,
            instructions=DEFAULT_REFOCUS_INSTRUCTIONS,
            allow_interruptions=False,
        )


def build_session(providers: Providers) -> AgentSession:
    """The session of this recipe: the given providers and a three-sentence turn limit."""
    return AgentSession(
        vad=providers.vad, stt=providers.stt, llm=providers.llm, tts=providers.tts,
        turn_detector=providers.turn_detector,
        turn_limit=UserTurnLimit(max_sentences=MAX_SENTENCES),
    )


async def _caller(call: SimulatedCall) -> None:
    greeting = await call.speech(0)
    await greeting  # the caller waits for the greeting to finish...
    await call.pause(0.6)
    monologue = await call.say(CALLER_MONOLOGUE)  # ...then talks, and talks
    # A polite human stops shortly after the agent starts talking over them.
    call.stop_when_agent_speaks(monologue, after=monologue.start)
    await monologue.done()


async def simulate_call(out_dir: str | Path | None = None, stt: str = "oracle") -> CallResult:
    """Run the simulated call (inside ``bargein.sim.run_simulation``) and return its result.

    ``result.marks`` holds ``cut_in`` (the ``user_turn_exceeded`` event) and
    ``sentence_ends`` (recording times where the caller's sentences end, as scripted).
    """
    call = SimulatedCall(build_session, InterruptingAgent(), stt=stt)
    result = await run_call(call, _caller, out_dir)
    exceeded = result.named("user_turn_exceeded")
    result.marks["cut_in"] = exceeded[0] if exceeded else None
    monologue = result.utterances[0]
    result.marks["sentence_ends"] = [
        monologue.start + w.end for w in monologue.words if w.text.endswith((".", "!", "?"))
    ]
    return result


def summarize(result: CallResult) -> list[str]:
    """The measured timings of the cut-in, as printed by ``main``."""
    event = result.marks["cut_in"]
    if event is None:
        return ["the turn limit never fired",
                "note: this STT gives no punctuation in its interim transcripts, so sentences "
                "are counted on the final one, after the caller stopped (see docs/agents.md, "
                "'Turn limits')"]
    monologue = result.utterances[0]
    ends = result.marks["sentence_ends"]
    cut_in, reply = result.speeches[1], result.speeches[2]
    first_audio = result.room.first_agent_sample_after(event.time)
    lines = [
        "caller's sentence ends (scripted): " + ", ".join(f"{t:.2f}" for t in ends),
        f"turn limit fired at {event.time:.2f} s ({event.time - ends[MAX_SENTENCES - 1]:.2f} s "
        f"after sentence {MAX_SENTENCES} ended)",
    ]
    if first_audio is not None:
        when = ("while the caller was still talking" if first_audio < monologue.end
                else "after the caller had stopped")
        lines.append(f"cut-in audible at {first_audio:.2f} s ({first_audio - event.time:.2f} s "
                     f"after the limit), {when}; caller's speech ended at {monologue.end:.2f} s")
    if event.time >= monologue.end:
        lines.append("note: the limit was reached only after the caller had finished: this STT "
                     "gives no punctuation in its interim transcripts, so sentences are counted "
                     "on the final one (see docs/agents.md, 'Turn limits')")
    lines.append(f"cut-in interrupted: {cut_in.interrupted}; reply interrupted: "
                 f"{reply.interrupted}")
    lines.append(f"reply: {reply.text!r}")
    return lines


if __name__ == "__main__":
    sys.exit(main("interrupt_user", simulate_call, summarize))
