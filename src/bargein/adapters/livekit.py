"""The LiveKit Agents adapter: a LiveKit ``AgentSession`` under test, in-process, offline.

:class:`LiveKitAgentAdapter` builds a LiveKit agent and session with a factory (the same
``factory(BuildContext) -> (agent, session)`` shape as
:class:`~bargein.adapters.BargeinAgentAdapter`) and starts the session with **no room and no
server**: its audio input is the scenario room's microphone, its audio output the room's
speaker. LiveKit's own machinery runs unchanged on top of them:

- the output implements LiveKit's ``AudioOutput``: it reports ``playback_started`` when the
  first sample of a speech is audible, ``playback_finished`` with the *real* played position
  (the room's playout, not the amount of audio handed over) and whether it was cut, and
  supports ``pause()`` / ``resume()``, so LiveKit's false-interruption resume works as in a
  room;
- it is wrapped, as LiveKit's room I/O does, in LiveKit's ``TranscriptSynchronizer``, so the
  assistant message LiveKit records on an interruption is the one it would record in
  production (its own estimate of what was heard);
- the words the user really heard come from the TTS word timings that
  :class:`bargein.livekit.plugins.TTS` attaches to its audio, reported as ``agent_words`` the
  moment each word starts playing. The scenario metrics compare them with LiveKit's
  interrupted message (``truncation_accuracy``).

Time: LiveKit reads the wall clock (the time module's ``time()``, ``perf_counter()``) in places
besides the event loop. While an adapter runs on bargein's virtual-time loop, those reads
inside ``livekit.*`` modules are answered from the loop clock (see
:func:`~bargein.adapters.livekit_clock.loop_clock`), so a LiveKit session runs in virtual
time, deterministic and faster than real time. On an ordinary loop (``live=True``) nothing
is changed.

The room's audio input and output for LiveKit live in :mod:`bargein.adapters.livekit_room_io`.

Needs the extra ``livekit``: ``pip install 'bargein[livekit]'``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from bargein._extras import require
from bargein.adapters.base import AdapterLink, AgentAdapter, Capabilities
from bargein.adapters.inprocess import BuildContext
from bargein.errors import UnsupportedCapabilityError

require("livekit.agents", extra="livekit", feature="the LiveKit Agents adapter")

from livekit.agents import Agent, AgentSession  # noqa: E402
from livekit.agents.voice.transcription.synchronizer import (  # noqa: E402
    TranscriptSynchronizer,
)

from bargein.adapters.livekit_clock import loop_clock  # noqa: E402
from bargein.adapters.livekit_room_io import (  # noqa: E402
    NullTextOutput,
    RoomAudioInput,
    RoomAudioOutput,
)
from bargein.livekit import plugins  # noqa: E402

__all__ = ["LiveKitAgentAdapter", "LiveKitFactory", "loop_clock"]

#: ``factory(context) -> (agent, session)``: a LiveKit Agent and a not yet started session.
LiveKitFactory = Callable[[BuildContext], tuple[Agent, AgentSession]]


class LiveKitAgentAdapter(AgentAdapter):
    """Runs a LiveKit agent built by ``factory(context) -> (agent, session)``.

    The session is started in-process with the scenario room as its audio input and output
    (no LiveKit room or server). Declared capabilities:

    - ``native_vad``: yes, LiveKit's own VAD-based barge-in and false-interruption logic run;
    - ``interruption``: yes, the cancel signal is ``session.interrupt()`` (it respects
      uninterruptible speech, as a barge-in does);
    - ``streaming_transcripts``: words as they are heard, from the word timings of the
      bargein TTS plugin (:class:`bargein.livekit.plugins.TTS`). With another TTS pass
      ``streaming_transcripts=False``; starting one without it raises a clear error.

    ``transcript_sync`` (default True) wraps the output in LiveKit's
    ``TranscriptSynchronizer`` as a LiveKit room does, so the assistant message LiveKit
    records when cut off is its production estimate of what was heard. An
    :class:`~bargein.livekit.plugins.OracleSTT` built without a truth is bound to the
    scenario's truth and clock when the session starts.
    """

    def __init__(self, factory: LiveKitFactory, *, name: str = "livekit",
                 streaming_transcripts: bool = True, transcript_sync: bool = True) -> None:
        self.factory = factory
        self.name = name
        self.transcript_sync = transcript_sync
        self.capabilities = Capabilities(streaming_transcripts=streaming_transcripts,
                                         native_vad=True, interruption=True)
        self.agent: Agent | None = None
        self.session: AgentSession | None = None
        self.messages: list[dict[str, Any]] = []
        """Every assistant message LiveKit added: ``text``, ``interrupted``, ``time``."""
        self._output: RoomAudioOutput | None = None
        self._sync: TranscriptSynchronizer | None = None
        self._clock: contextlib.ExitStack | None = None
        self._forced = False

    async def start(self, link: AdapterLink) -> None:
        self._clock = contextlib.ExitStack()
        self._clock.enter_context(loop_clock())
        agent, session = self.factory(BuildContext(link.sample_rate, link.truth))
        if not isinstance(agent, Agent) or not isinstance(session, AgentSession):
            raise TypeError("the factory of LiveKitAgentAdapter must return (livekit Agent, "
                            f"livekit AgentSession), got ({type(agent).__name__}, "
                            f"{type(session).__name__})")
        self.agent, self.session = agent, session
        self._bind_oracles(link)
        if self.capabilities.streaming_transcripts:
            self._check_word_timings()

        def words(heard: tuple[str, ...], delay: float) -> None:
            link.report("agent_words", time=link.now() + delay, words=heard)

        def cleared(position: float) -> None:
            link.report("agent_interrupted", reason="forced" if self._forced else "barge_in",
                        played=round(position, 4))
            self._forced = False

        playing: list[tuple[str, bool]] = []  # the speech of the segment playing now
        segments = [0]  # numbered per run: the same timeline every run

        def segment(phase: str, interrupted: bool | None) -> None:
            # one LiveKit speech plays as one output segment: its boundaries and whether it
            # may be interrupted (allow_interruptions=False: protected)
            if phase == "started":
                speech = getattr(session, "current_speech", None)
                segments[0] += 1
                sid = f"speech-{segments[0]}"
                protected = speech is not None and not getattr(speech, "allow_interruptions",
                                                               True)
                playing[:] = [(sid, protected)]
                link.report("agent_speech", id=sid, phase="started", protected=protected)
            elif playing:
                sid, protected = playing.pop()
                link.report("agent_speech", id=sid, phase="ended", protected=protected,
                            interrupted=bool(interrupted))

        self._output = RoomAudioOutput(
            link.audio_output,
            on_words=words if self.capabilities.streaming_transcripts else None,
            on_cleared=cleared, on_segment=segment)
        session.input.audio = RoomAudioInput(link.audio_input)
        if self.transcript_sync:
            self._sync = TranscriptSynchronizer(next_in_chain_audio=self._output,
                                                next_in_chain_text=NullTextOutput())
            session.output.audio = self._sync.audio_output
            session.output.transcription = self._sync.text_output
        else:
            session.output.audio = self._output

        session.on("agent_state_changed", lambda e: link.report(
            "agent_state", state=e.new_state))
        session.on("user_input_transcribed", lambda e: link.report(
            "user_transcript", text=e.transcript, final=e.is_final))
        session.on("agent_false_interruption", lambda e: link.report(
            "agent_false_interruption", resumed=e.resumed))
        session.on("user_state_changed", lambda e: link.report(
            "user_state", state=e.new_state))

        def on_item(event: Any) -> None:
            item = event.item
            if getattr(item, "role", None) != "assistant":
                return
            text = item.text_content or ""
            interrupted = bool(item.interrupted)
            self.messages.append({"time": link.now(), "text": text, "interrupted": interrupted})
            link.report("agent_message", text=text, interrupted=interrupted)

        session.on("conversation_item_added", on_item)
        session.on("error", lambda e: link.report(
            "error", source=type(e.source).__name__, message=str(getattr(e.error, "error",
                                                                           e.error))))
        await session.start(agent, record=False)

    def _bind_oracles(self, link: AdapterLink) -> None:
        assert self.session is not None and self.agent is not None
        for stt in (self.session.stt, getattr(self.agent, "_stt", None)):
            if isinstance(stt, plugins.OracleSTT) and not stt.bound:
                if link.truth is None:
                    raise RuntimeError("plugins.OracleSTT needs the scenario's ground truth, "
                                       "and this run provides none")
                stt.bind(link.truth, link.now)

    def _check_word_timings(self) -> None:
        assert self.session is not None and self.agent is not None
        agent_tts = getattr(self.agent, "_tts", None)
        tts = agent_tts if isinstance(agent_tts, plugins.TTS) else self.session.tts
        if not isinstance(tts, plugins.TTS):
            raise UnsupportedCapabilityError(
                "streaming_transcripts", self.name,
                "heard words come from the word timings of bargein.livekit.plugins.TTS; with "
                f"another TTS ({type(tts).__name__}) build the adapter with "
                "streaming_transcripts=False (interrupt(after=<seconds>) still works)")

    async def interrupt(self) -> None:
        if self.session is None:
            await super().interrupt()
            return
        self._forced = True
        try:
            fut = self.session.interrupt()
        except RuntimeError:  # the current speech does not allow interruptions: it plays on
            self._forced = False
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(fut), 0.0)

    async def close(self) -> None:
        try:
            if self.session is not None:
                with contextlib.suppress(RuntimeError):
                    await self.session.aclose()
            if self._sync is not None:
                await self._sync.aclose()
            if self._output is not None:
                await self._output.aclose()
        finally:
            if self._clock is not None:
                self._clock.close()
                self._clock = None
