"""A simulated call for runtime tests: real Silero VAD on real espeak speech in a Room.

The call is the SDK's own harness (:class:`bargein.scenario.SimulatedCall`) around bargein's
agent, reached through its in-process adapter; the tests also hold the session to drive it
directly. The oracle STT gives transcripts from the words the user really said (explicitly,
so turn-taking is tested apart from recognition errors); everything else is the real stack.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from bargein.adapters import BargeinAgentAdapter, BuildContext
from bargein.agent import Agent, AgentSession, InterruptionOptions, UserTurnLimit
from bargein.providers.oracle_stt import GroundTruth, OracleSTT
from bargein.providers.tts import SynthesizedSpeech
from bargein.scenario import SimulatedCall, UserSpeech
from bargein.sim import Room, Utterance


@dataclass
class Call:
    """A running simulated call, the session under test, and every session event."""

    sim: SimulatedCall
    session: AgentSession
    events: list[tuple[float, str, Any]] = field(default_factory=list)

    @property
    def room(self) -> Room:
        return self.sim.room

    @property
    def truth(self) -> GroundTruth:
        return self.sim.truth

    async def user_says(self, text: str, *, at: float | None = None,
                        voice: str = "en-us+m3") -> tuple[Utterance, SynthesizedSpeech]:
        from bargein.providers.espeak_tts import EspeakTTS

        speech = await EspeakTTS(voice=voice).synthesize(text)
        if at is not None and at > self.room.time:
            await asyncio.sleep(at - self.room.time)
        said = self.sim.say(UserSpeech.synthesized(speech))
        return said.room_utterance, speech

    def named(self, name: str) -> list[Any]:
        return [e for _, n, e in self.events if n == name]

    async def close(self) -> None:
        await self.sim.close()


EVENTS = ("user_input_transcribed", "agent_state_changed", "user_state_changed",
          "speech_created", "agent_false_interruption", "agent_interrupted", "agent_words_heard",
          "conversation_item_added", "user_turn_exceeded", "metrics", "error")


async def start_call(agent: Agent | None = None, *, interruption: InterruptionOptions | None = None,
                     turn_limit: UserTurnLimit | None = None, llm: Any = None, tts: Any = None,
                     interim_results: bool = True, stt: Any = None,
                     stt_factory: Any = None, vad: Any = None, wrap_input: Any = None,
                     **session_options: Any) -> Call:
    """A call with the real stack; the STT is the oracle unless ``stt`` (a recognizer) or
    ``stt_factory(truth)`` gives another; ``wrap_input(audio_input)`` gives the input the
    session listens on (a faulty transport)."""
    from bargein.providers.espeak_tts import EspeakTTS
    from bargein.providers.rule_based_llm import RuleBasedLLM
    from bargein.providers.silero_vad import SileroVAD

    events: list[tuple[float, str, Any]] = []
    built: list[AgentSession] = []

    def build(ctx: BuildContext) -> tuple[Agent, AgentSession]:
        assert ctx.truth is not None
        recognizer = stt or (stt_factory or (
            lambda t: OracleSTT(t, interim_results=interim_results)))(ctx.truth)
        session = AgentSession(
            vad=vad or SileroVAD(), stt=recognizer,
            llm=llm or RuleBasedLLM(), tts=tts or EspeakTTS(voice="en-us"),
            interruption=interruption, turn_limit=turn_limit, **session_options,
        )
        for name in EVENTS:
            session.on(name, lambda e, n=name: events.append((session.time, n, e)))
        if wrap_input is not None:
            start = session.start

            async def start_on_wrapped_input(agent: Agent, *, audio_input: Any,
                                             audio_output: Any) -> None:
                await start(agent, audio_input=wrap_input(audio_input),
                            audio_output=audio_output)

            session.start = start_on_wrapped_input  # type: ignore[method-assign]
        built.append(session)
        return agent or Agent(instructions="You are a support agent."), session

    sim = SimulatedCall(BargeinAgentAdapter(build))
    await sim.start()
    return Call(sim, built[0], events)


@pytest.fixture
def make_call():
    return start_call
