"""Voice activity detection interface: streaming speech probabilities and start/end events."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from bargein.audio.frame import AudioFrame


class VADEventType(StrEnum):
    """What a :class:`VADEvent` reports."""

    START_OF_SPEECH = "start_of_speech"
    END_OF_SPEECH = "end_of_speech"


@dataclass(frozen=True, slots=True)
class VADEvent:
    """A speech boundary found by a VAD stream.

    Times are seconds on the stream's own timeline (samples pushed / sample rate):
    ``time`` is where the boundary lies in the audio, ``detected_at`` is how much audio had
    been pushed when the VAD decided (so ``detected_at - time`` is the detection delay).
    """

    type: VADEventType
    time: float
    detected_at: float
    probability: float
    speech_duration: float = 0.0


@runtime_checkable
class VADStream(Protocol):
    """One continuous audio stream through a VAD."""

    @property
    def probability(self) -> float:
        """Speech probability of the most recent analysis window."""
        ...

    @property
    def speaking(self) -> bool:
        """True between a START_OF_SPEECH and its END_OF_SPEECH."""
        ...

    def push_frame(self, frame: AudioFrame) -> list[VADEvent]:
        """Analyse ``frame`` (any length, the stream's sample rate) and return new events."""
        ...

    def flush(self) -> list[VADEvent]:
        """End of input: close an open speech segment and return its END_OF_SPEECH."""
        ...


@runtime_checkable
class VAD(Protocol):
    """A voice activity detector; ``stream()`` opens an independent stream."""

    def stream(self, sample_rate: int) -> VADStream:
        """Open a stream for audio at ``sample_rate`` Hz."""
        ...
