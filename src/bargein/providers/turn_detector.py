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
    "AUDIO_DECISION_LATENCY",
    "DEFAULT_THRESHOLD",
    "DEFAULT_TRAILING_SILENCE",
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
#: Seconds of silence after the end of speech that a detector hears (see TurnDetectorStream).
DEFAULT_TRAILING_SILENCE = 0.1
#: Modeled time of one decision by an audio detector, charged to the loop clock by
#: :meth:`TurnDetectorStream.decide` unless told otherwise: about smart-turn's median cost
#: per decision on one thread of the 2-core reference machine (benchmarks/README.md).
AUDIO_DECISION_LATENCY = Fixed(0.1)


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

        ``audio``: the user's audio of the current turn at any supported rate, ending
        :data:`DEFAULT_TRAILING_SILENCE` after the end of speech (not at the later moment
        the VAD decided); only the last :data:`MAX_TURN_AUDIO` seconds are used.
        ``transcript``: the words recognised so far in this turn, or None if there is no
        recognizer.
        """
        ...


class TurnDetectorStream:
    """The current turn's audio for one session, and the detector's answer about it.

    Push every frame of the user's input as it arrives (only the last ``max_audio`` seconds
    are kept); the stream's clock, :attr:`time`, is the seconds pushed since it was opened,
    the same timeline as a VAD stream fed the same frames. Call :meth:`reset` when a new turn
    starts, and :meth:`predict` or :meth:`decide` at each end of speech with the VAD's
    end-of-speech ``time``: the detector then hears the turn up to the end of speech plus
    ``trailing_silence``, however late the VAD decided. That matters: smart-turn calls more
    turns complete the more silence follows them (benchmarks/README.md, "Turn detector").
    A second question about the same audio and transcript returns the remembered answer
    without running the model again.

    ``latency`` is charged by :meth:`decide`: by default :data:`AUDIO_DECISION_LATENCY` for a
    detector that needs audio, nothing for a words-only one; ``Measured()`` charges the real
    wall time of each decision.
    """

    def __init__(
        self,
        detector: TurnDetector,
        sample_rate: int,
        *,
        latency: Latency | None = None,
        max_audio: float = MAX_TURN_AUDIO,
        trailing_silence: float = DEFAULT_TRAILING_SILENCE,
    ) -> None:
        if not isinstance(sample_rate, int) or isinstance(sample_rate, bool) or sample_rate <= 0:
            raise SampleRateError(f"sample_rate must be a positive int, got {sample_rate!r}")
        if not (isinstance(max_audio, (int, float)) and 0 < max_audio <= 60):
            raise ValueError(f"max_audio must be in (0, 60] seconds, got {max_audio!r}")
        if not (isinstance(trailing_silence, (int, float)) and 0 <= trailing_silence <= 2):
            raise ValueError(
                f"trailing_silence must be in [0, 2] seconds, got {trailing_silence!r}"
            )
        if latency is None:
            latency = AUDIO_DECISION_LATENCY if detector.needs_audio else Fixed(0.0)
        if not hasattr(latency, "delay"):
            raise TypeError(f"latency must be a latency model such as Fixed(0.05), got {latency!r}")
        self.detector = detector
        self.sample_rate = sample_rate
        self.latency = latency
        self.trailing_silence = float(trailing_silence)
        self._max_samples = round(max_audio * sample_rate)
        self._frames: list[AudioFrame] = []
        self._kept = 0  # samples in _frames
        self._total = 0  # samples pushed since the stream was opened: the clock
        self._last: tuple[tuple[int, int, str | None], TurnPrediction] | None = None

    @property
    def time(self) -> float:
        """Seconds of audio pushed since the stream was opened."""
        return self._total / self.sample_rate

    @property
    def duration(self) -> float:
        """Seconds of audio kept for the current turn."""
        return self._kept / self.sample_rate

    def push_frame(self, frame: AudioFrame) -> None:
        """Add the user's audio (the stream's sample rate)."""
        if frame.sample_rate != self.sample_rate:
            raise SampleRateError(
                f"this turn detector stream takes {self.sample_rate} Hz audio, got "
                f"{frame.sample_rate} Hz"
            )
        self._frames.append(frame)
        self._kept += frame.num_samples
        self._total += frame.num_samples
        # Keep max_audio plus room for the trailing silence the VAD waited for.
        limit = self._max_samples + 2 * self.sample_rate
        while self._frames and self._kept - self._frames[0].num_samples >= limit:
            self._kept -= self._frames.pop(0).num_samples

    def reset(self) -> None:
        """A new turn begins: forget the kept audio and the remembered answer (the clock
        runs on)."""
        self._frames.clear()
        self._kept = 0
        self._last = None

    def audio(self, speech_end: float | None = None) -> AudioFrame | None:
        """The kept audio up to ``speech_end + trailing_silence`` (all of it when None),
        at most ``max_audio`` seconds; None if there is none."""
        stop = self._stop(speech_end)
        start = max(self._total - self._kept, stop - self._max_samples)
        if stop <= start:
            return None
        audio = concat(self._frames)
        self._frames = [audio]
        first = self._total - self._kept
        return AudioFrame(audio.data[2 * (start - first) : 2 * (stop - first)], self.sample_rate)

    def _stop(self, speech_end: float | None) -> int:
        """Sample index (on the stream clock) where the detector's audio ends."""
        if speech_end is None:
            return self._total
        if not (isinstance(speech_end, (int, float)) and math.isfinite(speech_end)):
            raise ValueError(f"speech_end must be a time in seconds, got {speech_end!r}")
        end = round((speech_end + self.trailing_silence) * self.sample_rate)
        return max(self._total - self._kept, min(self._total, end))

    def predict(
        self, transcript: str | None = None, *, speech_end: float | None = None
    ) -> TurnPrediction:
        """The detector's answer for the turn so far (blocking).

        ``speech_end``: where the user's speech ended, on the stream clock (the VAD's
        END_OF_SPEECH ``time``); None hears everything pushed.
        """
        stop = self._stop(speech_end)
        key = (self._total - self._kept, stop, transcript)
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        audio = self.audio(speech_end) if self.detector.needs_audio else None
        prediction = self.detector.predict(audio, transcript)
        self._last = (key, prediction)
        return prediction

    async def decide(
        self, transcript: str | None = None, *, speech_end: float | None = None
    ) -> TurnPrediction:
        """:meth:`predict` off the event loop, then wait for the latency model.

        In simulation the work runs inline and ``latency`` (e.g. ``Measured()`` for the
        real inference time) is charged to the virtual clock; live, the wall time it took
        counts towards it.
        """
        timer = WorkTimer()
        loop = asyncio.get_running_loop()
        prediction = await loop.run_in_executor(
            None, lambda: self.predict(transcript, speech_end=speech_end)
        )
        await timer.settle(self.latency)
        return prediction
