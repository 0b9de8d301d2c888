"""What a room's stereo recording tells: the WAV files, audible spans, exact agent edges.

:class:`RoomRecording` is the part of :class:`~bargein.sim.room.Room` that reads its
:class:`~bargein.audio.StereoRecorder` (left: user, right: agent) after or during a call:
it writes the recording, finds where each track is audible (the definition of
:mod:`bargein.audio.levels`) and where the agent's first or last sample lies around a
moment, to the sample. It only reads the recording; the room writes it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bargein.audio.levels import AUDIBLE_MERGE_GAP, AUDIBLE_WINDOW, Span, audible_spans
from bargein.audio.recorder import StereoRecorder

__all__ = ["RoomRecording"]


class RoomRecording:
    """Queries on a room's stereo recording (a base of :class:`~bargein.sim.room.Room`)."""

    recorder: StereoRecorder
    sample_rate: int

    def write(self, directory: str | Path) -> tuple[Path, Path]:
        """Write ``conversation.wav`` (stereo) and ``conversation-mono.wav`` into ``directory``.

        Returns both paths. The directory is created if needed.
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        stereo, mono = out / "conversation.wav", out / "conversation-mono.wav"
        self.recorder.write(stereo, mono)
        return stereo, mono

    def agent_audible_spans(
        self,
        threshold: float | None = None,
        *,
        window: float = AUDIBLE_WINDOW,
        merge_gap: float = AUDIBLE_MERGE_GAP,
    ) -> list[Span]:
        """``(start, end)`` seconds where the agent track is audible.

        The definition of :mod:`bargein.audio.levels`: ``window``-long windows louder than
        ``threshold`` (default: :data:`~bargein.audio.levels.AUDIBLE_RMS`, raised above the
        track's own noise floor if it has one), joined across gaps shorter than
        ``merge_gap``, edges refined to the millisecond.
        """
        return self._audible_spans("agent", threshold, window, merge_gap)

    def user_audible_spans(
        self,
        threshold: float | None = None,
        *,
        window: float = AUDIBLE_WINDOW,
        merge_gap: float = AUDIBLE_MERGE_GAP,
    ) -> list[Span]:
        """Like :meth:`agent_audible_spans`, for the user's (mouth) track: everything the
        mouth emitted, background noise included (the scenario metrics take the user's
        speech from the clean sources instead)."""
        return self._audible_spans("user", threshold, window, merge_gap)

    def last_agent_sample_before(self, t: float | None = None, *, level: int = 0) -> float | None:
        """End time of the last agent sample with ``|x| > level`` starting before ``t``.

        Sample-accurate: returns ``(i + 1) / rate`` for the last such sample ``i`` with
        ``i < round(t * rate)`` (``t=None``: the whole recording), or None if there is none.
        With ``t`` = the onset of a barge-in this gives the stop point of the agent.
        """
        x = self.recorder.track("agent").samples()
        limit = len(x) if t is None else max(0, min(len(x), round(t * self.sample_rate)))
        hits = np.flatnonzero(np.abs(x[:limit].astype(np.int32)) > level)
        return None if hits.size == 0 else (int(hits[-1]) + 1) / self.sample_rate

    def first_agent_sample_after(self, t: float = 0.0, *, level: int = 0) -> float | None:
        """Start time of the first agent sample with ``|x| > level`` at or after ``t``.

        Sample-accurate: returns ``i / rate`` for the first such sample ``i`` with
        ``i >= round(t * rate)``, or None. With ``t`` = the end of the user's speech this
        gives the response onset.
        """
        x = self.recorder.track("agent").samples()
        begin = max(0, round(t * self.sample_rate))
        hits = np.flatnonzero(np.abs(x[begin:].astype(np.int32)) > level)
        return None if hits.size == 0 else (begin + int(hits[0])) / self.sample_rate

    def _audible_spans(
        self, party: str, threshold: float | None, window: float, merge_gap: float
    ) -> list[Span]:
        samples = self.recorder.channel(party)  # as long as the whole recording
        return audible_spans(samples, self.sample_rate, threshold=threshold, window=window,
                             merge_gap=merge_gap)
