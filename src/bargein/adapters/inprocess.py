"""The in-process adapter: a bargein Agent and AgentSession under test, in the same loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bargein.adapters.base import AdapterLink, AgentAdapter, Capabilities
from bargein.agent.agent import Agent
from bargein.agent.session import AgentSession
from bargein.providers.oracle_stt import GroundTruth


@dataclass(frozen=True)
class BuildContext:
    """Given to the factory that builds the agent under test.

    ``truth`` is the scenario's ground truth of what the simulated user says; pass it to an
    :class:`~bargein.providers.oracle_stt.OracleSTT` to test turn-taking without recognition
    errors (an explicit choice: real STTs ignore it).
    """

    sample_rate: int
    truth: GroundTruth | None


Factory = Callable[[BuildContext], tuple[Agent, AgentSession]]

_FULL = Capabilities(streaming_transcripts=True, native_vad=True, interruption=True)
_LIMITED = Capabilities(streaming_transcripts=False, native_vad=True, interruption=False)


class BargeinAgentAdapter(AgentAdapter):
    """Runs a bargein agent built by ``factory(context) -> (agent, session)``.

    ``mode="full"`` declares every capability the runtime has: streaming transcripts (words as
    they are heard), native VAD and a native cancel signal (``session.interrupt()``).
    ``mode="limited"`` hides the transcripts and the cancel signal, like a black-box agent on a
    phone line: barge-in then has to work through the agent's own VAD on the audio alone.

    Both modes report the boundaries of each speech (``agent_speech``, with ``protected`` for
    ``allow_interruptions=False`` and the ``source`` that made it), the messages entering the
    history (``agent_message``, ``user_message``, and the whole ``history`` when it closes),
    the caller's state as the agent's VAD sees it (``user_state``), turn-limit cut-ins
    (``user_turn_exceeded``) and transcripts of words the agent discarded because they were
    said over protected speech (``user_transcript`` with ``discarded=True``).
    """

    def __init__(self, factory: Factory, *, mode: Literal["full", "limited"] = "full",
                 name: str | None = None) -> None:
        if mode not in ("full", "limited"):
            raise ValueError(f"mode must be 'full' or 'limited', got {mode!r}")
        self.factory = factory
        self.mode = mode
        self.name = name or f"bargein ({mode})"
        self.capabilities = _FULL if mode == "full" else _LIMITED
        self.session: AgentSession | None = None
        self.agent: Agent | None = None
        self._link: AdapterLink | None = None

    async def start(self, link: AdapterLink) -> None:
        agent, session = self.factory(BuildContext(link.sample_rate, link.truth))
        self.agent, self.session, self._link = agent, session, link

        def report(kind: str, *, time: float, **fields: object) -> None:
            # session times -> recording times (the session started a moment after the room)
            link.report(kind, time=link.now() - (session.time - time), **fields)

        if self.capabilities.streaming_transcripts:
            session.on("agent_words_heard", lambda e: report(
                "agent_words", time=e.time, words=e.words, text=e.heard_text))
        session.on("agent_state_changed", lambda e: report(
            "agent_state", time=e.time, state=e.new_state))

        def on_transcript(event) -> None:  # type: ignore[no-untyped-def]
            # said over uninterruptible speech and dropped: the turn is answered by design
            flag = {"discarded": True} if event.discarded else {}
            report("user_transcript", time=event.time, text=event.transcript,
                   final=event.is_final, **flag)

        session.on("user_input_transcribed", on_transcript)

        def on_item(event) -> None:  # type: ignore[no-untyped-def]
            if event.item.role == "assistant":
                report("agent_message", time=event.time, text=event.item.content,
                       interrupted=event.item.interrupted)
            elif event.item.role == "user":
                report("user_message", time=event.time, text=event.item.content)

        session.on("conversation_item_added", on_item)
        session.on("agent_interrupted", lambda e: report(
            "agent_interrupted", time=e.time, reason=e.reason))
        session.on("agent_false_interruption", lambda e: report(
            "agent_false_interruption", time=e.time, resumed=e.resumed))
        session.on("user_state_changed", lambda e: report(
            "user_state", time=e.time, state=e.new_state))
        session.on("user_turn_exceeded", lambda e: report(
            "user_turn_exceeded", time=e.time, reason=e.reason, transcript=e.transcript))

        created = [0]  # speeches are numbered per run, so a timeline is the same every run

        def on_speech(event) -> None:  # type: ignore[no-untyped-def]
            created[0] += 1
            sid = f"speech-{created[0]}"
            event.speech.add_done_callback(lambda handle: speech_boundaries(handle, sid))

        def speech_boundaries(handle, sid: str) -> None:  # type: ignore[no-untyped-def]
            if handle.started_at is None:
                return  # dropped before a frame played: nothing was heard
            protected = not handle.allow_interruptions
            report("agent_speech", time=handle.started_at, id=sid, phase="started",
                   protected=protected, source=handle.source)
            end = handle.ended_at if handle.ended_at is not None else session.time
            report("agent_speech", time=end, id=sid, phase="ended",
                   protected=protected, interrupted=handle.interrupted, source=handle.source)

        session.on("speech_created", on_speech)
        session.on("error", lambda e: report(
            "error", time=e.time, source=e.source, message=str(e.error)))
        await session.start(agent, audio_input=link.audio_input,
                            audio_output=link.audio_output)

    async def interrupt(self) -> None:
        if self.mode == "limited" or self.session is None:
            await super().interrupt()
            return
        self.session.interrupt()

    async def close(self) -> None:
        if self.session is not None and self._link is not None:
            await self.session.aclose()
            # the history as it ended: a late final may have updated a user message since
            # it was reported
            self._link.report("history", messages=[
                {"role": m.role, "text": m.content, "interrupted": m.interrupted}
                for m in self.session.history if m.role in ("user", "assistant")])
