"""AgentSession: listens, takes turns, speaks, and handles interruptions.

The session wires four parts that each do one job: :class:`~bargein.agent.recognition.
Recognition` (VAD, recognizer, end of turn), the barge-in policy
(:class:`~bargein.agent.interruption.InterruptionPolicy`, a pure state machine), the user-turn
bookkeeping (:class:`~bargein.agent.turns.UserTurns`) and the speech queue
(:class:`~bargein.agent.reply.SpeechQueue`). All timing goes through the running event loop,
so the same session runs live and in bargein's virtual-time simulation. Times in events are
seconds since :meth:`start` on the audio timeline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from bargein.agent import interruption as policy_events
from bargein.agent.agent import Agent
from bargein.agent.chat import ChatContext
from bargein.agent.events import (
    AgentInterrupted,
    AgentState,
    AgentStateChanged,
    ConversationItemAdded,
    ErrorEvent,
    EventEmitter,
    SpeechCreated,
    UserState,
    UserStateChanged,
)
from bargein.agent.interruption import InterruptionPolicy
from bargein.agent.options import EndpointingOptions, InterruptionOptions, UserTurnLimit
from bargein.agent.recognition import Recognition
from bargein.agent.reply import SpeechQueue, TextSource, llm_reply_text
from bargein.agent.session_hooks import SessionHooks
from bargein.agent.speech import SpeechHandle
from bargein.agent.turn_taking import TurnTaking
from bargein.agent.turns import UserTurns
from bargein.audio.frame import check_session_rate
from bargein.io import AudioInput, AudioOutput
from bargein.providers.llm import LLM, ChatMessage
from bargein.providers.stt import STT
from bargein.providers.tts import TTS
from bargein.providers.vad import VAD

if TYPE_CHECKING:
    from bargein.providers.turn_detector import TurnDetector

_log = logging.getLogger("bargein.agent")


class AgentSession:
    """Runs an :class:`Agent` on an audio input and output with the given providers.

    - ``vad``, ``stt``, ``llm``, ``tts``: providers (see ``bargein.providers``). The STT
      should give interim results for ``min_words`` barge-in and sentence turn limits.
    - ``interruption``: :class:`InterruptionOptions` (barge-in policy).
    - ``allow_interruptions``: session default; an agent's or a speech's setting wins.
    - ``turn_limit``: :class:`UserTurnLimit` or None.
    - ``endpointing``: :class:`EndpointingOptions`.
    - ``sample_rate``: 8000, 16000 or 24000 Hz; the input is resampled to it if needed.
    - ``provider_timeout``: seconds an LLM or TTS may stay silent before the reply is
      abandoned with an ``error`` event.
    - ``stt_preroll``: the STT hears only speech found by the VAD plus this many seconds
      before it (saves most of its cost); ``None`` sends it every frame.
    - ``turn_detector``: a :class:`~bargein.providers.turn_detector.TurnDetector` that tells a
      finished turn from a pause in the middle of a sentence (``EndpointingOptions``
      ``min_delay`` / ``max_delay``); None waits ``min_delay`` after every utterance.
    """

    def __init__(self, *, vad: VAD, stt: STT, llm: LLM, tts: TTS,
                 interruption: InterruptionOptions | None = None,
                 allow_interruptions: bool = True,
                 turn_limit: UserTurnLimit | None = None,
                 endpointing: EndpointingOptions | None = None,
                 sample_rate: int = 16000, frame_duration: float = 0.02,
                 provider_timeout: float = 10.0, stt_preroll: float | None = 0.5,
                 turn_detector: TurnDetector | None = None) -> None:
        self.vad, self.stt, self.llm, self.tts = vad, stt, llm, tts
        self.interruption = interruption or InterruptionOptions()
        self.allow_interruptions = allow_interruptions
        self.turn_limit = turn_limit
        self.endpointing = endpointing or EndpointingOptions()
        self.sample_rate = check_session_rate(sample_rate)
        self.frame_duration = frame_duration
        self.provider_timeout = provider_timeout
        self.stt_preroll = stt_preroll
        self.turn_detector = turn_detector
        self.history = ChatContext()
        self._events = EventEmitter()
        self._agent: Agent | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._t0 = 0.0
        self._tasks: list[asyncio.Task[Any]] = []
        self._agent_state: AgentState = "initializing"
        self._user_state: UserState = "listening"
        self._policy = InterruptionPolicy(self.interruption)
        self._turns = UserTurns(
            discard_if_protected=self.interruption.discard_audio_if_uninterruptible,
            limit=turn_limit)
        self._hooks = SessionHooks(self)
        self._recognition: Recognition | None = None
        self._speech: SpeechQueue | None = None
        self._policy_timer: asyncio.TimerHandle | None = None
        self._limit_timer: asyncio.TimerHandle | None = None
        self._turn_taking = TurnTaking(self)
        self._closed = False

    # -- public API -----------------------------------------------------------------------

    def on(self, name: str, callback: Callable[[Any], Any] | None = None) -> Any:
        """Subscribe to an event (see ``bargein.agent.events``); usable as a decorator."""
        return self._events.on(name, callback)

    def off(self, name: str, callback: Callable[[Any], Any]) -> None:
        """Unsubscribe."""
        self._events.off(name, callback)

    @property
    def agent(self) -> Agent:
        """The running agent."""
        if self._agent is None:
            raise RuntimeError("the session has not started")
        return self._agent

    @property
    def agent_state(self) -> AgentState:
        """initializing, listening, thinking or speaking."""
        return self._agent_state

    @property
    def user_state(self) -> UserState:
        """listening or speaking (from the VAD)."""
        return self._user_state

    @property
    def current_speech(self) -> SpeechHandle | None:
        """The speech playing (or being prepared) now."""
        return self._speech.current if self._speech is not None else None

    @property
    def time(self) -> float:
        """Seconds since :meth:`start` on the loop clock (the audio timeline)."""
        return self._require_loop().time() - self._t0

    async def start(self, agent: Agent, *, audio_input: AudioInput,
                    audio_output: AudioOutput) -> None:
        """Start listening on ``audio_input`` and speaking on ``audio_output``."""
        if self._agent is not None:
            raise RuntimeError("this session has already started")
        if audio_output.sample_rate != self.sample_rate:
            raise ValueError(
                f"audio output plays {audio_output.sample_rate} Hz but the session runs at "
                f"{self.sample_rate} Hz; give the session sample_rate={audio_output.sample_rate}"
            )
        self._loop = asyncio.get_running_loop()
        self._t0 = self._loop.time()
        self._agent, agent._session = agent, self
        self._speech = SpeechQueue(
            self._hooks, tts=self.tts, output=audio_output, sample_rate=self.sample_rate,
            frame_duration=self.frame_duration, provider_timeout=self.provider_timeout,
            report_error=self._report_error)
        self._recognition = Recognition(
            self._hooks, vad=self.vad, stt=self.stt, endpointing=self.endpointing,
            sample_rate=self.sample_rate, stt_preroll=self.stt_preroll, clock=lambda: self.time,
            turn_detector=self.turn_detector)
        self._recognition.start(audio_input)
        self._tasks = [asyncio.create_task(self._speech.run(), name="bargein-speech")]
        self._set_agent_state("listening")
        self._spawn(agent.on_enter(), "on_enter")

    async def aclose(self) -> None:
        """Stop speaking and listening; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._speech is not None:
            self._speech.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._recognition is not None:
            await self._recognition.aclose()
        for timer in (self._policy_timer, self._limit_timer):
            if timer is not None:
                timer.cancel()

    def say(self, text: str, *, allow_interruptions: bool | None = None,
            add_to_chat_ctx: bool = True) -> SpeechHandle:
        """Speak ``text`` (queued after what is already scheduled)."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"say() needs some text to speak, got {text!r}")

        async def source() -> AsyncIterator[str]:
            yield text

        return self._schedule(source, "say", allow_interruptions, add_to_chat=add_to_chat_ctx)

    def generate_reply(self, *, user_input: str | None = None, instructions: str | None = None,
                       allow_interruptions: bool | None = None) -> SpeechHandle:
        """Ask the LLM for a reply and speak it. ``user_input`` is added to the history as a
        user message first; ``instructions`` steer this reply only."""
        if user_input:
            message = ChatMessage("user", user_input)
            self._add_item(message)
            self._turn_taking.user_input_added(message)
        return self._schedule(lambda: self._reply_text(instructions), "generate_reply",
                              allow_interruptions)

    def interrupt(self, *, force: bool = False) -> None:
        """Stop the current speech and drop queued ones (uninterruptible ones need ``force``)."""
        current = self.current_speech
        if current is not None and (current.allow_interruptions or force):
            self._interrupt_speech(current, "forced")
        if self._speech is not None:
            self._speech.drop_queued(force=force)

    # -- speech ------------------------------------------------------------------------------

    def _new_handle(self, kind: str, allow: bool | None) -> SpeechHandle:
        if self._agent is None or self._speech is None:
            raise RuntimeError("start the session before asking it to speak")
        if allow is None:
            allow = self._agent.allow_interruptions
        if allow is None:
            allow = self.allow_interruptions
        return SpeechHandle(allow_interruptions=allow, source=kind,
                            interrupt_callback=self._interrupt_speech)

    def _schedule(self, source: TextSource, kind: str, allow: bool | None, *,
                  add_to_chat: bool = True) -> SpeechHandle:
        handle = self._new_handle(kind, allow)
        assert self._speech is not None
        self._turn_taking.prepared = None  # the queue drops a reply prepared ahead
        self._speech.schedule(handle, source, add_to_chat=add_to_chat)
        self._events.emit("speech_created", SpeechCreated(handle, kind, False, self.time))
        return handle

    def _reply_text(self, instructions: str | None, *,
                    pending: ChatMessage | None = None) -> AsyncIterator[str]:
        agent = self.agent
        messages = [ChatMessage("system", agent.instructions)] if agent.instructions else []
        messages += list(self.history)
        if pending is not None:  # the user's turn, not in the history yet (a prepared reply)
            messages.append(pending)
        if instructions:
            messages.append(ChatMessage("system", instructions))
        return llm_reply_text(self.llm, messages, tools=agent.tools,
                              provider_timeout=self.provider_timeout,
                              report_error=self._report_error)

    def _interrupt_speech(self, handle: SpeechHandle, reason: str,
                          stopped_at: float | None = None) -> None:
        speech = self._speech
        if speech is None or handle.done():
            return
        if handle is speech.current and speech.player is not None:
            player = speech.player
            speech.stop_current()
            self._events.emit("agent_interrupted", AgentInterrupted(
                handle, reason, player.heard_text(),
                self.time if stopped_at is None else stopped_at))
        else:
            speech.drop(handle)

    # -- barge-in policy ---------------------------------------------------------------------

    def _feed_policy(self, event: policy_events.PolicyEvent) -> None:
        for decision in self._policy.feed(event):
            self._hooks.carry_out(decision)
        self._schedule_policy()

    def _schedule_policy(self) -> None:
        if self._policy_timer is not None:
            self._policy_timer.cancel()
            self._policy_timer = None
        due = self._policy.deadline
        if due is not None:
            self._policy_timer = self._require_loop().call_later(
                max(0.0, due - self.time),
                lambda: self._feed_policy(policy_events.Tick(self.time)))

    # -- turn limit ------------------------------------------------------------------------------

    def _check_turn_limit(self) -> None:
        self._hooks.check_turn_limit()

    def _arm_turn_limit(self, turn_start: float) -> None:
        limit = self.turn_limit
        if limit is None or limit.max_duration is None:
            return
        if self._limit_timer is not None:
            self._limit_timer.cancel()
        wait = max(0.0, turn_start + limit.max_duration - self.time)
        self._limit_timer = self._require_loop().call_later(wait, self._check_turn_limit)

    # -- helpers -------------------------------------------------------------------------------

    def _add_item(self, message: ChatMessage) -> None:
        self.history.add(message)
        self._events.emit("conversation_item_added", ConversationItemAdded(message, self.time))

    def _set_agent_state(self, state: AgentState) -> None:
        if state != self._agent_state:
            old, self._agent_state = self._agent_state, state
            self._events.emit("agent_state_changed", AgentStateChanged(old, state, self.time))

    def _set_user_state(self, state: UserState, t: float) -> None:
        if state != self._user_state:
            old, self._user_state = self._user_state, state
            self._events.emit("user_state_changed", UserStateChanged(old, state, t))

    def _report_error(self, source: str, error: BaseException, *,
                      recoverable: bool = True) -> None:
        _log.warning("%s failed: %s", source, error)
        self._events.emit("error", ErrorEvent(source, error, recoverable, self.time))

    def _spawn(self, coro: Any, what: str) -> None:
        async def guarded() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._report_error(what, exc)

        task = asyncio.create_task(guarded(), name=f"bargein-{what}")
        self._tasks.append(task)
        task.add_done_callback(lambda t: t in self._tasks and self._tasks.remove(t))

    def _require_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("the session has not started")
        return self._loop


__all__ = ["AgentSession"]
