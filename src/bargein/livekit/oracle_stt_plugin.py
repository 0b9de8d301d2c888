"""Simulation-only LiveKit STT plugin that reports the words a bargein scenario knows were said."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from livekit.agents import stt as lk_stt
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)

from bargein.livekit.stt_plugin import speech_data
from bargein.providers.latency import Fixed, Latency, WorkTimer
from bargein.providers.oracle_stt import GroundTruth
from bargein.providers.types import WordTiming

__all__ = ["OracleSTT", "TruthClock"]

#: ``clock()`` gives "now" on the ground truth's timeline (seconds on the recording).
TruthClock = Callable[[], float]

_SENTENCE_TAIL = re.compile(r"[.!?…]+[\"'”’)\]]*$")


class OracleSTT(lk_stt.STT):
    """Simulation-only STT: reports the words a bargein scenario *knows* the user said.

    Nothing is recognised. A word is reported once the audio clock has passed its end (on
    the :class:`~bargein.providers.oracle_stt.GroundTruth` timeline), as an interim
    transcript ``interim_delay`` later. A final transcript follows ``final_delay`` after the
    word that ends a sentence (``final_on_sentence_end``: streaming cloud STTs finalize at
    each sentence's pause), after LiveKit flushes the stream (end of the user's turn), or
    after ``endpoint_silence`` seconds without a new word. Interim transcripts are
    cumulative from the last final, as with cloud STTs.

    ``truth`` and ``clock`` are normally left out: :class:`LiveKitAgentAdapter` binds the
    scenario's truth and recording clock when the session starts. Use :meth:`bind` to do it
    by hand (``clock()`` must return seconds on the truth's timeline).
    """

    def __init__(self, truth: GroundTruth | None = None, *, clock: TruthClock | None = None,
                 interim_delay: Latency | None = None, final_delay: Latency | None = None,
                 endpoint_silence: float | None = 0.6, final_on_sentence_end: bool = True,
                 language: str = "en") -> None:
        super().__init__(capabilities=lk_stt.STTCapabilities(
            streaming=True, interim_results=True, aligned_transcript="word",
            offline_recognize=False, manual_flush=True))
        self.truth = truth
        self.clock = clock
        self.interim_delay: Latency = interim_delay if interim_delay is not None else Fixed(0.1)
        self.final_delay: Latency = final_delay if final_delay is not None else Fixed(0.2)
        self.endpoint_silence = endpoint_silence
        self.final_on_sentence_end = final_on_sentence_end
        self.language = language

    @property
    def model(self) -> str:
        return "oracle"

    @property
    def provider(self) -> str:
        return "bargein"

    @property
    def bound(self) -> bool:
        """True once a truth and a clock are set."""
        return self.truth is not None and self.clock is not None

    def bind(self, truth: GroundTruth, clock: TruthClock) -> None:
        """Read ``truth``; ``clock()`` gives the current time on its timeline."""
        if not isinstance(truth, GroundTruth):
            raise TypeError(f"OracleSTT needs a GroundTruth, got {type(truth).__name__}")
        self.truth, self.clock = truth, clock

    def _check_bound(self) -> tuple[GroundTruth, TruthClock]:
        if self.truth is None or self.clock is None:
            raise RuntimeError(
                "plugins.OracleSTT has no ground truth: it only works under a bargein scenario "
                "(LiveKitAgentAdapter binds it) or after OracleSTT.bind(truth, clock). For a "
                "live session use a real recognizer, e.g. plugins.STT.local()")
        return self.truth, self.clock

    async def _recognize_impl(self, buffer: Any, *, language: NotGivenOr[str] = NOT_GIVEN,
                              conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
                              ) -> lk_stt.SpeechEvent:
        raise NotImplementedError("OracleSTT only streams (it follows the audio clock)")

    def stream(self, *, language: NotGivenOr[str] = NOT_GIVEN,
               conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
               ) -> lk_stt.RecognizeStream:
        self._check_bound()
        return _OracleStream(self, conn_options)


class _OracleStream(lk_stt.RecognizeStream):
    def __init__(self, oracle: OracleSTT, conn_options: APIConnectOptions) -> None:
        super().__init__(stt=oracle, conn_options=conn_options)
        self._oracle = oracle

    async def _run(self) -> None:
        truth, clock = self._oracle._check_bound()
        oracle = self._oracle
        utterance_start = clock()
        heard: tuple[WordTiming, ...] = ()
        last_delivery: asyncio.Future[None] | None = None
        endpoint: asyncio.TimerHandle | None = None
        loop = asyncio.get_running_loop()
        tasks: set[asyncio.Task[None]] = set()

        def deliver(kind: lk_stt.SpeechEventType, words: tuple[WordTiming, ...],
                    start: float, end: float, delay: Latency) -> None:
            nonlocal last_delivery
            timer = WorkTimer()
            previous = last_delivery
            done: asyncio.Future[None] = loop.create_future()
            last_delivery = done
            data = speech_data(" ".join(w.text for w in words), words, start, end,
                                oracle.language)

            async def send() -> None:
                try:
                    await timer.settle(delay)
                    if previous is not None:
                        await previous
                    self._event_ch.send_nowait(lk_stt.SpeechEvent(type=kind,
                                                                  alternatives=[data]))
                finally:
                    if not done.done():
                        done.set_result(None)

            task = loop.create_task(send())
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        def finalize() -> None:
            nonlocal utterance_start, heard, endpoint
            if endpoint is not None:
                endpoint.cancel()
                endpoint = None
            now = clock()
            words = truth.ended_between(utterance_start, now)
            if words:
                deliver(lk_stt.SpeechEventType.FINAL_TRANSCRIPT, words, utterance_start, now,
                        oracle.final_delay)
                utterance_start = words[-1].end
            heard = ()

        try:
            async for item in self._input_ch:
                if isinstance(item, lk_stt.RecognizeStream._FlushSentinel):
                    finalize()
                    continue
                now = clock()
                words = truth.ended_between(utterance_start, now)
                if words == heard:
                    continue
                heard = words
                if words:
                    deliver(lk_stt.SpeechEventType.INTERIM_TRANSCRIPT, words, utterance_start,
                            now, oracle.interim_delay)
                    if oracle.final_on_sentence_end and _SENTENCE_TAIL.search(words[-1].text):
                        finalize()
                    elif oracle.endpoint_silence is not None:
                        if endpoint is not None:
                            endpoint.cancel()
                        endpoint = loop.call_later(oracle.endpoint_silence, finalize)
            if endpoint is not None:
                endpoint.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            if endpoint is not None:
                endpoint.cancel()
            for task in tasks:
                task.cancel()
