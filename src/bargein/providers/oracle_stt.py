"""Oracle STT: transcripts taken from the *known* words, not recognised from the audio.

In a simulation the test already knows what the simulated user says and when each word is
heard (TTS word timings). :class:`OracleSTT` reports exactly those words, with a modeled
delay, so a test of turn-taking is not blurred by recognition errors. It is a deliberate
choice made by the test author, never a fallback: a real recognizer is
:class:`~bargein.providers.pocketsphinx_stt.PocketsphinxSTT` or
:class:`~bargein.providers.whisper_stt.WhisperSTT`.

The audio pushed into an oracle stream is not analysed; only its length matters, because it
advances the stream's clock. A word is "heard" once that clock reaches the word's end.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

from bargein.audio.frame import AudioFrame, check_session_rate
from bargein.providers.latency import Fixed, Latency, WorkTimer
from bargein.providers.stt import SpeechEvent, SpeechEventType, STTCapabilities, STTStream
from bargein.providers.types import WordTiming

__all__ = ["GroundTruth", "OracleSTT", "OracleSTTStream"]

_TOKEN = re.compile(r"\S+")


class GroundTruth:
    """The words really spoken into an STT stream, placed on that stream's timeline.

    The timeline is the one of :attr:`STTStream.time`: seconds of audio pushed into the
    stream since it was opened. Whoever plays known speech into the input (the simulator)
    adds its words with ``add(words, offset=t)``, ``t`` being where the speech starts on
    that timeline. Words are kept sorted by their end time; a truth may be shared by several
    oracle streams and may grow while they run.
    """

    def __init__(self, words: Iterable[WordTiming] = ()) -> None:
        self._words: list[WordTiming] = []
        self._ends: list[float] = []
        self.add(words)

    def add(self, words: Iterable[WordTiming], offset: float = 0.0) -> None:
        """Add ``words`` (timed from their own origin) shifted ``offset`` seconds later."""
        for word in words:
            if not word.start <= word.end:
                raise ValueError(f"word {word.text!r} ends before it starts: {word}")
            placed = word.shifted(offset) if offset else word
            if placed.start < 0:
                raise ValueError(
                    f"word {word.text!r} would start at {placed.start:.3f} s, before the "
                    "stream timeline begins at 0"
                )
            i = bisect.bisect_right(self._words, (placed.end, placed.start), key=_order)
            self._words.insert(i, placed)
            self._ends.insert(i, placed.end)

    def add_text(self, text: str, start: float, end: float) -> tuple[WordTiming, ...]:
        """Add ``text`` spoken between ``start`` and ``end`` when no word timings are known.

        The span is shared out in proportion to each word's length in characters: a rough
        estimate, good enough to pace interim transcripts. Returns the words added.
        """
        if not 0 <= start <= end:
            raise ValueError(f"need 0 <= start <= end, got start={start} end={end}")
        tokens = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
        total = sum(len(tok) for tok, _, _ in tokens)
        placed: list[WordTiming] = []
        t = start
        for tok, c0, c1 in tokens:
            dur = (end - start) * len(tok) / total
            placed.append(WordTiming(tok, t, t + dur, char_start=c0, char_end=c1))
            t += dur
        self.add(placed)
        return tuple(placed)

    def clear(self) -> None:
        """Forget every word."""
        self._words.clear()
        self._ends.clear()

    @property
    def words(self) -> tuple[WordTiming, ...]:
        """All words, sorted by end time."""
        return tuple(self._words)

    def ended_between(self, after: float, until: float) -> tuple[WordTiming, ...]:
        """Words whose end lies in ``(after, until]``, sorted by end time."""
        lo = bisect.bisect_right(self._ends, after)
        hi = bisect.bisect_right(self._ends, until)
        return tuple(self._words[lo:hi])

    def __bool__(self) -> bool:
        """Always true: an empty truth is still *the* truth (``truth or GroundTruth()`` must
        not quietly replace it)."""
        return True

    def __len__(self) -> int:
        return len(self._words)


class OracleSTT:
    """Simulation-only STT that reports the known words of a :class:`GroundTruth`.

    Nothing is recognised: the transcript is exactly the words the test said were spoken,
    delivered when the stream's audio clock has passed them plus a modeled delay. Use it on
    purpose, to test turn-taking without recognition errors; it never stands in silently
    for a real recognizer.

    - ``interim_delay``: latency of each INTERIM event, counted from the frame that
      completed its last word (default ``Fixed(0.1)``).
    - ``final_delay``: latency of the FINAL event, counted from :meth:`STTStream.flush`
      (default ``Fixed(0.2)``).
    - ``interim_results=False`` reports FINAL events only.
    """

    def __init__(
        self,
        truth: GroundTruth,
        *,
        interim_delay: Latency | None = None,
        final_delay: Latency | None = None,
        interim_results: bool = True,
    ) -> None:
        if not isinstance(truth, GroundTruth):
            raise TypeError(f"OracleSTT needs a GroundTruth, got {type(truth).__name__}")
        self.truth = truth
        self.interim_delay: Latency = interim_delay if interim_delay is not None else Fixed(0.1)
        self.final_delay: Latency = final_delay if final_delay is not None else Fixed(0.2)
        self.interim_results = interim_results

    @property
    def capabilities(self) -> STTCapabilities:
        """Streaming, interim results (unless disabled) and word times."""
        return STTCapabilities(
            streaming=True, interim_results=self.interim_results, word_timestamps=True,
            acknowledges_flush=True,
        )

    def stream(self, sample_rate: int) -> OracleSTTStream:
        """Open a stream whose clock starts at 0 on the truth's timeline."""
        return OracleSTTStream(self, check_session_rate(sample_rate))

    async def recognize(self, audio: AudioFrame) -> SpeechEvent:
        """The truth's words that end within ``[0, audio.duration]``, after ``final_delay``.

        ``audio`` is taken to start at 0 on the truth's timeline (a one-shot utterance whose
        words were added at offset 0); its samples are not analysed.
        """
        timer = WorkTimer()
        words = self.truth.ended_between(float("-inf"), audio.duration)
        await timer.settle(self.final_delay)
        return SpeechEvent(
            type=SpeechEventType.FINAL,
            text=_join(words),
            start=0.0,
            end=audio.duration,
            words=words,
            emitted_at=audio.duration,
        )


