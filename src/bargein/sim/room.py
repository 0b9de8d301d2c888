"""The full-duplex room: a user and an agent on one audio timeline, in one event loop.

A :class:`Room` connects two parties the way a phone call or a shared table does:

- what the **user's mouth** emits (:meth:`RoomUser.say`) reaches the agent's input
  (:attr:`Room.agent_input`), one frame every ``frame_duration`` seconds of loop time, each
  delivered at the end of the span it covers, like a real microphone;
- what the **agent's output** plays (:attr:`Room.agent_output`, a
  :class:`~bargein.io.PacedAudioOutput`) reaches the user's ears
  (:meth:`RoomUser.on_hear`) and, with ``echo_gain``, the agent's own input as echo;
- a :class:`~bargein.audio.StereoRecorder` (left: user, right: agent) records both,
  sample-accurately, overlaps preserved.

Time 0 of the recording is the loop time of :meth:`Room.start`. The room reads time only
from the running loop, so it runs in virtual time (``run_simulation``) and live
(``asyncio.run``) alike. See ``docs/simulation.md``, section "The room".

This module runs the timeline (the microphone's frames, the agent's playout, echo). The
user's side (:class:`RoomUser`, :class:`Utterance`) is in :mod:`bargein.sim.room_user`, the
queries on the recording in :mod:`bargein.sim.room_recording`; both are re-exported here.
"""

from __future__ import annotations

import asyncio
import math

import numpy as np

from bargein.audio.frame import AudioFrame, check_session_rate
from bargein.audio.framing import samples_per_frame
from bargein.audio.levels import AUDIBLE_MERGE_GAP, AUDIBLE_RMS, AUDIBLE_WINDOW
from bargein.audio.mixer import clip_to_int16
from bargein.audio.recorder import StereoRecorder
from bargein.audio.resample import resample
from bargein.io import PacedAudioOutput, QueueAudioInput
from bargein.providers.oracle_stt import GroundTruth
from bargein.providers.tts import SynthesizedSpeech
from bargein.providers.types import WordTiming
from bargein.sim.room_recording import RoomRecording
from bargein.sim.room_user import HearCallback, RoomUser, Utterance, punctuated_words

__all__ = [
    "AUDIBLE_MERGE_GAP",
    "AUDIBLE_RMS",
    "AUDIBLE_WINDOW",
    "HearCallback",
    "Room",
    "RoomUser",
    "Utterance",
    "punctuated_words",
]

# Tolerance (in frames) when deciding whether a frame's span has ended at a loop time.
_FRAME_EPS = 1e-6
# Tolerance (in samples) when converting a time to a sample position.
_SAMPLE_EPS = 1e-6


