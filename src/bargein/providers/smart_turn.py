"""End of turn from the voice: the smart-turn v3.2 model on onnxruntime (extra ``turn``).

smart-turn v3.2 (Daily, BSD-2-Clause) is a Whisper-encoder classifier trained on human speech:
it reads the last 8 s of a turn as Whisper log-mel features and returns the probability that
the speaker has finished. The 8.7 MB int8 ONNX file ships inside the ``pipecat-ai`` 1.14 wheel
(``pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx``). bargein locates the file
without importing pipecat, checks its pinned SHA-256 before the first load and runs it with
its own numpy front end (:mod:`bargein.providers.log_mel`): audio resampled to 16 kHz, the
last 8 s kept, shorter audio zero-padded at the start, normalised to zero mean and unit
variance, 80 mel bins by 800 frames.

Cost: about 20 ms of features plus the model on one onnxruntime thread per decision; the
figures for this machine are in ``benchmarks/README.md``.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from bargein._extras import require
from bargein.audio.frame import AudioFrame
from bargein.audio.resample import resample
from bargein.errors import EmptyAudioError, MissingExtraError, ModelFileError
from bargein.providers.log_mel import SAMPLE_RATE, log_mel_spectrogram
from bargein.providers.model_files import PinnedFile, verify_model_dir
from bargein.providers.turn_detector import (
    DEFAULT_THRESHOLD,
    MAX_TURN_AUDIO,
    TurnPrediction,
    check_probability,
)

__all__ = ["SMART_TURN_FILE", "SmartTurnDetector", "bundled_model_path", "clear_session_cache"]

#: The published smart-turn v3.2 CPU model as shipped in pipecat-ai 1.14.
SMART_TURN_FILE = PinnedFile(
    "smart-turn-v3.2-cpu.onnx", "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"
)
_PACKAGE_DIR = ("audio", "turn", "smart_turn", "data")
_PACKAGE_HINT = "the pipecat-ai package (extra 'turn', part of 'local')"
_WINDOW_SAMPLES = round(MAX_TURN_AUDIO * SAMPLE_RATE)

# Loaded sessions, shared by every detector in the process: (path, threads) -> session.
_sessions: dict[tuple[str, int], Any] = {}
_sessions_lock = threading.Lock()


def clear_session_cache() -> None:
    """Drop every loaded smart-turn session (the next use loads again)."""
    with _sessions_lock:
        _sessions.clear()


def bundled_model_path() -> Path:
    """Where the ``pipecat-ai`` wheel put the smart-turn v3.2 model (pipecat is not imported).

    Raises:
        MissingExtraError: ``pipecat-ai`` is not installed (names ``bargein[turn]``).
    """
    spec = importlib.util.find_spec("pipecat")
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError("pipecat", "turn", "The smart-turn end-of-turn model")
    root = Path(next(iter(spec.submodule_search_locations)))
    return root.joinpath(*_PACKAGE_DIR, SMART_TURN_FILE.name)


class SmartTurnDetector:
    """Audio end-of-turn detection with smart-turn v3.2 (a :class:`TurnDetector`).

    Args:
        model_path: an ONNX file; the model bundled in ``pipecat-ai`` by default.
        threshold: probability at or above which the turn counts as complete.
        cpu_threads: onnxruntime intra-op threads; 1 by default, so the VAD and the
            recognizers keep the other core.
        verify: check the pinned SHA-256 before loading. Only a caller-supplied
            ``model_path`` (another model) may turn this off.

    The transcript argument of :meth:`predict` is ignored: this detector hears, it does not
    read. Combine it with words in :class:`~bargein.providers.combined_turn.CombinedTurnDetector`.
    """

    needs_audio = True

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        cpu_threads: int = 1,
        verify: bool = True,
    ) -> None:
        if isinstance(cpu_threads, bool) or not isinstance(cpu_threads, int) or cpu_threads < 1:
            raise ValueError(f"cpu_threads must be an int >= 1, got {cpu_threads!r}")
        if model_path is None:
            if not verify:
                raise ValueError("verify=False is only allowed with your own model_path")
            model_path = bundled_model_path()
        self.model_path = Path(model_path)
        self._threshold = check_probability("threshold", threshold)
        self.cpu_threads = cpu_threads
        self.verify = bool(verify)
        self._session: Any = None

    @property
    def threshold(self) -> float:
        """Probability at or above which a turn is complete."""
        return self._threshold

    def __repr__(self) -> str:
        return (
            f"SmartTurnDetector(model_path={str(self.model_path)!r}, "
            f"threshold={self._threshold}, cpu_threads={self.cpu_threads})"
        )

    # -- model ------------------------------------------------------------------------

    def load(self) -> Any:
        """Verify and load the model now (blocking); later calls reuse it."""
        if self._session is not None:
            return self._session
        if self.verify:
            verify_model_dir(self.model_path.parent, [self._pinned()], package_hint=_PACKAGE_HINT)
        elif not self.model_path.is_file():
            raise ModelFileError(f"smart-turn model file {self.model_path} does not exist")
        key = (str(self.model_path.resolve()), self.cpu_threads)
        with _sessions_lock:
            session = _sessions.get(key)
            if session is None:
                ort = require("onnxruntime", extra="turn", feature="The smart-turn model")
                options = ort.SessionOptions()
                options.intra_op_num_threads = self.cpu_threads
                options.inter_op_num_threads = 1
                options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                try:
                    session = ort.InferenceSession(
                        str(self.model_path), sess_options=options,
                        providers=["CPUExecutionProvider"],
                    )
                except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
                    raise ModelFileError(
                        f"onnxruntime could not load {self.model_path}: {exc}"
                    ) from exc
                _sessions[key] = session
        self._session = session
        return session

    def _pinned(self) -> PinnedFile:
        if self.model_path.name != SMART_TURN_FILE.name:
            return PinnedFile(self.model_path.name, SMART_TURN_FILE.sha256)
        return SMART_TURN_FILE

    # -- prediction -------------------------------------------------------------------

    def features(self, audio: AudioFrame) -> np.ndarray:
        """The model input for ``audio``: float32 ``(1, 80, 800)``."""
        if not isinstance(audio, AudioFrame):
            raise TypeError(f"the smart-turn model takes an AudioFrame, got {type(audio).__name__}")
        samples = resample(audio, SAMPLE_RATE).to_float()[-_WINDOW_SAMPLES:]
        if len(samples) < _WINDOW_SAMPLES:
            samples = np.concatenate(
                [np.zeros(_WINDOW_SAMPLES - len(samples), dtype=np.float32), samples]
            )
        return log_mel_spectrogram(samples, normalize=True)[np.newaxis]

    def probability(self, audio: AudioFrame) -> float:
        """Probability (0..1) that the speaker of ``audio`` has finished their turn."""
        if audio is None:
            raise EmptyAudioError("the smart-turn model needs the turn's audio, got None")
        return self.run_model(self.features(audio))

    def run_model(self, features: np.ndarray) -> float:
        """The model's probability for features made by :meth:`features`."""
        outputs = self.load().run(None, {"input_features": features})
        value = float(np.asarray(outputs[0]).reshape(-1)[0])
        return min(1.0, max(0.0, value))  # the graph ends in a sigmoid

    def predict(self, audio: AudioFrame | None, transcript: str | None = None) -> TurnPrediction:
        """Probability from the voice alone (``transcript`` is not used)."""
        p = self.probability(audio)  # type: ignore[arg-type]
        return TurnPrediction(
            probability=p,
            complete=p >= self._threshold,
            audio_probability=p,
            reason="voice sounds finished" if p >= self._threshold else "voice sounds unfinished",
        )
