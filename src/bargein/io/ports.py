"""The audio ports: where user audio comes from and where agent audio plays.

Nothing that talks or listens touches a device or a network directly. It reads an
:class:`AudioInput` and writes an :class:`AudioOutput`; a microphone, a WebSocket, a phone
line or the simulator's room implement them. The output reports **playout** (how much of what
it was given was actually played), which is what makes barge-in truncation exact.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bargein.audio.frame import AudioFrame, check_sample_rate


@runtime_checkable
class AudioInput(Protocol):
    """User audio as it arrives, in real-time order (one frame per frame duration)."""

    @property
    def sample_rate(self) -> int:
        """Rate of the frames it yields."""
        ...

    def __aiter__(self) -> AsyncIterator[AudioFrame]:
        """Frames until the input closes."""
        ...


PlayCallback = Callable[[AudioFrame, float], None]


@dataclass(frozen=True, slots=True)
class PlaybackFinished:
    """How one output segment ended: seconds of it that were played, and whether it was cut."""

    position: float
    interrupted: bool


class AudioOutput(ABC):
    """Where agent speech plays. Audio is given in segments (one per speech).

    Frames queued with :meth:`capture_frame` play in order; :meth:`flush` marks the end of the
    segment; :meth:`wait_for_playout` returns once the segment played out or was cleared.
    An output that knows when each frame becomes audible calls :meth:`_notify_played`, so
    listeners (the session's word-by-word transcript) follow playout exactly.
    """

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = check_sample_rate(sample_rate)
        self._listeners: list[PlayCallback] = []

    @property
    def reports_frames(self) -> bool:
        """True if listeners are told when each frame starts playing."""
        return False

    def add_listener(self, callback: PlayCallback) -> None:
        """Call ``callback(frame, loop_time)`` whenever a frame starts playing."""
        self._listeners.append(callback)

    def remove_listener(self, callback: PlayCallback) -> None:
        """Stop calling ``callback``."""
        if callback in self._listeners:
            self._listeners.remove(callback)

    def _notify_played(self, frame: AudioFrame, at: float) -> None:
        for callback in list(self._listeners):
            callback(frame, at)

    @abstractmethod
    async def capture_frame(self, frame: AudioFrame) -> None:
        """Queue ``frame`` for playout; may wait while the output's buffer is full."""

    @abstractmethod
    def flush(self) -> None:
        """No more audio for the current segment."""

    @abstractmethod
    def clear_buffer(self) -> None:
        """Stop now: drop what has not played; the segment finishes as interrupted."""

    @abstractmethod
    def pause(self) -> None:
        """Hold playout at the current sample (for a possible false interruption)."""

    @abstractmethod
    def resume(self) -> None:
        """Continue playout after :meth:`pause`."""

    @property
    @abstractmethod
    def played(self) -> float:
        """Seconds of the current segment played so far (0 when no segment is open)."""

    @abstractmethod
    async def wait_for_playout(self) -> PlaybackFinished:
        """Wait until the current segment has played out or was cleared."""
