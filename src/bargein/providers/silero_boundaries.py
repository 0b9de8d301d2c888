"""Where a Silero speech segment starts and ends in the audio: boundary refinement.

Silero decides speech by 32 ms windows and often scores a soft onset one window late and an
offset a window or two late. :class:`BoundaryRefinement` moves each boundary to the edge of
the speech's loud 4 ms blocks (levels relative to the measured noise floor), by at most
``max_boundary_shift`` seconds and only across audio already seen, so it never delays a
decision (see :mod:`bargein.providers.silero_vad`). It is a base of
:class:`~bargein.providers.silero_stream.SileroVADStream`, whose block levels it reads.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from bargein.providers.silero_vad import SileroVAD

__all__ = ["MAX_OFFSET_PULLBACK", "BoundaryRefinement"]

#: How far (seconds) before Silero's last speech window end speech may end.
MAX_OFFSET_PULLBACK = 0.3


class BoundaryRefinement:
    """Onsets and offsets moved to the level edges of the speech, from a stream's kept
    block levels (a base of :class:`~bargein.providers.silero_stream.SileroVADStream`)."""

    _vad: SileroVAD
    model_rate: int
    window_duration: float
    _block: int
    _block_s: float
    _bridge: float
    _onset: float
    _levels: deque[tuple[int, np.ndarray]]
    _floor_samples: deque[float]
    _min_level: float
    _floor_margin: float

    def _level_threshold(self) -> float:
        floor = min(self._floor_samples) if self._floor_samples else 0.0
        return max(self._min_level, floor * self._floor_margin)

    def _blocks(self, first_window: int, last_window: int) -> tuple[np.ndarray, np.ndarray]:
        """Block levels and block start times (s) of the kept windows in a range."""
        levels = [lv for i, lv in self._levels if first_window <= i <= last_window]
        firsts = [i for i, _ in self._levels if first_window <= i <= last_window]
        if not levels:
            return np.zeros(0), np.zeros(0)
        block_s = self._block / self.model_rate
        starts = np.concatenate(
            [
                i * self.window_duration + np.arange(len(lv)) * block_s
                for i, lv in zip(firsts, levels, strict=True)
            ]
        )
        return np.concatenate(levels), starts

    def _refine_onset(self, first_window: int) -> float:
        """Earliest loud block connected to the speech run, at most ``max_boundary_shift`` early.

        Starts from the first loud block inside the first speech window and walks back over
        loud blocks, bridging quiet gaps of up to one window (a stop closure as in "st").
        """
        anchor = first_window * self.window_duration
        shift = self._vad.max_boundary_shift
        back = math.ceil(shift / self.window_duration)
        levels, starts = self._blocks(first_window - back, first_window)
        if not len(levels):
            return anchor
        loud = np.flatnonzero(levels >= self._level_threshold())
        inside = loud[starts[loud] >= anchor - 1e-9]
        if not len(inside):
            return anchor
        onset = float(starts[int(inside[0])])
        for i in loud[starts[loud] < onset - 1e-9][::-1]:
            t = float(starts[int(i)])
            if t < anchor - shift - 1e-9 or onset - t > self._bridge + 1e-9:
                break
            onset = t
        return onset

    def _refine_offset(self, last_window: int) -> float:
        """End of the last loud block near the end of the last speech window.

        Looks back up to ``MAX_OFFSET_PULLBACK`` seconds for the last loud block before the
        window end (Silero often stays high after the speech), then walks forward over loud
        blocks, bridging quiet gaps of up to one window, at most ``max_boundary_shift`` late.
        """
        anchor = (last_window + 1) * self.window_duration
        shift = self._vad.max_boundary_shift
        back = math.ceil(MAX_OFFSET_PULLBACK / self.window_duration)
        ahead = math.ceil(shift / self.window_duration)
        levels, starts = self._blocks(last_window + 1 - back, last_window + ahead)
        if not len(levels):
            return anchor
        ends = starts + self._block / self.model_rate
        loud = np.flatnonzero(levels >= self._level_threshold())
        lower = max(anchor - MAX_OFFSET_PULLBACK, self._onset) - 1e-9
        inside = loud[(ends[loud] <= anchor + 1e-9) & (starts[loud] >= lower)]
        if not len(inside):
            return anchor
        offset = float(ends[int(inside[-1])])
        for i in loud[ends[loud] > offset + 1e-9]:
            t = float(ends[int(i)])
            if t > anchor + shift + 1e-9 or t - offset > self._bridge + self._block_s + 1e-9:
                break
            offset = t
        return offset