class Room(RoomRecording):
    """Two parties, one timeline: the user's mouth feeds the agent's input, the agent's
    output plays to the user's ears, and a stereo recorder keeps both.

    Args:
        sample_rate: the session rate (8, 16 or 24 kHz) of every frame in the room.
        frame_duration: seconds per input frame; must be a whole number of samples.
        echo_gain: if set, agent playout times this gain is mixed into the agent input at the
            same sample positions (acoustic echo); never into the user's recorded track.
        truth: a :class:`~bargein.providers.oracle_stt.GroundTruth` that receives the words
            of synthesized speech the user says (on the agent-input timeline, which is the
            recording timeline).
        output_buffer: audio the agent output may hold ahead of its playout point, seconds.

    Use ``async with Room() as room:`` or call :meth:`start` and :meth:`aclose`.
    """

    def __init__(
        self,
        sample_rate: int = 16000,
        frame_duration: float = 0.02,
        *,
        echo_gain: float | None = None,
        truth: GroundTruth | None = None,
        output_buffer: float = 0.06,
    ) -> None:
        self.sample_rate = check_session_rate(sample_rate)
        self.samples_per_frame = samples_per_frame(self.sample_rate, frame_duration)
        self.frame_duration = self.samples_per_frame / self.sample_rate
        if echo_gain is not None and not (
            isinstance(echo_gain, (int, float)) and math.isfinite(echo_gain) and echo_gain >= 0
        ):
            raise ValueError(f"echo_gain must be a finite number >= 0 or None, got {echo_gain!r}")
        self.echo_gain = None if echo_gain is None else float(echo_gain)
        if truth is not None and not isinstance(truth, GroundTruth):
            raise TypeError(f"truth must be a GroundTruth, got {type(truth).__name__}")
        self.truth = truth
        self.recorder = StereoRecorder(self.sample_rate, ("user", "agent"))
        self.agent_input = QueueAudioInput(self.sample_rate)
        self.agent_output = PacedAudioOutput(self.sample_rate, self._play, buffer=output_buffer)
        self.user = RoomUser(self)
        self._t0: float | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._next_frame = 0
        self._active: list[Utterance] = []
        self._echo: list[tuple[int, np.ndarray]] = []
        self._silent_frame = AudioFrame(bytes(2 * self.samples_per_frame), self.sample_rate)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the recording clock (time 0 = now) and the microphone."""
        if self._t0 is not None:
            raise RuntimeError("this room was already started; a room runs once")
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._t0 = loop.time()
        self._task = loop.create_task(self._capture_loop(), name="bargein-room-microphone")

    async def aclose(self) -> None:
        """Capture the frames due by now, then stop the microphone and the agent output.

        The agent input is closed (its iteration ends after the queued frames) and every
        pending utterance's :meth:`~Utterance.done` is released. Calling it again is a no-op.
        """
        if self._closed:
            return
        self._closed = True
        if self._t0 is not None and self._loop is not None:
            self._capture_due(self._loop.time())
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.agent_output.aclose()
        self.agent_input.close()
        for utt in self.user.utterances:
            utt._done.set()
        self._active.clear()

    async def __aenter__(self) -> Room:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def started(self) -> bool:
        """True once :meth:`start` was called."""
        return self._t0 is not None

    @property
    def closed(self) -> bool:
        """True once :meth:`aclose` was called."""
        return self._closed

    @property
    def time(self) -> float:
        """Seconds since :meth:`start` on the recording timeline (0.0 before the start)."""
        if self._t0 is None or self._loop is None:
            return 0.0
        return self._loop.time() - self._t0

    @property
    def frames_delivered(self) -> int:
        """Number of frames handed to :attr:`agent_input` so far."""
        return self._next_frame

    # -- the user's mouth --------------------------------------------------------------------

    def _now_sample(self) -> float:
        return self.time * self.sample_rate

    def _say(self, audio: AudioFrame | SynthesizedSpeech, at: float | None,
             recorded_words: tuple[WordTiming, ...] | None = None) -> Utterance:
        if self._closed:
            raise RuntimeError("this room is closed; nothing more can be said in it")
        text: str | None = None
        words: tuple[WordTiming, ...] = ()
        if isinstance(audio, SynthesizedSpeech):
            if recorded_words is not None:
                raise TypeError("words= is for recordings; synthesized speech has its own")
            text, words = audio.text, punctuated_words(audio)
            frame = audio.audio
        elif isinstance(audio, AudioFrame):
            frame = audio
            if recorded_words:
                words = tuple(sorted(recorded_words, key=lambda w: (w.end, w.start)))
                text = " ".join(w.text for w in words)
        else:
            raise TypeError(
                f"say() takes an AudioFrame or a SynthesizedSpeech, got {type(audio).__name__}"
            )
        frame = resample(frame, self.sample_rate)
        n = self.samples_per_frame
        now = self.time
        first_free = self._next_frame
        if at is None:
            pos = math.ceil(now * self.sample_rate - _SAMPLE_EPS)
        else:
            if not (isinstance(at, (int, float)) and math.isfinite(at)):
                raise ValueError(f"at must be a finite number of seconds, got {at!r}")
            if at < now - 1e-9:
                raise ValueError(
                    f"cannot say audio at {at:.3f} s: that is in the past "
                    f"(the room is at {now:.3f} s)"
                )
            pos = math.ceil(at * self.sample_rate - _SAMPLE_EPS)
            if -(-pos // n) < first_free:
                raise ValueError(
                    f"cannot say audio at {at:.3f} s: the microphone already captured up to "
                    f"{first_free * self.frame_duration:.3f} s"
                )
        # Audio may start mid-frame: frame k is captured only at the end of its span, so any
        # sample of the frame being filled now is still free. Starting at the exact sample
        # (not the next frame boundary) keeps a barge-in on its trigger moment, live or not.
        start = max(first_free * n, max(0, pos))
        utt = Utterance(self, frame.to_int16(), start, text, words)
        self.user.utterances.append(utt)
        self._active.append(utt)
        return utt

    def _speaking(self) -> bool:
        if self._t0 is None:
            return False
        s = self._now_sample()
        return any(
            u.start_sample <= s < u.stop_sample and not u.is_done for u in self.user.utterances
        )

    def _cut(self, utt: Utterance) -> None:
        n = self.samples_per_frame
        boundary = -(-math.ceil(self._now_sample() - _SAMPLE_EPS) // n) * n
        boundary = max(boundary, self._next_frame * n)
        utt.stop_sample = max(utt.start_sample, min(utt.stop_sample, boundary))
        if utt.stop_sample <= self._next_frame * n or utt.stop_sample == utt.start_sample:
            self._finish(utt)

    def _finish(self, utt: Utterance) -> None:
        if utt in self._active:
            self._active.remove(utt)
        self._add_words(utt, utt.stop_sample, everything=not utt.cancelled)
        utt._done.set()

    def _add_words(self, utt: Utterance, until_sample: int, *, everything: bool) -> None:
        if self.truth is None or utt._next_word >= len(utt._words):
            return
        limit = (until_sample - utt.start_sample) / self.sample_rate + 1e-9
        ready: list[WordTiming] = []
        while utt._next_word < len(utt._words):
            word = utt._words[utt._next_word]
            if not everything and word.end > limit:
                break
            ready.append(word)
            utt._next_word += 1
        if ready:
            self.truth.add(ready, offset=utt.start)

    # -- the microphone ----------------------------------------------------------------------

    async def _capture_loop(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._t0 is not None
        while True:
            due = self._t0 + (self._next_frame + 1) * self.frame_duration
            if loop.time() < due:
                await _sleep_until(loop, due)
            self._capture_due(loop.time())

    def _capture_due(self, now: float) -> None:
        assert self._t0 is not None
        due = math.floor((now - self._t0) / self.frame_duration + _FRAME_EPS)
        while self._next_frame < due:
            self._capture(self._next_frame)
            self._next_frame += 1

    def _capture(self, k: int) -> None:
        n = self.samples_per_frame
        a, b = k * n, (k + 1) * n
        mouth = np.zeros(n, np.int32)
        finished: list[Utterance] = []
        spoke = False
        for utt in self._active:
            lo, hi = max(a, utt.start_sample), min(b, utt.stop_sample)
            if lo < hi:
                off = utt.start_sample
                mouth[lo - a : hi - a] += utt._samples[lo - off : hi - off]
                spoke = True
            if utt.stop_sample <= b:
                finished.append(utt)
            elif utt.start_sample < b:
                self._add_words(utt, b, everything=False)
        # Most frames of a call are the caller's silence: one shared frame of zeros for them.
        said = (AudioFrame._unchecked(clip_to_int16(mouth).tobytes(), self.sample_rate)
                if spoke else self._silent_frame)
        self.recorder.record("user", said, a)
        if self.echo_gain is not None:
            heard = self._echo_between(a, b)
            frame = AudioFrame.from_int16(
                clip_to_int16(mouth + heard * self.echo_gain), self.sample_rate
            )
        else:
            frame = said
        for utt in finished:  # words first: an STT fed this frame must find them
            self._active.remove(utt)
            self._add_words(utt, utt.stop_sample, everything=not utt.cancelled)
        self.agent_input.push(frame)
        for utt in finished:
            utt._done.set()

    def _echo_between(self, a: int, b: int) -> np.ndarray:
        acc = np.zeros(b - a, np.float64)
        keep: list[tuple[int, np.ndarray]] = []
        for pos, samples in self._echo:
            lo, hi = max(a, pos), min(b, pos + len(samples))
            if lo < hi:
                acc[lo - a : hi - a] += samples[lo - pos : hi - pos]
            if pos + len(samples) > b:
                keep.append((pos, samples))
        self._echo = keep
        return acc

    # -- the agent's output ------------------------------------------------------------------

    def _play(self, frame: AudioFrame, at: float) -> None:
        if self._t0 is None:
            raise RuntimeError("the room's agent output was used before Room.start()")
        pos = max(0, round((at - self._t0) * self.sample_rate))
        self.recorder.record("agent", frame, pos)
        if self.echo_gain is not None:
            self._echo.append((pos, frame.to_int16()))
        when = pos / self.sample_rate
        for callback in list(self.user._listeners):
            callback(frame, when)


async def _sleep_until(loop: asyncio.AbstractEventLoop, when: float) -> None:
    """Sleep until loop time ``when`` exactly (``call_at``, no float drift from a delay)."""
    fut = loop.create_future()
    handle = loop.call_at(when, _wake, fut)
    try:
        await fut
    finally:
        handle.cancel()


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)
