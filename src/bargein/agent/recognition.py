"""Listening: the input loop, the VAD, the recognizer and the end of the user's turn.

:class:`Recognition` reads the session's audio input, runs the VAD on every frame, sends the
recognizer the audio around speech (:class:`~bargein.agent.stt_gate.STTGate`), decides the end
of the user's turn (:class:`~bargein.agent.endpointing.Endpointing`), and reports all of it to
:class:`RecognitionHooks` with times in session seconds (the audio timeline). It keeps going
when a provider fails: each failure is one ``on_error``; a recognizer is reopened on the same
timeline, and a VAD that keeps failing is retried with a growing back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from bargein.agent.endpointing import EndpointAction, EndpointDecision, Endpointing
from bargein.agent.options import EndpointingOptions
from bargein.agent.stt_gate import STTGate
from bargein.audio.frame import AudioFrame
from bargein.audio.resample import StreamResampler
from bargein.errors import ProviderError
from bargein.io import AudioInput
from bargein.providers.stt import STT, SpeechEvent, SpeechEventType, STTStream
from bargein.providers.vad import VAD, VADEventType, VADStream

if TYPE_CHECKING:
    from bargein.providers.turn_detector import TurnDetector

__all__ = ["VOICE_PROBABILITY", "Recognition", "RecognitionHooks"]

#: The VAD probability that counts as "the user is voicing right now".
VOICE_PROBABILITY = 0.5
#: A VAD that fails is retried after this back-off (seconds of audio), doubled each time.
VAD_RETRY = 1.0
VAD_RETRY_MAX = 30.0
#: A VAD that says "speech" over this many seconds of near-silent input is stuck.
STUCK_VAD_QUIET = 3.0
#: Input is near-silent below this many times the line's noise level: the mean level while
#: the VAD hears no voice (frames of steady pink or babble noise stay below 2.6x its mean;
#: speech 10 dB above the noise goes well past 3x).
STUCK_VAD_LEVEL = 3.0
#: A VAD whose probability moved less than this over that near-silence is frozen: faulty,
#: an error is reported. One whose probability moved was listening to the line's noise
#: (babble is voices: Silero scores it 0.3-0.9, never flat) and its voice is just ended.
STUCK_VAD_FLAT = 0.02
#: Share of the noise level each non-voice frame moves (a mean over about a second).
_NOISE_SMOOTHING = 0.02


class RecognitionHooks(Protocol):
    """What :class:`Recognition` tells the session (times in session seconds)."""

    def on_voice_started(self, onset: float) -> None:
        """The user's voice began at ``onset`` (the VAD decided now)."""

    def on_voicing(self, active: bool) -> None:
        """One input frame inside the user's voice: ``active`` if voiced right now."""

    def on_voice_ended(self, offset: float) -> None:
        """The user's voice ended at ``offset`` (the VAD decided now)."""

    def on_transcript(self, event: SpeechEvent) -> None:
        """An interim or final transcript, its times moved to session seconds."""

    def on_end_of_turn(self) -> None:
        """The silence after the user's voice means the turn is over."""

    def on_preempt(self) -> None:
        """The turn sounds complete: a reply may be prepared (not played) already."""

    def on_cancel_preempt(self) -> None:
        """The user went on: drop the reply being prepared."""

    def current_transcript(self) -> str:
        """The words of the user's turn so far (for the turn detector)."""

    def on_error(self, source: str, error: BaseException, *, recoverable: bool = True) -> None:
        """A provider failed (listening goes on unless ``recoverable`` is False)."""


