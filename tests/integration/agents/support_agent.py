"""The agent behind the Realtime interop tests: the rule-based support responder, with a
barge-in that the VAD alone decides (half a second of voice stops the agent for good), so a
recognizer slowed down by a loaded machine cannot turn a barge-in into a resumed speech."""

from __future__ import annotations

from bargein.agent import Agent, AgentSession, InterruptionOptions


class SupportAgent(Agent):
    """Greets the caller and answers support questions."""

    def __init__(self) -> None:
        super().__init__(instructions="You are a friendly support agent.")

    async def on_enter(self) -> None:
        self.session.generate_reply(instructions="Greet the caller and offer your help.")


def build_session(providers) -> AgentSession:  # type: ignore[no-untyped-def]
    """Real providers; barge-in by voice alone."""
    return AgentSession(
        vad=providers.vad, stt=providers.stt, llm=providers.llm, tts=providers.tts,
        interruption=InterruptionOptions(min_duration=0.5, resume_false_interruption=False),
    )
