"""What "audible" means, in one place: levels, noise floors, audible spans and onsets.

Every part of bargein that asks "is there sound here?" uses this module: the room's span
helpers, the scenario metrics, the simulated user's hearing (interrupt triggers) and the
benchmark. The definition:

- audio is cut into **windows** of :data:`AUDIBLE_WINDOW` seconds (10 ms); a window is
  audible when its RMS (fraction of full scale) exceeds the **threshold** of its lane;
- a lane's threshold is :data:`AUDIBLE_RMS` (about -50 dBFS), raised to
  :data:`FLOOR_MARGIN_DB` above the lane's **noise floor** when the lane has one (a phone
  line's hiss, an agent that streams comfort noise). The floor is the
  :data:`FLOOR_PERCENTILE`-th percentile of the lane's window levels, silence included;
- audible windows closer than :data:`AUDIBLE_MERGE_GAP` seconds are joined into one **span**;
  each span's edges are then refined to :data:`EDGE_BLOCK` (1 ms) blocks, so an onset is
  located to the millisecond, not to the window.

Clean sources (synthesized speech, a generated sound) have no floor: their onset is where the
sound starts. Recordings carry their room in them; their speech is found with a VAD instead
(see :mod:`bargein.scenario.user_audio`), never with a level on the mixed track.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

__all__ = [
    "AUDIBLE_MERGE_GAP",
    "AUDIBLE_RMS",
    "AUDIBLE_WINDOW",
    "EDGE_BLOCK",
    "FLOOR_MARGIN_DB",
    "FLOOR_PERCENTILE",
    "FloorTracker",
    "Span",
    "audible_spans",
    "merge_spans",
    "noise_floor",
    "overlap_seconds",
    "threshold_over",
    "window_levels",
]

#: Lowest RMS level (fraction of full scale) that counts as audible: about -50 dBFS.
AUDIBLE_RMS = 0.003
#: Analysis window, seconds.
AUDIBLE_WINDOW = 0.01
#: Silent gaps shorter than this (seconds) inside audible audio are bridged.
AUDIBLE_MERGE_GAP = 0.1
#: Span edges are refined to blocks this long, seconds.
EDGE_BLOCK = 0.001
#: Percentile of a lane's window levels taken as its noise floor.
FLOOR_PERCENTILE = 2.0
#: How far above the noise floor (dB) a window must be to count as audible.
FLOOR_MARGIN_DB = 10.0
#: Seconds of lane history the running floor (:class:`FloorTracker`) needs and keeps.
FLOOR_MIN_HISTORY = 0.5
FLOOR_HORIZON = 10.0
FLOOR_REFRESH = 0.2

Span = tuple[float, float]


def _as_float(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples)
    if x.dtype == np.int16:
        return x.astype(np.float64) / 32768.0
    return x.astype(np.float64, copy=False)


def window_levels(samples: np.ndarray, sample_rate: int,
                  window: float = AUDIBLE_WINDOW) -> np.ndarray:
    """RMS (fraction of full scale) of each ``window``-long window of ``samples`` (int16 or
    float in [-1, 1]); the last, partial window is padded with silence."""
    if not window > 0:
        raise ValueError(f"window must be > 0 seconds, got {window!r}")
    x = _as_float(samples)
    n = max(1, round(window * sample_rate))
    count = -(-len(x) // n)
    if count == 0:
        return np.zeros(0)
    padded = np.zeros(count * n)
    padded[: len(x)] = x
    # sum / n is np.mean's own arithmetic, without its per-call overhead (this runs on every
    # frame the simulated caller hears)
    return np.sqrt((padded.reshape(count, n) ** 2).sum(axis=1) / n)


def noise_floor(samples: np.ndarray, sample_rate: int) -> float:
    """The lane's noise floor: the :data:`FLOOR_PERCENTILE`-th percentile of its window
    levels (0.0 for a lane that is silent between sounds)."""
    levels = window_levels(samples, sample_rate)
    return float(np.percentile(levels, FLOOR_PERCENTILE)) if levels.size else 0.0


def threshold_over(floor: float) -> float:
    """The audibility threshold of a lane whose noise floor is ``floor``."""
    return max(AUDIBLE_RMS, floor * 10 ** (FLOOR_MARGIN_DB / 20))


def audible_spans(samples: np.ndarray, sample_rate: int, *, threshold: float | None = None,
                  window: float = AUDIBLE_WINDOW,
                  merge_gap: float = AUDIBLE_MERGE_GAP) -> list[Span]:
    """``(start, end)`` seconds where ``samples`` are audible (see the module docstring).

    ``threshold`` defaults to :func:`threshold_over` the lane's own :func:`noise_floor`; pass
    a number to use a fixed one. Edges are refined to :data:`EDGE_BLOCK` and clipped to the
    audio.
    """
    if threshold is not None and not (math.isfinite(threshold) and threshold >= 0):
        raise ValueError(f"threshold must be a finite number >= 0, got {threshold!r}")
    if not (math.isfinite(merge_gap) and merge_gap >= 0):
        raise ValueError(f"merge_gap must be a finite number >= 0, got {merge_gap!r}")
    x = _as_float(samples)
    if x.size == 0:
        return []
    levels = window_levels(x, sample_rate, window)
    if threshold is None:
        threshold = threshold_over(float(np.percentile(levels, FLOOR_PERCENTILE)))
    n = max(1, round(window * sample_rate))
    loud = np.flatnonzero(levels > threshold)
    spans: list[list[int]] = []
    gap = merge_gap * sample_rate
    for i in loud.tolist():
        a, b = i * n, min(len(x), (i + 1) * n)
        if spans and (a <= spans[-1][1] or a - spans[-1][1] < gap):
            spans[-1][1] = b
        else:
            spans.append([a, b])
    return [_refine(x, a, b, n, threshold, sample_rate) for a, b in spans]


def _refine(x: np.ndarray, a: int, b: int, n: int, threshold: float,
            sample_rate: int) -> Span:
    """Move a span's edges (window boundaries) to the first and last audible 1 ms block
    within one window of them."""
    block = max(1, round(EDGE_BLOCK * sample_rate))
    lo = max(0, a - n)
    head = x[lo: min(len(x), a + n)]
    start = a
    loud = np.flatnonzero(window_levels(head, sample_rate, block / sample_rate) > threshold)
    if loud.size:
        start = lo + int(loud[0]) * block
    hi = min(len(x), b + n)
    tail_lo = max(0, b - n)
    tail = x[tail_lo:hi]
    end = b
    loud = np.flatnonzero(window_levels(tail, sample_rate, block / sample_rate) > threshold)
    if loud.size:
        end = min(hi, tail_lo + (int(loud[-1]) + 1) * block)
    start = min(start, end)
    return start / sample_rate, end / sample_rate


def merge_spans(spans: list[Span], gap: float) -> list[Span]:
    """Join spans (sorted by start) separated by less than ``gap`` seconds."""
    out: list[Span] = []
    for start, end in spans:
        if out and start - out[-1][1] < gap:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def overlap_seconds(a: list[Span], b: list[Span]) -> float:
    """Seconds covered by both span lists (each list non-overlapping)."""
    total = 0.0
    for s1, e1 in a:
        for s2, e2 in b:
            total += max(0.0, min(e1, e2) - max(s1, s2))
    return total


class FloorTracker:
    """The running noise floor of a lane heard frame by frame (the online form of
    :func:`noise_floor`, over the last :data:`FLOOR_HORIZON` seconds; time with nothing
    playing counts as silence). Until :data:`FLOOR_MIN_HISTORY` seconds are known the floor
    is 0, so :meth:`audible` uses the bare :data:`AUDIBLE_RMS`."""

    def __init__(self) -> None:
        self._levels: deque[float] = deque(maxlen=round(FLOOR_HORIZON / AUDIBLE_WINDOW))
        self._until = 0.0  # lane time covered so far
        self._floor: float | None = None
        self._stale = 0  # windows added since the floor was last estimated

    def add(self, samples: np.ndarray, sample_rate: int, at: float) -> np.ndarray:
        """Account for ``samples`` playing from ``at`` seconds; returns their window levels."""
        silent = at - self._until
        if silent >= AUDIBLE_WINDOW:
            count = min(self._levels.maxlen or 0, int(silent / AUDIBLE_WINDOW))
            self._levels.extend([0.0] * count)
            self._stale += count
        levels = window_levels(samples, sample_rate)
        self._levels.extend(levels.tolist())
        self._stale += len(levels)
        self._until = max(self._until, at + len(samples) / sample_rate)
        return levels

    @property
    def floor(self) -> float:
        """The current noise floor estimate (RMS, fraction of full scale), re-estimated
        every :data:`FLOOR_REFRESH` seconds of lane (a floor moves slowly)."""
        if len(self._levels) * AUDIBLE_WINDOW < FLOOR_MIN_HISTORY - 1e-9:
            return 0.0
        if self._floor is None or self._stale * AUDIBLE_WINDOW >= FLOOR_REFRESH - 1e-9:
            levels = np.fromiter(self._levels, float)
            k = min(len(levels) - 1, int(len(levels) * FLOOR_PERCENTILE / 100))
            self._floor = float(np.partition(levels, k)[k])
            self._stale = 0
        return self._floor

    def audible(self, levels: np.ndarray) -> bool:
        """True if any of these window levels is audible over the current floor."""
        return bool(levels.size) and bool(np.max(levels) > threshold_over(self.floor))
