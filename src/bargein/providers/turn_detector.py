"""Turn detector interface: has the user finished their turn?

A turn detector looks at the user's audio of the current turn (the last few seconds, up to
the end of speech) and, when there is one, the transcript so far, and returns the
probability that the user is done. The session asks once per end of speech and waits short
when the answer is "complete", longer when it is not (DESIGN.md section 4).

Implementations:

- ``bargein.providers.smart_turn.SmartTurnDetector``: the smart-turn v3.2 audio model
  (extra ``turn``, part of ``local``);
- ``bargein.providers.text_turn.TextTurnDetector``: words only, pure Python;
- ``bargein.providers.combined_turn.CombinedTurnDetector``: both, with a documented rule.

A detector call is synchronous CPU work (tens of milliseconds for the audio model, well
under one for the words). :class:`TurnDetectorStream` keeps the audio of the current turn
for a session, remembers its last answer, and charges a decision's latency to the loop
clock in :meth:`TurnDetectorStream.decide`.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bargein.audio.frame import AudioFrame, concat
from bargein.errors import SampleRateError
from bargein.providers.latency import Fixed, Latency, WorkTimer

__all__ = [
    "DEFAULT_THRESHOLD",
    "MAX_TURN_AUDIO",
    "TurnDetector",
    "TurnDetectorStream",
    "TurnPrediction",
    "check_probability",
]

#: Probability at or above which a turn counts as complete.
DEFAULT_THRESHOLD = 0.5
#: Seconds of the most recent audio a detector looks at (smart-turn's window).
MAX_TURN_AUDIO = 8.0


def check_probability(name: str, value: object) -> float:
    """``value`` as a float in [0, 1]; ValueError naming ``name`` otherwise (NaN included)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number in [0, 1], got {value!r}")
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class TurnPrediction:
    """A detector's answer for one moment of one turn.

    ``probability`` is the chance that the user has finished; ``complete`` compares it with
    the detector's threshold. ``audio_probability`` and ``text_probability`` are the parts
    it was made of (None when that part was not used), ``reason`` says in a few words what
    decided.
    """

    probability: float
    complete: bool
    audio_probability: float | None = None
    text_probability: float | None = None
    reason: str = ""


@runtime_checkable
class TurnDetector(Protocol):
    """Says whether a user's turn is complete, from its audio and/or its words."""

    @property
    def threshold(self) -> float:
        """Probability at or above which :attr:`TurnPrediction.complete` is True."""
        ...

    @property
    def needs_audio(self) -> bool:
        """True if :meth:`predict` needs the audio (an audio model); False for words only."""
        ...

    def predict(self, audio: AudioFrame | None, transcript: str | None = None) -> TurnPrediction:
        """Probability that the turn is over (blocking CPU work).

        ``audio``: the user's audio of the current turn at any supported rate, ending at the
        moment of the decision (include the short silence after the last word); only the
        last :data:`MAX_TURN_AUDIO` seconds are used. ``transcript``: the words recognised so
        far in this turn, or None if there is no recognizer.
        """
        ...


class TurnDetectorStream:
    """The current turn's audio for one session, and the detector's answer about it.

    Push the user's audio as it arrives (only the last :data:`MAX_TURN_AUDIO` seconds are
    kept), call :meth:`reset` when a new turn starts, and :meth:`predict` or :meth:`decide`
    at each end of speech. A second question about the same audio and transcript returns
    the remembered answer without running the model again.
    """

    def __init__(
        self,
        detector: TurnDetector,
        sample_rate: int,
        *,
        latency: Latency = Fixed(0.0),  # noqa: B008 - immutable value object
        max_audio: float = MAX_TURN_AUDIO,
    ) -> None:
        if not isinstance(sample_rate, int) or isinstance(sample_rate, bool) or sample_rate <= 0:
            raise SampleRateError(f"sample_rate must be a positive int, got {sample_rate!r}")
        if not (isinstance(max_audio, (int, float)) and 0 < max_audio <= 60):
            raise ValueError(f"max_audio must be in (0, 60] seconds, got {max_audio!r}")
        if not hasattr(latency, "delay"):
            raise TypeError(f"latency must be a latency model such as Fixed(0.05), got {latency!r}")
        self.detector = detector
        self.sample_rate = sample_rate
        self.latency = latency
        self._max_samples = round(max_audio * sample_rate)
        self._frames: list[AudioFrame] = []
        self._samples = 0
        self._pushed = 0  # samples pushed since reset(); identifies the audio of an answer
        self._last: tuple[tuple[int, str | None], TurnPrediction] | None = None

    @property
    def duration(self) -> float:
        """Seconds of audio kept for the current turn."""
        return self._samples / self.sample_rate

    def push_frame(self, frame: AudioFrame) -> None:
        """Add the user's audio (the stream's sample rate)."""
        if frame.sample_rate != self.sample_rate:
            raise SampleRateError(
                f"this turn detector stream takes {self.sample_rate} Hz audio, got "
                f"{frame.sample_rate} Hz"
            )
        if frame.num_samples == 0:
            return
        self._frames.append(frame)
        self._samples += frame.num_samples
        self._pushed += frame.num_samples
        while self._frames and self._samples - self._frames[0].num_samples >= self._max_samples:
            self._samples -= self._frames.pop(0).num_samples

    def reset(self) -> None:
        """A new turn begins: forget its audio and the remembered answer."""
        self._frames.clear()
        self._samples = 0
        self._pushed = 0
        self._last = None

    def audio(self) -> AudioFrame | None:
        """The kept audio (at most ``max_audio`` seconds), or None before any."""
        if not self._frames:
            return None
        audio = concat(self._frames)
        excess = audio.num_samples - self._max_samples
        if excess > 0:
            audio = AudioFrame(audio.data[2 * excess :], audio.sample_rate)
        self._frames = [audio]
        self._samples = audio.num_samples
        return audio

    def predict(self, transcript: str | None = None) -> TurnPrediction:
        """The detector's answer for the kept audio and ``transcript`` (blocking)."""
        key = (self._pushed, transcript)
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        audio = self.audio() if self.detector.needs_audio else None
        prediction = self.detector.predict(audio, transcript)
        self._last = (key, prediction)
        return prediction

    async def decide(self, transcript: str | None = None) -> TurnPrediction:
        """:meth:`predict` off the event loop, then wait for the latency model.

        In simulation the work runs inline and ``latency`` (e.g. ``Measured()`` for the
        real inference time) is charged to the virtual clock; live, the wall time it took
        counts towards it.
        """
        timer = WorkTimer()
        loop = asyncio.get_running_loop()
        prediction = await loop.run_in_executor(None, self.predict, transcript)
        await timer.settle(self.latency)
        return prediction