class OracleSTTStream(STTStream):
    """Stream of :class:`OracleSTT`: INTERIM events as words are passed, FINAL on flush.

    An utterance is the words whose end lies after the previous flush (or 0) and at or before
    the stream clock. Each frame that passes the end of one or more words yields an INTERIM
    with all words of the utterance so far; :meth:`flush` yields a FINAL with all of them (an
    empty one if no word was heard). Events keep their order whatever the modeled delays. Event
    ``start``/``end`` are the utterance's span on the stream: the previous flush and the
    stream time the transcript covers; ``emitted_at`` is the stream time at delivery.
    """

    def __init__(self, stt: OracleSTT, sample_rate: int) -> None:
        super().__init__(sample_rate)
        self._stt = stt
        self._utterance_start = 0.0
        self._heard: tuple[WordTiming, ...] = ()

    def _on_frame(self, frame: AudioFrame, start: float) -> None:
        now = self.time
        heard = self._stt.truth.ended_between(self._utterance_start, now)
        if heard == self._heard:
            return
        self._heard = heard
        if heard and self._stt.interim_results:
            event = _event(SpeechEventType.INTERIM, heard, self._utterance_start, now)
            self._emit_in_order(event, self._stt.interim_delay)

    def _on_skip(self, samples: int) -> None:
        if not self._heard:  # nothing said since the utterance began: it begins later
            self._utterance_start = self.time

    def _on_flush(self) -> None:
        now = self.time
        words = self._stt.truth.ended_between(self._utterance_start, now)
        event = _event(SpeechEventType.FINAL, words, self._utterance_start, now)
        self._utterance_start = now
        self._heard = ()
        self._emit_in_order(event, self._stt.final_delay)  # empty when nothing was said


def _event(
    kind: SpeechEventType, words: tuple[WordTiming, ...], start: float, end: float
) -> SpeechEvent:
    return SpeechEvent(type=kind, text=_join(words), start=start, end=end, words=words)


def _order(word: WordTiming) -> tuple[float, float]:
    return (word.end, word.start)


def _join(words: Iterable[WordTiming]) -> str:
    return " ".join(w.text for w in words)
