"""AgentSession: listens (VAD + STT), takes turns, speaks, and handles interruptions.

All timing goes through the running event loop, so the same session runs live and in
bargein's virtual-time simulation. Times in events are seconds since :meth:`start` on the
audio timeline; VAD boundaries are back-dated to where they lie in the audio.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from bargein.agent.agent import Agent, StopResponse
from bargein.agent.chat import ChatContext, heard_text
from bargein.agent.events import (
    AgentFalseInterruption,
    AgentInterrupted,
    AgentState,
    AgentStateChanged,
    AgentWordsHeard,
    ConversationItemAdded,
    ErrorEvent,
    EventEmitter,
    MetricsCollected,
    SpeechCreated,
    UserInputTranscribed,
    UserState,
    UserStateChanged,
    UserTurnExceeded,
)
from bargein.agent.options import EndpointingOptions, InterruptionOptions, UserTurnLimit
from bargein.agent.player import SpeechPlayer, with_timeout
from bargein.agent.speech import SpeechHandle
from bargein.agent.stt_gate import STTGate
from bargein.audio.frame import check_session_rate
from bargein.audio.resample import StreamResampler
from bargein.io import AudioInput, AudioOutput
from bargein.providers.llm import LLM, ChatMessage, LLMChunk, ToolCall
from bargein.providers.stt import STT, SpeechEvent, SpeechEventType
from bargein.providers.tts import TTS
from bargein.providers.types import WordTiming
from bargein.providers.vad import VAD, VADEvent, VADEventType
from bargein.text import count_sentences, normalize_words, words

_log = logging.getLogger("bargein.agent")

MAX_TOOL_ROUNDS = 4
#: The VAD probability that counts as "the user is voicing right now".
VOICE_PROBABILITY = 0.5


@dataclass
class _Span:
    """Session-time interval during which an uninterruptible speech was playing."""

    start: float
    end: float | None = None

    def contains(self, t: float) -> bool:
        return self.start <= t and (self.end is None or t < self.end)


@dataclass
class _UserTurn:
    """What the user said since the last turn was taken."""

    start: float
    finals: list[str] = field(default_factory=list)
    interim: str = ""
    exceeded: bool = False

    def transcript(self) -> str:
        return " ".join(t for t in [*self.finals, self.interim] if t).strip()


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
    """

    def __init__(self, *, vad: VAD, stt: STT, llm: LLM, tts: TTS,
                 interruption: InterruptionOptions | None = None,
                 allow_interruptions: bool = True,
                 turn_limit: UserTurnLimit | None = None,
                 endpointing: EndpointingOptions | None = None,
                 sample_rate: int = 16000, frame_duration: float = 0.02,
                 provider_timeout: float = 10.0, stt_preroll: float | None = 0.5) -> None:
        self.vad, self.stt, self.llm, self.tts = vad, stt, llm, tts
        self.interruption = interruption or InterruptionOptions()
        self.allow_interruptions = allow_interruptions
        self.turn_limit = turn_limit
        self.endpointing = endpointing or EndpointingOptions()
        self.sample_rate = check_session_rate(sample_rate)
        self.frame_duration = frame_duration
        self.provider_timeout = provider_timeout
        self.stt_preroll = stt_preroll
        self.history = ChatContext()
        self._events = EventEmitter()
        self._agent: Agent | None = None
        self._input: AudioInput | None = None
        self._output: AudioOutput | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._t0 = 0.0
        self._tasks: list[asyncio.Task[Any]] = []
        self._queue: list[SpeechHandle] = []
        # how each scheduled speech gets its text, and whether it enters the chat history
        self._plans: dict[SpeechHandle, tuple[Callable[[], AsyncIterator[str]], bool]] = {}
        self._queue_changed: asyncio.Event | None = None
        self._current: SpeechHandle | None = None
        self._player: SpeechPlayer | None = None
        self._agent_state: AgentState = "initializing"
        self._user_state: UserState = "listening"
        self._input_lag = 0.0  # session time minus input stream time, at the latest frame
        self._turn: _UserTurn | None = None
        self._consumed_until = -1.0  # words said before this were already answered
        self._consume_until_next_speech = False
        self._utterance_onset = 0.0
        self._utterance_said = 0  # words (backchannels included) heard in this utterance
        self._awaiting_voice = False  # min_duration passed during a silent gap: recheck
        self._uninterruptible: list[_Span] = []
        self._open_span: _Span | None = None
        self._candidate_onset: float | None = None  # onset of a possible barge-in
        self._candidate_timer: asyncio.TimerHandle | None = None
        self._utterance_words = 0  # non-backchannel words in the current utterance
        self._false_timer: asyncio.TimerHandle | None = None
        self._endpoint_timer: asyncio.TimerHandle | None = None
        self._flush_timer: asyncio.TimerHandle | None = None
        self._duration_timer: asyncio.TimerHandle | None = None
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
        return self._current

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
        self._input, self._output = audio_input, audio_output
        self._queue_changed = asyncio.Event()
        self._vad_stream = self.vad.stream(self.sample_rate)
        self._stt_stream = self.stt.stream(self.sample_rate)
        self._gate = STTGate(self._stt_stream, self.stt_preroll)
        self._tasks = [
            asyncio.create_task(self._input_loop(), name="bargein-input"),
            asyncio.create_task(self._transcript_loop(), name="bargein-stt"),
            asyncio.create_task(self._speech_loop(), name="bargein-speech"),
        ]
        self._set_agent_state("listening")
        self._spawn(agent.on_enter(), "on_enter")

    async def aclose(self) -> None:
        """Stop speaking and listening; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for handle in [*self._queue, *([self._current] if self._current else [])]:
            self._drop(handle)
        if self._player is not None:
            self._player.interrupt()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._stt_stream.aclose()
        for timer in (self._candidate_timer, self._false_timer, self._endpoint_timer,
                      self._flush_timer,
                      self._duration_timer):
            if timer is not None:
                timer.cancel()

    def say(self, text: str, *, allow_interruptions: bool | None = None,
            add_to_chat_ctx: bool = True) -> SpeechHandle:
        """Speak ``text`` (queued after what is already scheduled)."""
        if not text.strip():
            raise ValueError("say() needs some text to speak")

        async def source() -> AsyncIterator[str]:
            yield text

        return self._schedule(lambda: source(), "say", allow_interruptions,
                              add_to_chat_ctx=add_to_chat_ctx)

    def generate_reply(self, *, user_input: str | None = None, instructions: str | None = None,
                       allow_interruptions: bool | None = None) -> SpeechHandle:
        """Ask the LLM for a reply and speak it. ``user_input`` is added to the history as a
        user message first; ``instructions`` steer this reply only."""
        if user_input:
            self._add_item(ChatMessage("user", user_input))
        return self._schedule(lambda: self._llm_text(instructions), "generate_reply",
                              allow_interruptions)

    def interrupt(self, *, force: bool = False) -> None:
        """Stop the current speech and drop queued ones (uninterruptible ones need ``force``)."""
        if self._current is not None and (self._current.allow_interruptions or force):
            self._interrupt_speech(self._current, "forced")
        for handle in list(self._queue):
            if handle.allow_interruptions or force:
                self._drop(handle)

    # -- speech scheduling -------------------------------------------------------------------

    def _resolve_allow(self, allow: bool | None) -> bool:
        if allow is not None:
            return allow
        if self._agent is not None and self._agent.allow_interruptions is not None:
            return self._agent.allow_interruptions
        return self.allow_interruptions

    def _schedule(self, source: Callable[[], AsyncIterator[str]], kind: str,
                  allow: bool | None, *, add_to_chat_ctx: bool = True) -> SpeechHandle:
        if self._agent is None or self._queue_changed is None:
            raise RuntimeError("start the session before asking it to speak")
        handle = SpeechHandle(allow_interruptions=self._resolve_allow(allow), source=kind,
                              interrupt_callback=self._interrupt_speech)
        self._plans[handle] = (source, add_to_chat_ctx)
        self._queue.append(handle)
        self._queue_changed.set()
        self._events.emit("speech_created", SpeechCreated(handle, kind, False, self.time))
        return handle

    async def _speech_loop(self) -> None:
        assert self._queue_changed is not None
        while True:
            while not self._queue:
                self._queue_changed.clear()
                await self._queue_changed.wait()
            handle = self._queue.pop(0)
            if handle.done():
                continue
            await self._play(handle)

    async def _play(self, handle: SpeechHandle) -> None:
        assert self._output is not None
        self._current = handle
        self._set_agent_state("thinking")
        span: _Span | None = None

        def on_audio() -> None:
            nonlocal span
            handle.started_at = self.time
            self._set_agent_state("speaking")
            if self._consume_until_next_speech:
                self._consumed_until = self.time
                self._consume_until_next_speech = False
            if not handle.allow_interruptions:
                span = self._open_span or _Span(self.time)
                if span is not self._open_span:
                    self._uninterruptible.append(span)
            elif self._user_state == "speaking":  # the agent starts over the user
                self._arm_barge_in(self._utterance_onset)

        def on_words(new: list[WordTiming], at: float) -> None:
            self._events.emit("agent_words_heard", AgentWordsHeard(
                handle.id, tuple(w.text for w in new),
                heard_text(player.full_text, player.words, player.position),
                at - self._t0))

        source, add_to_chat = self._plans.pop(handle)
        player = SpeechPlayer(
            source(),
            tts=self.tts, output=self._output, sample_rate=self.sample_rate,
            frame_duration=self.frame_duration, provider_timeout=self.provider_timeout,
            on_audio=on_audio, on_words=on_words,
        )
        self._player = player
        try:
            interrupted = await player.run()
        except Exception as exc:  # an output failure: report, recover
            interrupted = True
            self._report_error("audio_output", exc)
        finally:
            self._player = None
            self._current = None
            # Back-to-back uninterruptible speeches (a cut-in and its reply) hold the floor
            # as one: the gap between them belongs to the span too.
            self._open_span = None
            if span is not None:
                if self._queue and not self._queue[0].allow_interruptions:
                    self._open_span = span
                else:
                    span.end = self.time
        handle.ended_at = self.time
        handle.text = player.text
        handle.words = tuple(player.words)
        handle.duration = len(player.frames) * self.frame_duration
        handle.played = player.position
        handle.heard_text = player.heard_text() if interrupted else player.text
        if player.error is not None:
            handle.error = player.error
            self._report_error(player.error_source or "speech", player.error)
        if handle.heard_text and add_to_chat:
            self._add_item(ChatMessage("assistant", handle.heard_text, interrupted=interrupted))
        handle._mark_done(interrupted=interrupted or player.error is not None)
        if not self._queue:
            self._set_agent_state("listening")
        self._after_speech()

    def _interrupt_speech(self, handle: SpeechHandle, reason: str) -> None:
        if handle.done():
            return
        if handle is self._current and self._player is not None:
            player = self._player
            player.interrupt()
            self._events.emit("agent_interrupted", AgentInterrupted(
                handle, reason, player.heard_text(), self.time))
        else:
            self._drop(handle)

    def _drop(self, handle: SpeechHandle) -> None:
        if handle in self._queue:
            self._queue.remove(handle)
            self._plans.pop(handle, None)
        if handle is not self._current:
            handle._mark_done(interrupted=True)

    # -- LLM ---------------------------------------------------------------------------------

    async def _llm_text(self, instructions: str | None) -> AsyncIterator[str]:
        agent = self.agent
        messages: list[ChatMessage] = []
        if agent.instructions:
            messages.append(ChatMessage("system", agent.instructions))
        messages += list(self.history)
        if instructions:
            messages.append(ChatMessage("system", instructions))
        tools = agent.tools or None
        for _round in range(MAX_TOOL_ROUNDS):
            calls: list[ToolCall] = []
            stream = self.llm.chat(messages, tools=tools)
            async for chunk in with_timeout(_chunks(stream), self.provider_timeout, "the LLM"):
                if chunk.text:
                    yield chunk.text
                calls.extend(chunk.tool_calls)
            if not calls:
                return
            messages.append(ChatMessage("assistant", "", tool_calls=tuple(calls)))
            for call in calls:
                messages.append(ChatMessage("tool", await self._run_tool(call),
                                            tool_call_id=call.id))

    async def _run_tool(self, call: ToolCall) -> str:
        for tool in self.agent.tools:
            if tool.name == call.name:
                try:
                    return await tool.call(call.arguments)
                except Exception as exc:
                    self._report_error(f"tool:{call.name}", exc)
                    return f"error: {exc}"
        return f"error: no tool named {call.name!r}"

    # -- listening -------------------------------------------------------------------------

    async def _input_loop(self) -> None:
        assert self._input is not None
        resampler: StreamResampler | None = None
        if self._input.sample_rate != self.sample_rate:
            resampler = StreamResampler(self._input.sample_rate, self.sample_rate)
        stream_time = 0.0
        async for frame in self._input:
            if resampler is not None:
                frame = resampler.push(frame)  # type: ignore[assignment]
                if frame is None:
                    continue
            stream_time += frame.duration
            self._input_lag = self.time - stream_time
            try:
                events = self._vad_stream.push_frame(frame)
                hearing = self._vad_stream.speaking or self._flush_timer is not None
                self._gate.push(frame, speaking=hearing)
            except Exception as exc:
                self._report_error("listening", exc)
                continue
            for event in events:
                self._on_vad(event)
            if self._awaiting_voice and self._vad_stream.speaking \
                    and self._vad_stream.probability >= VOICE_PROBABILITY:
                self._check_barge_in()
        for event in self._vad_stream.flush():
            self._on_vad(event)
        self._stt_stream.flush()

    def _session_time(self, stream_time: float) -> float:
        return stream_time + self._input_lag

    def _on_vad(self, event: VADEvent) -> None:
        t = self._session_time(event.time)
        if event.type is VADEventType.START_OF_SPEECH:
            self._set_user_state("speaking", t)
            self._utterance_words = 0
            self._utterance_said = 0
            self._utterance_onset = t
            if self._endpoint_timer is not None:
                self._endpoint_timer.cancel()
                self._endpoint_timer = None
            if self._flush_timer is not None:  # speech resumed: the utterance goes on
                self._flush_timer.cancel()
                self._flush_timer = None
            if self._false_timer is not None:
                self._false_timer.cancel()
                self._false_timer = None
            if self._turn is None:
                self._open_turn(t)
            if self._player is not None and self._current is not None \
                    and self._current.allow_interruptions and self._player.audible:
                self._arm_barge_in(t)
            elif self._player is not None and self._player.paused:
                self._candidate_onset = self._candidate_onset or t
        else:
            # Everything after the end of speech is timed from the speech offset (back-dated
            # by the VAD), not from the moment the VAD decided: the decision moves with the
            # VAD's window grid, the offset does not. Live and simulated runs then agree.
            self._set_user_state("listening", t)
            self._close_barge_in_candidate(t)
            wait = max(0.0, t + self.endpointing.min_delay - self.time)
            self._flush_timer = self._require_loop().call_later(wait, self._speech_ended)

    def _speech_ended(self) -> None:
        """``min_delay`` of silence after the speech: the utterance is complete."""
        self._flush_timer = None
        self._stt_stream.flush()
        self._endpoint_timer = self._require_loop().call_later(
            self.endpointing.max_wait, self._end_of_turn)

    # -- barge-in ---------------------------------------------------------------------------

    def _arm_barge_in(self, onset: float) -> None:
        self._candidate_onset = onset
        if self._candidate_timer is not None:
            self._candidate_timer.cancel()
        wait = max(0.0, onset + self.interruption.min_duration - self.time)
        self._candidate_timer = self._require_loop().call_later(wait, self._check_barge_in)

    def _check_barge_in(self) -> None:
        self._candidate_timer = None
        player, handle = self._player, self._current
        if self._candidate_onset is None or player is None or handle is None:
            return
        if self._user_state != "speaking" or not handle.allow_interruptions:
            return
        opts = self.interruption
        if opts.min_words > 0:  # words prove the speech; later ones arrive via _on_words
            if self._utterance_words >= opts.min_words:
                self._barge_in()
            return
        # VAD only: its "speaking" lags the audio by its end-of-speech wait, so act only if
        # the user is voicing right now (a short "yeah" is not min_duration of speech).
        if self._vad_stream.probability < VOICE_PROBABILITY:
            self._awaiting_voice = True  # re-checked on each input frame while speaking
            return
        self._awaiting_voice = False
        if opts.resume_false_interruption:
            player.pause()
            # no words while paused for this long: it was not a barge-in after all
            self._start_false_timer(self.time)
        else:
            self._barge_in()

    def _start_false_timer(self, since: float) -> None:
        if self._false_timer is not None:
            self._false_timer.cancel()
        wait = max(0.0, since + self.interruption.false_interruption_timeout - self.time)
        self._false_timer = self._require_loop().call_later(wait, self._false_interruption)

    def _on_words(self) -> None:
        """New transcript words in the current utterance: maybe confirm a barge-in."""
        if self._candidate_onset is None or self._player is None:
            return
        if self.time < self._candidate_onset + self.interruption.min_duration - 1e-9:
            return
        needed = max(1, self.interruption.min_words)
        if self._utterance_words >= needed:
            self._barge_in()

    def _barge_in(self) -> None:
        handle, onset = self._current, self._candidate_onset
        self._candidate_onset = None
        if handle is None or handle.done() or not handle.allow_interruptions:
            return
        if self._false_timer is not None:
            self._false_timer.cancel()
            self._false_timer = None
        self._interrupt_speech(handle, "barge_in")
        for queued in list(self._queue):
            if queued.allow_interruptions:
                self._drop(queued)
        if onset is not None:
            self._events.emit("metrics", MetricsCollected(
                "interruption_decision_latency", self.time - onset, self.time,
                {"onset": onset, "speech_id": handle.id}))

    def _close_barge_in_candidate(self, offset: float) -> None:
        """The user stopped speaking at ``offset``. A paused agent waits for words, then
        resumes."""
        if self._candidate_timer is not None:
            self._candidate_timer.cancel()
            self._candidate_timer = None
        self._awaiting_voice = False
        player = self._player
        if player is not None and player.paused:
            if self._utterance_said > 0 and self._utterance_words == 0:
                self._false_interruption()  # it was only "uh-huh": resume at once
            else:
                self._start_false_timer(offset)
        else:
            self._candidate_onset = None

    def _false_interruption(self) -> None:
        if self._false_timer is not None:
            self._false_timer.cancel()
            self._false_timer = None
        self._candidate_onset = None
        player = self._player
        if player is None or not player.paused:
            return
        resumed = self.interruption.resume_false_interruption
        if resumed:
            player.resume(from_word=True)
        else:
            self._barge_in()
        self._events.emit("agent_false_interruption",
                          AgentFalseInterruption(resumed=resumed, time=self.time))

    # -- transcripts and turns ---------------------------------------------------------------

    async def _transcript_loop(self) -> None:
        while True:
            try:
                async for event in self._stt_stream:
                    self._on_transcript(event)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the recognizer failed: report, reopen, keep listening
                self._report_error("stt", exc)
                self._stt_stream = self.stt.stream(self.sample_rate)
                self._gate.stream = self._stt_stream

    def _kept_words(self, event: SpeechEvent) -> tuple[list[str], bool]:
        """Words of ``event`` that belong to the current turn, and whether any were dropped
        because uninterruptible speech was playing when they were said."""
        if not event.words:
            return words(event.text), False
        kept, discarded = [], False
        for w in event.words:
            t = self._session_time(w.start)
            if t < self._consumed_until:
                continue
            if self.interruption.discard_audio_if_uninterruptible and \
                    any(span.contains(t) for span in self._uninterruptible):
                discarded = True
                continue
            kept.append(w.text)
        return kept, discarded

    def _on_transcript(self, event: SpeechEvent) -> None:
        is_final = event.type is SpeechEventType.FINAL
        kept, discarded = self._kept_words(event)
        text = _join(event, kept)
        self._events.emit("user_input_transcribed", UserInputTranscribed(
            event.text, is_final, self.time, discarded=discarded and not kept))
        self._utterance_words = self._real_word_count(kept)
        self._utterance_said = len(normalize_words(" ".join(kept)))
        if self._turn is None and kept:
            self._open_turn(self._session_time(event.start))
        turn = self._turn
        if turn is None:
            return
        if is_final:
            if text:
                turn.finals.append(text)
            turn.interim = ""
        else:
            turn.interim = text
        self._on_words()
        self._check_turn_limit()
        if is_final:
            player = self._player
            if player is not None and player.paused and self._utterance_words == 0 \
                    and self._user_state == "listening":
                self._false_interruption()  # only backchannels: no need to wait
            if self._user_state == "listening" and self._flush_timer is None:
                if self._endpoint_timer is not None:
                    self._endpoint_timer.cancel()
                self._endpoint_timer = None
                self._end_of_turn()

    def _real_word_count(self, said: list[str]) -> int:
        """Words that are not backchannels ("uh-huh." counts as none)."""
        backchannels = self.interruption.backchannels
        return sum(1 for w in normalize_words(" ".join(said)) if w not in backchannels)

    def _open_turn(self, t: float) -> None:
        self._turn = _UserTurn(start=t)
        limit = self.turn_limit
        if limit is not None and limit.max_duration is not None:
            if self._duration_timer is not None:
                self._duration_timer.cancel()
            wait = max(0.0, t + limit.max_duration - self.time)
            self._duration_timer = self._require_loop().call_later(wait, self._check_turn_limit)

    def _check_turn_limit(self) -> None:
        limit, turn = self.turn_limit, self._turn
        if limit is None or turn is None or turn.exceeded or self._user_state != "speaking":
            return  # a limit first reached after the user stopped is just a long turn
        transcript = turn.transcript()
        n_sentences = count_sentences(transcript)
        n_words = len(words(transcript))
        duration = self.time - turn.start
        reason = None
        if limit.max_sentences is not None and n_sentences >= limit.max_sentences:
            reason = "sentences"
        elif limit.max_words is not None and n_words >= limit.max_words:
            reason = "words"
        elif limit.max_duration is not None and duration >= limit.max_duration - 1e-9:
            reason = "duration"
        if reason is None:
            return
        turn.exceeded = True
        # The words so far are answered by the cut-in; words said until the cut-in is heard
        # belong to the same monologue (see on_audio in _play), later ones to a later turn
        # or, while the uninterruptible cut-in plays, to nobody.
        self._consumed_until = self.time
        self._consume_until_next_speech = True
        event = UserTurnExceeded(transcript, reason, n_sentences, n_words, duration, self.time)
        self._events.emit("user_turn_exceeded", event)
        self._turn = None
        self._spawn(self.agent.on_user_turn_exceeded(event), "on_user_turn_exceeded")

    def _end_of_turn(self) -> None:
        self._endpoint_timer = None
        turn = self._turn
        if turn is None or self._user_state == "speaking":
            return
        transcript = turn.transcript()
        if not transcript:
            self._turn = None
            return
        real = self._real_word_count(words(transcript))
        agent_busy = self._current is not None and self._current.allow_interruptions
        if not real and agent_busy:
            self._turn = None  # a backchannel while the agent talks is not a turn
            return
        if self._current is not None and not self._current.allow_interruptions:
            return  # held until the uninterruptible speech ends (see _after_speech)
        self._turn = None
        self._spawn(self._take_turn(transcript), "user turn")

    def _after_speech(self) -> None:
        if self._turn is not None and self._user_state == "listening" \
                and self._endpoint_timer is None and self._turn.transcript():
            self._end_of_turn()

    async def _take_turn(self, transcript: str) -> None:
        message = ChatMessage("user", transcript)
        try:
            await self.agent.on_user_turn_completed(self.history.copy(), message)
        except StopResponse:
            self._add_item(message)
            return
        self.generate_reply(user_input=transcript)

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

    def _report_error(self, source: str, error: BaseException) -> None:
        _log.warning("%s failed: %s", source, error)
        self._events.emit("error", ErrorEvent(source, error, True, self.time))

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

    def _require_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("the session has not started")
        return self._loop


async def _chunks(stream: AsyncIterator[LLMChunk]) -> AsyncIterator[LLMChunk]:
    async with contextlib.aclosing(stream):  # type: ignore[type-var]
        async for chunk in stream:
            yield chunk


def _join(event: SpeechEvent, kept: list[str]) -> str:
    if not event.words:
        return event.text.strip() if kept else ""
    return " ".join(kept)


__all__ = ["AgentSession"]