class Recognition:
    """Listens on an audio input (see the module docstring)."""

    def __init__(self, hooks: RecognitionHooks, *, vad: VAD, stt: STT,
                 endpointing: EndpointingOptions, sample_rate: int,
                 stt_preroll: float | None, clock: Callable[[], float],
                 turn_detector: TurnDetector | None = None) -> None:
        self._hooks = hooks
        self._vad, self._stt = vad, stt
        self._rate = sample_rate
        self._clock = clock  # session seconds, from the loop
        self._endpointing = Endpointing(
            endpointing, acknowledged_flush=stt.capabilities.acknowledges_flush,
            detector=turn_detector is not None)
        self._turn_audio: Any = None
        if turn_detector is not None:
            from bargein.providers.turn_detector import TurnDetectorStream

            self._turn_audio = TurnDetectorStream(turn_detector, sample_rate)
        self._probe: asyncio.Task[None] | None = None
        self._speech_end = 0.0  # stream time the user's voice last ended (for the detector)
        self._vad_stream: VADStream = vad.stream(sample_rate)
        #: input-stream time of the current VAD stream's first frame: a stream opened after
        #: a reset or a failure counts its event times from there (None: no frame yet)
        self._vad_origin: float | None = 0.0
        self._stt_stream: STTStream = stt.stream(sample_rate)
        self._gate = STTGate(self._stt_stream, stt_preroll)
        self._stream_time = 0.0  # seconds of input seen (the streams' clock)
        self._lag = 0.0  # session time minus stream time, at the latest frame
        self._timer: asyncio.TimerHandle | None = None
        self._vad_failures = 0
        self._vad_resume_at = 0.0
        self._vad_down_since: float | None = None  # stream time the VAD went down
        self._words_while_down = False
        self._quiet = 0.0  # seconds of near-silent input while the VAD says "speech"
        self._quiet_range = (1.0, 0.0)  # the VAD's lowest and highest probability then
        self._floor = 1.0  # the quietest input level, for a VAD stuck before any silence
        self._noise: float | None = None  # mean input level while the VAD hears no voice
        self._tasks: list[asyncio.Task[None]] = []

    # -- state ---------------------------------------------------------------------------------

    @property
    def user_speaking(self) -> bool:
        """True between the VAD's start and end of the user's voice."""
        return self._endpointing.voice_open

    @property
    def end_of_turn_pending(self) -> bool:
        """True while the user speaks or the end of their turn is still being decided."""
        return self._endpointing.voice_open or self._endpointing.deadline is not None

    def session_time(self, stream_time: float) -> float:
        """A time on the input stream, in session seconds."""
        return stream_time + self._lag

    # -- life ------------------------------------------------------------------------------------

    def start(self, audio_input: AudioInput) -> None:
        """Start listening on ``audio_input``."""
        self._tasks = [
            asyncio.create_task(self._input_loop(audio_input), name="bargein-input"),
            asyncio.create_task(self._transcript_loop(), name="bargein-stt"),
        ]

    async def aclose(self) -> None:
        """Stop listening."""
        if self._timer is not None:
            self._timer.cancel()
        if self._probe is not None:
            self._probe.cancel()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._stt_stream.aclose()
        close = getattr(self._vad_stream, "close", None)  # optional: frees its model now
        if close is not None:
            with contextlib.suppress(Exception):
                close()

    # -- input -----------------------------------------------------------------------------------

    async def _input_loop(self, audio_input: AudioInput) -> None:
        resampler: StreamResampler | None = None
        if audio_input.sample_rate != self._rate:
            resampler = StreamResampler(audio_input.sample_rate, self._rate)
        failing = False  # one error per streak of frames that could not be handled
        try:
            async for frame in audio_input:
                if resampler is not None:
                    frame = resampler.push(frame)  # type: ignore[assignment]
                    if frame is None:
                        continue
                self._stream_time += frame.duration
                self._lag = self._clock() - self._stream_time
                try:
                    self._push(frame)
                    failing = False
                except Exception as exc:  # a fault in one frame must not leave the agent deaf
                    if not failing:
                        self._hooks.on_error("input", exc)
                    failing = True
        except Exception as exc:  # the audio input itself broke: nothing more will come
            self._hooks.on_error("input", ProviderError(
                f"the audio input failed ({type(exc).__name__}: {exc}); "
                f"the agent no longer hears the caller"), recoverable=False)
            return
        try:
            for event in self._vad_stream.flush():
                self._on_vad(event.type, (self._vad_origin or 0.0) + event.time)
            self._stt_stream.flush()
        except Exception as exc:
            self._hooks.on_error("input", exc)

    def _push(self, frame: AudioFrame) -> None:
        if self._turn_audio is not None:
            self._turn_audio.push_frame(frame)
        if self._stream_time < self._vad_resume_at:
            self._gate.push(frame, speaking=True)  # no VAD for now: the recognizer hears all
            return
        if self._vad_origin is None:
            self._vad_origin = self._stream_time - frame.duration
        origin = self._vad_origin
        try:
            events = self._vad_stream.push_frame(frame)
            speaking = self._vad_stream.speaking
            probability = self._vad_stream.probability
        except Exception as exc:
            self._vad_failed(exc)
            self._gate.push(frame, speaking=True)
            return
        self._vad_failures = 0
        if self._vad_down_since is not None:
            self._vad_recovered()
        hearing = speaking or self._endpointing.flush_pending
        try:
            self._gate.push(frame, speaking=hearing)
        except Exception as exc:
            self._hooks.on_error("stt", exc)
        for event in events:
            self._on_vad(event.type, origin + event.time)
        if not self._endpointing.voice_open:
            level = frame.rms() if frame.num_samples else 0.0
            noise = self._noise
            self._noise = level if noise is None else noise + (level - noise) * _NOISE_SMOOTHING
        else:
            voiced = probability >= VOICE_PROBABILITY
            if voiced:
                self._speech_end = self._stream_time
            self._hooks.on_voicing(voiced)
            self._apply(self._endpointing.voicing(self._clock(), voiced))
            self._watch_for_stuck_vad(frame, probability)

    def _on_vad(self, kind: VADEventType, stream_time: float) -> None:
        t, now = self.session_time(stream_time), self._clock()
        if kind is VADEventType.START_OF_SPEECH:
            self._apply(self._endpointing.voice_started(now, t))
            self._quiet, self._quiet_range = 0.0, (1.0, 0.0)
            self._hooks.on_voice_started(t)
        else:
            self._speech_end = stream_time
            decisions = self._endpointing.voice_ended(now, t)
            self._hooks.on_voice_ended(t)  # the session knows the voice ended before the turn
            self._apply(decisions)
            self._schedule()

    def _vad_failed(self, exc: BaseException) -> None:
        """One error per failure streak; retry on a fresh stream after a growing back-off."""
        if self._vad_failures == 0:
            self._hooks.on_error("vad", exc)
            if self._vad_down_since is None:
                self._vad_down_since = self._stream_time
        self._vad_failures += 1
        backoff = min(VAD_RETRY * 2 ** (self._vad_failures - 1), VAD_RETRY_MAX)
        self._vad_resume_at = self._stream_time + backoff
        self._restart_vad()

    def _vad_recovered(self) -> None:
        """The VAD works again. Words the recognizer heard while it was down make a voice
        from the outage's start to now, so that turn ends like any other."""
        down_since, self._vad_down_since = self._vad_down_since, None
        if self._words_while_down and down_since is not None \
                and not self._endpointing.voice_open:
            self._on_vad(VADEventType.START_OF_SPEECH, down_since)
            self._on_vad(VADEventType.END_OF_SPEECH, self._stream_time)
        self._words_while_down = False

    def _restart_vad(self) -> None:
        with contextlib.suppress(Exception):
            self._vad_stream = self._vad.stream(self._rate)
            self._vad_origin = None  # its clock starts at the next frame it is given
        if self._endpointing.voice_open:  # the voice it was in ends where we are
            self._on_vad(VADEventType.END_OF_SPEECH, self._stream_time)

    def _watch_for_stuck_vad(self, frame: AudioFrame, probability: float) -> None:
        """Near-silence is measured against the line's noise (its quietest frame if the VAD
        never heard a pause yet): on a noisy line, input is never silent. A VAD whose score
        stayed flat over it is frozen (an error); one whose score moved heard the noise."""
        level = frame.rms() if frame.num_samples else 0.0
        self._floor = min(self._floor * 1.002, max(level, 1e-6))
        reference = (STUCK_VAD_LEVEL * self._noise if self._noise is not None
                     else 2 * self._floor)
        if level < reference + 1e-4:
            self._quiet += frame.duration
            low, high = self._quiet_range
            self._quiet_range = (min(low, probability), max(high, probability))
        else:
            self._quiet, self._quiet_range = 0.0, (1.0, 0.0)
        if self._quiet >= STUCK_VAD_QUIET:
            low, high = self._quiet_range
            self._quiet, self._quiet_range = 0.0, (1.0, 0.0)
            if high - low <= STUCK_VAD_FLAT:
                self._hooks.on_error("vad", RuntimeError(
                    f"the VAD has reported speech over {STUCK_VAD_QUIET:g} s of silence; "
                    "its stream was reset"))
            self._restart_vad()

    # -- transcripts -------------------------------------------------------------------------------

    async def _transcript_loop(self) -> None:
        while True:
            try:
                async for event in self._stt_stream:
                    self._on_transcript(event)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the recognizer failed: report, reopen, keep listening
                self._hooks.on_error("stt", exc)
                failed = self._stt_stream
                self._reopen_stt()
                with contextlib.suppress(Exception):  # its workers must not outlive it
                    await failed.aclose()

    def _reopen_stt(self) -> None:
        """A new recognizer stream that continues the input's timeline."""
        stream = self._stt.stream(self._rate)
        sent = self._stream_time - self._gate.pending_seconds  # what the old stream was given
        if sent > 0:
            stream.skip(sent)
        self._stt_stream = stream
        self._gate.stream = stream
        self._endpointing.forget_pending_finals()

    def _on_transcript(self, event: SpeechEvent) -> None:
        event = replace(
            event, start=self.session_time(event.start), end=self.session_time(event.end),
            words=tuple(w.shifted(self._lag) for w in event.words))
        is_final = event.type is SpeechEventType.FINAL
        if self._vad_down_since is not None and event.text.strip():
            self._words_while_down = True
        self._hooks.on_transcript(event)
        self._apply(self._endpointing.transcript(
            self._clock(), final=is_final, has_words=bool(event.text.strip())))
        self._schedule()

    # -- end of turn ---------------------------------------------------------------------------

    def _apply(self, decisions: list[EndpointDecision]) -> None:
        for decision in decisions:
            action = decision.action
            if action is EndpointAction.FLUSH:
                try:
                    self._stt_stream.flush()
                except Exception as exc:
                    self._hooks.on_error("stt", exc)
            elif action is EndpointAction.PROBE:
                self._start_probe()
            elif action is EndpointAction.PREEMPT:
                self._hooks.on_preempt()
            elif action is EndpointAction.CANCEL_PREEMPT:
                self._hooks.on_cancel_preempt()
            else:
                if self._turn_audio is not None:
                    self._turn_audio.reset()  # the next turn's audio starts here
                self._hooks.on_end_of_turn()

    def _start_probe(self) -> None:
        """Ask the turn detector about the audio and words so far (in the background)."""
        if self._turn_audio is None:
            return
        if self._probe is not None:
            self._probe.cancel()
        transcript = self._hooks.current_transcript() or None
        self._probe = asyncio.create_task(
            self._run_probe(transcript, self._speech_end), name="bargein-turn")

    async def _run_probe(self, transcript: str | None, speech_end: float) -> None:
        try:
            prediction = await self._turn_audio.decide(transcript, speech_end=speech_end)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # no answer: the turn waits max_delay, as if unfinished
            self._hooks.on_error("turn_detector", exc)
            return
        self._apply(self._endpointing.predicted(self._clock(), bool(prediction.complete)))
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        due = self._endpointing.deadline
        if due is None:
            return
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(max(0.0, due - self._clock()), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._apply(self._endpointing.tick(self._clock()))
        self._schedule()
