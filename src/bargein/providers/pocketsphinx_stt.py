"""Streaming STT on pocketsphinx with its bundled en-us model (extra ``local``).

pocketsphinx is fast and streams: it gives a partial hypothesis at any moment, which makes
it the source of early *interim* transcripts (for barge-in word counts and turn limits).
Its accuracy is modest; use Whisper for final transcripts that must be right.

Decoding runs inline on the event loop, one pushed frame at a time in a worker task:
``process_raw`` holds the GIL for its whole call, so a thread executor would not free the
loop, and per frame it costs a few milliseconds (see ``docs/providers/pocketsphinx.md``).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from bargein._extras import require
from bargein.audio.frame import AudioFrame, check_session_rate
from bargein.audio.resample import StreamResampler, resample
from bargein.errors import ModelFileError
from bargein.providers.latency import Fixed, Latency, WorkTimer
from bargein.providers.stt import SpeechEvent, SpeechEventType, STTCapabilities, STTStream
from bargein.providers.types import WordTiming

__all__ = ["MODEL_SAMPLE_RATE", "PocketsphinxSTT", "PocketsphinxSTTStream"]

#: The bundled acoustic model is trained on 16 kHz audio; other rates are resampled.
MODEL_SAMPLE_RATE = 16000
#: pocketsphinx computes one feature frame every 10 ms.
_FRAME_SECONDS = 0.01

_FEATURE = "pocketsphinx STT"


class PocketsphinxSTT:
    """Streaming recognizer on pocketsphinx's bundled US-English model, LM and dictionary.

    - ``interim_interval``: seconds of audio between two looks at the partial hypothesis;
      an INTERIM event is emitted when its text changed.
    - ``interim_delay`` / ``final_delay``: latency models charged to the loop clock before
      an INTERIM / FINAL event is delivered (defaults ``Fixed(0.0)`` and ``Fixed(0.1)``).
      Live, real decoding time already counts towards them.
    - ``decoder_options``: extra pocketsphinx configuration (e.g. ``{"cmninit": "..."}``,
      ``{"beam": 1e-60}``, or ``hmm``/``lm``/``dict`` paths of another model).

    Decoders take about 0.3 s to load; they are created on first use and reused by later
    streams. Call :meth:`load` to pay that cost up front.
    """

    def __init__(
        self,
        *,
        interim_interval: float = 0.2,
        interim_delay: Latency | None = None,
        final_delay: Latency | None = None,
        decoder_options: Mapping[str, Any] | None = None,
    ) -> None:
        if not interim_interval > 0:
            raise ValueError(f"interim_interval must be > 0 s, got {interim_interval!r}")
        self.interim_interval = float(interim_interval)
        self.interim_delay: Latency = interim_delay if interim_delay is not None else Fixed(0.0)
        self.final_delay: Latency = final_delay if final_delay is not None else Fixed(0.1)
        require("pocketsphinx", extra="local", feature=_FEATURE)  # fail early, not mid-stream
        self._options = dict(decoder_options or {})
        self._idle: list[Any] = []

    @property
    def capabilities(self) -> STTCapabilities:
        """Streaming with interim results and word times."""
        return STTCapabilities(streaming=True, interim_results=True, word_timestamps=True,
                               acknowledges_flush=True)

    def load(self) -> None:
        """Load one decoder now instead of at the first frame (about 0.3 s of CPU)."""
        self._release(self._acquire())

    def stream(self, sample_rate: int) -> PocketsphinxSTTStream:
        """Open a stream for 8, 16 or 24 kHz audio (resampled to 16 kHz inside)."""
        return PocketsphinxSTTStream(self, check_session_rate(sample_rate))

    async def recognize(self, audio: AudioFrame) -> SpeechEvent:
        """Decode one whole utterance (any sample rate); FINAL event timed from 0.

        The text is empty when nothing was recognised. ``final_delay`` is charged.
        """
        timer = WorkTimer()
        pcm = resample(audio, MODEL_SAMPLE_RATE)
        decoder = self._acquire()
        try:
            decoder.start_utt()
            decoder.process_raw(pcm.data, False, True)
            decoder.end_utt()
            words = _segment_words(decoder, 0.0, with_confidence=True)
            text = _text(decoder, words)
        finally:
            self._release(decoder)
        await timer.settle(self.final_delay)
        return SpeechEvent(
            type=SpeechEventType.FINAL,
            text=text,
            start=0.0,
            end=audio.duration,
            words=words,
            emitted_at=audio.duration,
        )

    # -- decoder pool -----------------------------------------------------------------

    def _acquire(self) -> Any:
        decoder = self._idle.pop() if self._idle else self._new_decoder()
        # A reused decoder restarts its feature extraction (cepstral mean, noise estimate)
        # as a new one would, so results do not depend on which stream used it before.
        decoder.reinit_feat()
        return decoder

    def _release(self, decoder: Any) -> None:
        self._idle.append(decoder)

    def _new_decoder(self) -> Any:
        ps = require("pocketsphinx", extra="local", feature=_FEATURE)
        model = ps.get_model_path("en-us")
        options: dict[str, Any] = {
            "hmm": os.path.join(model, "en-us"),
            "lm": os.path.join(model, "en-us.lm.bin"),
            "dict": os.path.join(model, "cmudict-en-us.dict"),
            "samprate": MODEL_SAMPLE_RATE,
            "logfn": os.devnull,
        }
        options.update(self._options)
        try:
            return ps.Decoder(**options)
        except KeyError as exc:
            raise ValueError(
                f"pocketsphinx does not know the option in decoder_options: {exc.args[0]!r}"
            ) from exc
        except RuntimeError as exc:
            files = ", ".join(f"{k}={options[k]!r}" for k in ("hmm", "lm", "dict"))
            raise ModelFileError(
                f"pocketsphinx could not load its model ({files}): {exc}. The bundled en-us "
                "model comes with: pip install 'bargein[local]'"
            ) from exc


_CLOSE = object()


class PocketsphinxSTTStream(STTStream):
    """Stream of :class:`PocketsphinxSTT`.

    Pushed frames are queued and decoded in order by one worker task. Every
    ``interim_interval`` seconds of audio the partial hypothesis is read; when its text
    changed an INTERIM event follows with the words so far. :meth:`flush` ends the
    utterance: a FINAL event with word times and confidences follows (empty when nothing
    was recognised). Events keep their order whatever the modeled delays.

    Event ``start``/``end`` are the utterance's span on the stream timeline (previous flush
    to the audio decoded so far); word times are on the same timeline; ``emitted_at`` is
    the stream time at delivery. :meth:`aclose` does not flush: call :meth:`flush` first to
    get the last utterance's FINAL.
    """

    def __init__(self, stt: PocketsphinxSTT, sample_rate: int) -> None:
        super().__init__(sample_rate)
        self._stt = stt
        self._resampler = (
            StreamResampler(sample_rate, MODEL_SAMPLE_RATE)
            if sample_rate != MODEL_SAMPLE_RATE
            else None
        )
        self._work: asyncio.Queue[Any] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        # Taken now so a model or option problem raises here, not in a background task.
        self._decoder: Any = stt._acquire()
        self._decode_seconds = 0.0
        self._error: BaseException | None = None

    @property
    def decode_seconds(self) -> float:
        """Wall seconds spent in pocketsphinx so far (for real-time-factor figures)."""
        return self._decode_seconds

    def _on_frame(self, frame: AudioFrame, start: float) -> None:
        self._ensure_worker()
        pcm = self._resampler.push(frame) if self._resampler is not None else frame
        # Even when the resampler holds everything back, the stream clock moved on.
        self._work.put_nowait((pcm, self.time))

    def _on_flush(self) -> None:
        self._ensure_worker()
        self._work.put_nowait(self.time)

    def _on_skip(self, samples: int) -> None:
        self._ensure_worker()
        model_samples = round(samples * MODEL_SAMPLE_RATE / self.sample_rate)
        self._work.put_nowait(_Skip(model_samples, self.time))

    async def aclose(self) -> None:
        """Finish decoding what was pushed, deliver pending events, then end iteration."""
        if self._closed:
            return
        if self._worker is not None:
            self._work.put_nowait(_CLOSE)
            await asyncio.gather(self._worker, return_exceptions=True)
        elif self._decoder is not None:
            self._stt._release(self._decoder)
            self._decoder = None
        await super().aclose()
        if self._error is not None:
            raise self._error

    def _ensure_worker(self) -> None:
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        stt = self._stt
        decoder = self._decoder
        interval = stt.interim_interval
        fed = 0  # 16 kHz samples given to the decoder since the stream opened
        utt_start_samples = 0  # ... when the current utterance started
        utt_start = 0.0  # stream time of the current utterance's start
        next_check = interval
        in_utt = False
        partial = ""
        try:
            while True:
                item = await self._work.get()
                if item is _CLOSE:
                    if in_utt:
                        decoder.end_utt()
                    break
                if isinstance(item, _Skip):
                    fed += item.samples
                    if not in_utt:
                        utt_start = item.until
                        next_check = item.until + interval
                    continue
                if isinstance(item, float):  # flush at stream time `item`
                    timer, text, words = WorkTimer(), "", ()
                    if in_utt:
                        t0 = time.perf_counter()  # wall-clock-ok: inference cost only
                        decoder.end_utt()
                        words = _segment_words(
                            decoder, utt_start_samples / MODEL_SAMPLE_RATE, with_confidence=True
                        )
                        text = _text(decoder, words)
                        self._decode_seconds += time.perf_counter() - t0  # wall-clock-ok
                        in_utt = False
                    # one FINAL per flush, empty when nothing was recognized
                    event = SpeechEvent(SpeechEventType.FINAL, text, utt_start, item, words)
                    self._emit_in_order(event, stt.final_delay, timer)
                    utt_start = item
                    next_check = item + interval
                    partial = ""
                    continue
                pcm, until = item
                if not in_utt:
                    decoder.start_utt()
                    in_utt = True
                    utt_start_samples = fed
                timer = WorkTimer()
                if pcm is not None:
                    t0 = time.perf_counter()  # wall-clock-ok: inference cost only
                    decoder.process_raw(pcm.data, False, False)
                    self._decode_seconds += time.perf_counter() - t0  # wall-clock-ok
                    fed += pcm.num_samples
                if until + 1e-9 >= next_check:
                    while next_check <= until + 1e-9:
                        next_check += interval
                    hyp = decoder.hyp()
                    if hyp is not None and hyp.hypstr.strip() != partial:
                        partial = hyp.hypstr.strip()
                        words = _segment_words(
                            decoder, utt_start_samples / MODEL_SAMPLE_RATE, with_confidence=False
                        )
                        text = _text(decoder, words)
                        if text:
                            event = SpeechEvent(
                                SpeechEventType.INTERIM, text, utt_start, until, words
                            )
                            self._emit_in_order(event, stt.interim_delay, timer)
                # Let other tasks run between frames (decoding holds the loop meanwhile).
                await asyncio.sleep(0)
        except Exception as exc:
            # Surface the failure to whoever iterates instead of leaving them waiting. The
            # decoder may be mid-utterance: drop it rather than return it to the pool.
            self._error = exc
            self._decoder = None
            self._events.put_nowait(None)
            raise
        stt._release(decoder)
        self._decoder = None

    async def _iterate(self) -> AsyncIterator[SpeechEvent]:
        async for event in super()._iterate():
            yield event
        if self._error is not None:
            raise self._error


@dataclass(frozen=True, slots=True)
class _Skip:
    """Audio the caller did not send: ``samples`` at 16 kHz, ending at stream time ``until``."""

    samples: int
    until: float


def _segment_words(decoder: Any, offset: float, *, with_confidence: bool) -> tuple[WordTiming, ...]:
    """Real words of the decoder's segmentation, timed on the stream (``offset`` = utt start)."""
    out: list[WordTiming] = []
    for seg in decoder.seg() or ():
        word = _clean(seg.word)
        if word is None:
            continue
        out.append(
            WordTiming(
                text=word,
                start=round(offset + seg.start_frame * _FRAME_SECONDS, 6),
                end=round(offset + (seg.end_frame + 1) * _FRAME_SECONDS, 6),
                confidence=float(seg.prob) if with_confidence else None,
            )
        )
    return tuple(out)


def _clean(word: str) -> str | None:
    """Drop silence and filler tokens; strip pronunciation variants like ``to(2)``."""
    if not word or word[0] in "<[" or word.startswith("++"):
        return None
    paren = word.find("(")
    if paren > 0 and word.endswith(")"):
        word = word[:paren]
    return word


def _text(decoder: Any, words: tuple[WordTiming, ...]) -> str:
    if words:
        return " ".join(w.text for w in words)
    hyp = decoder.hyp()
    return hyp.hypstr.strip() if hyp is not None else ""
