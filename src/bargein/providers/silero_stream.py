"""One audio stream through Silero VAD: 32 ms windows scored, START/END events decided.

:class:`SileroVADStream` buffers frames of any length into the model's fixed windows,
turns window probabilities into START/END-of-speech events with hysteresis, keeps the
block levels its boundary refinement reads
(:class:`~bargein.providers.silero_boundaries.BoundaryRefinement`), and resets the model's
state after a long stretch without speech. Its model comes from, and goes back to, the
per-process shelf here. The settings live on :class:`~bargein.providers.silero_vad.SileroVAD`
(see :mod:`bargein.providers.silero_vad` for the behaviour).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bargein.audio.frame import AudioFrame, check_session_rate
from bargein.audio.resample import StreamResampler
from bargein.errors import SampleRateError
from bargein.providers._model_shelf import ModelShelf
from bargein.providers.silero_boundaries import MAX_OFFSET_PULLBACK, BoundaryRefinement
from bargein.providers.vad import VADEvent, VADEventType

if TYPE_CHECKING:
    from bargein.providers.silero_vad import SileroVAD

__all__ = ["SileroVADStream", "WindowProbability"]

_BLOCK_SECONDS = 0.004  # level analysis granularity inside a window (4 ms)
_SHELF_SIZE = 4  # idle models kept per (rate, model file); each holds about 12 MB


@dataclass(frozen=True, slots=True)
class WindowProbability:
    """Speech probability of one analysis window, located on the stream timeline (s)."""

    start: float
    end: float
    probability: float


class SileroVADStream(BoundaryRefinement):
    """One continuous audio stream through Silero VAD (see
    :class:`~bargein.providers.silero_vad.SileroVAD`).

    Times are seconds on this stream's timeline: samples pushed / ``sample_rate``.
    ``on_window``, if set, is called with every :class:`WindowProbability` as it is scored.
    """

    def __init__(self, vad: SileroVAD, sample_rate: int) -> None:
        try:
            rate = check_session_rate(sample_rate)
        except SampleRateError as exc:
            raise SampleRateError(f"Silero VAD: {exc}") from None
        self._vad = vad
        self.sample_rate = rate
        #: The rate the model runs at: 8 kHz for 8 kHz streams, else 16 kHz.
        self.model_rate = 8000 if rate == 8000 else 16000
        self._model = vad._new_model(self.model_rate)
        self._give_back = _SHELF.lend(self, self._model, (self.model_rate, vad.model_path))
        self._closed = False
        self.window_samples = int(self._model.window_size_samples)
        self.window_duration = self.window_samples / self.model_rate
        self._block = max(1, round(_BLOCK_SECONDS * self.model_rate))
        self._blocks_per_window = self.window_samples // self._block
        self._block_s = self._block / self.model_rate
        self._bridge = self.window_duration  # quiet gap refinement may bridge
        self._resampler = (
            StreamResampler(rate, self.model_rate) if rate != self.model_rate else None
        )
        self._pending = np.zeros(0, dtype=np.float32)
        self._window = np.zeros(self.window_samples, dtype=np.float32)  # writable buffer
        self._samples_pushed = 0
        self._windows_done = 0

        self.history: deque[WindowProbability] = deque(maxlen=vad.history_size or 0)
        self.on_window: Callable[[WindowProbability], None] | None = None

        self._probability = 0.0
        self._speaking = False
        # Pending speech run (not yet reported): first window index and speech windows seen.
        self._run_start: int | None = None
        self._run_speech_windows = 0
        # Current segment.
        self._onset = 0.0
        self._last_speech_window = -1  # index of the last window >= deactivation threshold
        self._silence_windows = 0
        self._last_offset = 0.0

        # Level analysis for boundary refinement: block RMS of recent windows.
        keep = (
            math.ceil(
                (
                    vad.max_boundary_shift
                    + MAX_OFFSET_PULLBACK
                    + max(vad.min_silence_duration, vad.min_speech_duration)
                )
                / self.window_duration
            )
            + 4
        )
        self._levels: deque[tuple[int, np.ndarray]] = deque(maxlen=keep)
        self._floor_samples: deque[float] = deque(maxlen=max(1, round(1.0 / self.window_duration)))
        self._min_level = 10.0 ** (vad.min_level_db / 20.0)
        self._floor_margin = 10.0 ** (vad.floor_margin_db / 20.0)
        self._min_speech_windows = max(
            1, math.ceil(vad.min_speech_duration / self.window_duration - 1e-9)
        )
        self._min_silence_windows = max(
            1, math.ceil(vad.min_silence_duration / self.window_duration - 1e-9)
        )
        # windows without speech in a row, and how many of them reset the model's state
        self._quiet_windows = 0
        self._reset_windows = (
            None if vad.reset_after_silence is None
            else max(1, round(vad.reset_after_silence / self.window_duration))
        )

    # -- public state -----------------------------------------------------------------

    @property
    def probability(self) -> float:
        """Speech probability of the most recent window (0.0 before the first)."""
        return self._probability

    @property
    def speaking(self) -> bool:
        """True between a START_OF_SPEECH and its END_OF_SPEECH."""
        return self._speaking

    @property
    def time(self) -> float:
        """Seconds of audio pushed so far."""
        return self._samples_pushed / self.sample_rate

    # -- input ------------------------------------------------------------------------

    def close(self) -> None:
        """Done with this stream: its model goes back to the shelf now rather than when the
        stream is garbage collected (a session's objects form cycles that the collector
        frees late, and meanwhile the next session would load a model of its own)."""
        self._closed = True
        self._give_back()

    def push_frame(self, frame: AudioFrame) -> list[VADEvent]:
        """Analyse ``frame`` (any length, at the stream's rate) and return new events."""
        if self._closed:
            raise RuntimeError("this Silero VAD stream was closed; open a new one")
        if frame.sample_rate != self.sample_rate:
            raise SampleRateError(
                f"this Silero VAD stream takes {self.sample_rate} Hz audio, got "
                f"{frame.sample_rate} Hz; resample first or open a stream at that rate"
            )
        self._samples_pushed += frame.num_samples
        chunk: AudioFrame | None = frame
        if self._resampler is not None:
            chunk = self._resampler.push(frame)
        if chunk is None:
            return []
        samples = chunk.to_float()
        self._pending = (
            samples if not len(self._pending) else np.concatenate([self._pending, samples])
        )
        events: list[VADEvent] = []
        n = self.window_samples
        used = 0
        while len(self._pending) - used >= n:
            self._window[:] = self._pending[used : used + n]
            used += n
            event = self._analyse_window(self._window)
            if event is not None:
                events.append(event)
        if used:
            self._pending = self._pending[used:].copy()
        return events

    def flush(self) -> list[VADEvent]:
        """End of input: close an open speech segment and return its END_OF_SPEECH.

        The stream stays usable; audio pushed later continues the same timeline.
        """
        self._run_start = None
        self._run_speech_windows = 0
        if not self._speaking:
            return []
        return [self._end_segment()]

    # -- analysis ---------------------------------------------------------------------

    def _analyse_window(self, window: np.ndarray) -> VADEvent | None:
        index = self._windows_done
        self._windows_done += 1
        prob = float(self._model.process(memoryview(window.data)))
        self._probability = prob
        # block RMS: sum / count is what np.mean computes, without its per-call overhead
        levels = np.sqrt(
            np.square(window[: self._blocks_per_window * self._block], dtype=np.float64)
            .reshape(self._blocks_per_window, self._block)
            .sum(axis=1)
            / self._block
        )
        self._levels.append((index, levels))
        start = index * self.window_duration
        entry = WindowProbability(start, start + self.window_duration, prob)
        if self.history.maxlen:
            self.history.append(entry)
        if self.on_window is not None:
            self.on_window(entry)

        vad = self._vad
        if self._speaking:
            if prob >= vad.deactivation_threshold:
                self._last_speech_window = index
                self._silence_windows = 0
                return None
            self._silence_windows += 1
            if self._silence_windows >= self._min_silence_windows:
                return self._end_segment()
            return None

        if prob < vad.deactivation_threshold:
            self._floor_samples.append(_median(levels.tolist()))
            self._count_quiet_window()
        else:
            self._quiet_windows = 0
        if self._run_start is None:
            if prob >= vad.activation_threshold:
                self._run_start = index
                self._run_speech_windows = 1
            else:
                return None
        elif prob >= vad.activation_threshold:
            self._run_speech_windows += 1
        elif prob < vad.deactivation_threshold:
            self._run_start = None
            self._run_speech_windows = 0
            return None
        if self._run_speech_windows < self._min_speech_windows:
            return None
        return self._start_segment(index)

    def _count_quiet_window(self) -> None:
        """One more window without speech; reset the model's state after enough of them
        (outside a speech run: a run that may become speech keeps its state)."""
        if self._run_start is not None or self._reset_windows is None:
            self._quiet_windows = 0
            return
        self._quiet_windows += 1
        if self._quiet_windows >= self._reset_windows:
            self._model.reset()
            self._quiet_windows = 0

    def _start_segment(self, index: int) -> VADEvent:
        assert self._run_start is not None
        onset = self._run_start * self.window_duration
        if self._vad.refine_boundaries:
            onset = self._refine_onset(self._run_start)
        onset = max(onset, self._last_offset, 0.0)
        self._speaking = True
        self._quiet_windows = 0
        self._onset = onset
        self._last_speech_window = index
        self._silence_windows = 0
        self._run_start = None
        self._run_speech_windows = 0
        window_end = (index + 1) * self.window_duration
        return VADEvent(
            type=VADEventType.START_OF_SPEECH,
            time=onset,
            detected_at=self.time,
            probability=self._probability,
            speech_duration=window_end - onset,
        )

    def _end_segment(self) -> VADEvent:
        offset = (self._last_speech_window + 1) * self.window_duration
        if self._vad.refine_boundaries:
            offset = self._refine_offset(self._last_speech_window)
        offset = max(offset, self._onset + self._block / self.model_rate)
        self._speaking = False
        self._silence_windows = 0
        self._last_offset = offset
        return VADEvent(
            type=VADEventType.END_OF_SPEECH,
            time=offset,
            detected_at=self.time,
            probability=self._probability,
            speech_duration=offset - self._onset,
        )


def _median(values: list[float]) -> float:
    """The median as ``np.median`` computes it (the mean of the two middle values of an even
    count), at a tenth of its cost for the 8 block levels of a window."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


_SHELF = ModelShelf(_SHELF_SIZE)
