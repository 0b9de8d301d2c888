"""PocketsphinxSTT on real espeak-ng speech: interim partials while audio streams, then a FINAL.

Figures (word error rate, real-time factor, per-frame cost, first interim) are printed; run
with ``-s`` to see them. pocketsphinx's accuracy on synthetic speech is modest; the bounds
below only guard against a broken pipeline, not against a mediocre recognizer.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass

import numpy as np
import pytest

from bargein.audio.frame import AudioFrame
from bargein.errors import ModelFileError, SampleRateError
from bargein.providers.espeak_tts import EspeakTTS
from bargein.providers.latency import Fixed
from bargein.providers.pocketsphinx_stt import PocketsphinxSTT
from bargein.providers.stt import STT, SpeechEvent, SpeechEventType
from bargein.providers.tts import SynthesizedSpeech
from bargein.sim import run_simulation
from bargein.text import normalize_words, word_error_rate

pytestmark = pytest.mark.integration

FRAME = 0.02
TWO_SENTENCES = (
    "The quick brown fox jumps over the lazy dog. "
    "I would like to book a table for two people tomorrow evening."
)
SENTENCES = (
    TWO_SENTENCES,
    "Hello, can you tell me the weather forecast for this weekend?",
    "Please call me back tomorrow morning at nine.",
    "I want to cancel my order and get a refund.",
    "What time does the store open on Sunday?",
    "My name is John and I live in Boston.",
)


@pytest.fixture(scope="module")
def stt() -> PocketsphinxSTT:
    recognizer = PocketsphinxSTT(interim_interval=0.2, final_delay=Fixed(0.1))
    recognizer.load()
    return recognizer


def _synthesize(text: str, sample_rate: int = 16000) -> SynthesizedSpeech:
    tts = EspeakTTS(voice="en-us", sample_rate=sample_rate)
    return run_simulation(tts.synthesize(text))


@pytest.fixture(scope="module")
def speech16() -> SynthesizedSpeech:
    return _synthesize(TWO_SENTENCES)


@dataclass
class Run:
    events: list[tuple[float, SpeechEvent]]  # (loop time since start, event)
    frames: int
    decode_seconds: float
    pushed: float  # seconds of audio pushed
    flushes: list[float]  # loop times of the flushes


async def _stream(
    stt: PocketsphinxSTT,
    utterances: list[AudioFrame],
    *,
    trailing_silence: float = 0.0,
) -> Run:
    """Push each utterance in 20 ms frames at real (virtual) pace, then flush after each.

    A frame is pushed once its last sample is "captured": at loop time == stream time.
    """
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    rate = utterances[0].sample_rate
    stream = stt.stream(rate)
    events: list[tuple[float, SpeechEvent]] = []
    flushes: list[float] = []

    async def consume() -> None:
        async for event in stream:
            events.append((loop.time() - t0, event))

    consumer = asyncio.create_task(consume())
    n = round(FRAME * rate)
    frames = 0
    for audio in utterances:
        samples = audio.to_int16()
        if trailing_silence:
            silence = AudioFrame.silence(trailing_silence, rate).to_int16()
            samples = np.concatenate([samples, silence])
        for i in range(0, len(samples), n):
            frame = AudioFrame.from_int16(samples[i : i + n].copy(), rate)
            await asyncio.sleep(max(0.0, stream.time + frame.duration - (loop.time() - t0)))
            stream.push_frame(frame)
            frames += 1
        stream.flush()
        flushes.append(loop.time() - t0)
    await stream.aclose()
    await consumer
    return Run(events, frames, stream.decode_seconds, stream.time, flushes)


def _split(run: Run) -> tuple[list[tuple[float, SpeechEvent]], list[tuple[float, SpeechEvent]]]:
    interims = [(t, e) for t, e in run.events if e.type is SpeechEventType.INTERIM]
    finals = [(t, e) for t, e in run.events if e.type is SpeechEventType.FINAL]
    return interims, finals


def _aligned_share(recognized: SpeechEvent, truth: SynthesizedSpeech, offset: float = 0.0) -> float:
    """Share of recognised words that match a spoken word of the same text nearby in time."""
    spoken = [(normalize_words(w.text), w.shifted(offset)) for w in truth.words]
    hits = 0
    for word in recognized.words:
        mid = (word.start + word.end) / 2
        if any(
            norm == [word.text.lower()] and w.start - 0.15 <= mid <= w.end + 0.15
            for norm, w in spoken
        ):
            hits += 1
    return hits / max(1, len(recognized.words))


def test_is_an_stt_with_streaming_capabilities(stt: PocketsphinxSTT) -> None:
    assert isinstance(stt, STT)
    caps = stt.capabilities
    assert caps.streaming and caps.interim_results and caps.word_timestamps


def test_interims_arrive_while_speaking_then_a_timed_final(
    stt: PocketsphinxSTT, speech16: SynthesizedSpeech
) -> None:
    run = run_simulation(_stream(stt, [speech16.audio]))
    interims, finals = _split(run)
    duration = speech16.duration

    assert interims, "no INTERIM event"
    assert len(finals) == 1
    assert run.events[-1][1].type is SpeechEventType.FINAL
    first = interims[0][1]
    assert first.emitted_at is not None and first.emitted_at < duration / 2
    # Interims come in order, each covering more audio, and the transcript grows.
    ends = [e.end for _, e in interims]
    assert ends == sorted(ends) and len(set(ends)) == len(ends)
    assert len(interims[-1][1].text.split()) > len(first.text.split())
    assert [t for t, _ in run.events] == sorted(t for t, _ in run.events)

    final_t, final = finals[0]
    assert final.text
    assert final.start == 0.0 and final.end == pytest.approx(run.pushed)
    assert final_t == pytest.approx(run.flushes[0] + 0.1, abs=1e-6), "final_delay charged"
    starts = [w.start for w in final.words]
    assert starts == sorted(starts)
    assert all(0.0 <= w.start < w.end <= duration + 0.02 for w in final.words)
    assert all(w.confidence is not None and 0.0 <= w.confidence <= 1.0 for w in final.words)
    assert all("(" not in w.text and not w.text.startswith(("<", "[")) for w in final.words)
    aligned = _aligned_share(final, speech16)
    assert aligned >= 0.3, "recognised words should sit where espeak spoke them"

    wer = word_error_rate(TWO_SENTENCES, final.text)
    per_frame_ms = 1000 * run.decode_seconds / run.frames
    print(
        f"\n[pocketsphinx 16 kHz] {duration:.2f} s of speech, {run.frames} frames of 20 ms\n"
        f"  per-frame decode cost: {per_frame_ms:.2f} ms; "
        f"real-time factor (decode incl. end_utt): {run.decode_seconds / duration:.3f}\n"
        f"  first interim at stream time {first.emitted_at:.2f} s: {first.text!r}\n"
        f"  {len(interims)} interims; final: {final.text!r}\n"
        f"  WER {wer:.2f}; words aligned with espeak timings: {aligned:.0%}"
    )


def test_word_error_rate_over_a_session(stt: PocketsphinxSTT) -> None:
    speeches = [_synthesize(text) for text in SENTENCES]
    run = run_simulation(_stream(stt, [s.audio for s in speeches], trailing_silence=0.5))
    _, finals = _split(run)
    assert len(finals) == len(SENTENCES)
    wers = [word_error_rate(ref, e.text) for ref, (_, e) in zip(SENTENCES, finals, strict=True)]
    mean = sum(wers) / len(wers)
    print("\n[pocketsphinx 16 kHz session, one stream, flush after each sentence]")
    for ref, (_, e), wer in zip(SENTENCES, finals, wers, strict=True):
        print(f"  WER {wer:.2f}  {ref!r}\n            -> {e.text!r}")
    print(f"  mean WER {mean:.2f}; real-time factor {run.decode_seconds / run.pushed:.3f}")
    # Utterances follow each other on one timeline: finals do not overlap.
    for (_, a), (_, b) in itertools.pairwise(finals):
        assert a.end <= b.start + 1e-9
        assert not a.words or not b.words or a.words[-1].end <= b.words[0].start + 1e-9
    assert mean <= 0.7, f"mean WER {mean:.2f} on espeak speech (measured 0.45 when written)"


def test_24khz_input_is_resampled(stt: PocketsphinxSTT) -> None:
    speech = _synthesize(TWO_SENTENCES, sample_rate=24000)
    run = run_simulation(_stream(stt, [speech.audio]))
    interims, finals = _split(run)
    assert interims and len(finals) == 1
    final = finals[0][1]
    assert all(0.0 <= w.start < w.end <= speech.duration + 0.02 for w in final.words)
    aligned = _aligned_share(final, speech)
    wer = word_error_rate(TWO_SENTENCES, final.text)
    print(
        f"\n[pocketsphinx 24 kHz input] WER {wer:.2f}, aligned {aligned:.0%}, "
        f"RTF {run.decode_seconds / speech.duration:.3f}: {final.text!r}"
    )
    assert aligned >= 0.3
    assert wer < 1.0


def test_interim_delay_is_charged_in_order(
    stt: PocketsphinxSTT, speech16: SynthesizedSpeech
) -> None:
    slow = PocketsphinxSTT(interim_delay=Fixed(0.15), final_delay=Fixed(0.05))
    run = run_simulation(_stream(slow, [speech16.audio]))
    interims, finals = _split(run)
    assert interims and finals
    for t, event in interims:
        assert t == pytest.approx(event.end + 0.15, abs=1e-6)
    # The final was ready 0.05 s after the flush but waits for the last interim.
    last_interim_t = interims[-1][0]
    assert finals[0][0] == pytest.approx(max(run.flushes[0] + 0.05, last_interim_t), abs=1e-6)
    assert [t for t, _ in run.events] == sorted(t for t, _ in run.events)


def test_results_are_deterministic_across_streams(
    stt: PocketsphinxSTT, speech16: SynthesizedSpeech
) -> None:
    first = run_simulation(_stream(stt, [speech16.audio]))
    second = run_simulation(_stream(stt, [speech16.audio]))
    assert [(t, e) for t, e in first.events] == [(t, e) for t, e in second.events]


def test_silence_gives_an_empty_final_and_aclose_does_not_flush(stt: PocketsphinxSTT) -> None:
    silence = AudioFrame.silence(0.6, 16000)
    run = run_simulation(_stream(stt, [silence]))
    assert [e.text for _, e in _split(run)[1]] == [""]  # the flush is acknowledged

    async def unflushed(audio: AudioFrame) -> list[SpeechEvent]:
        stream = stt.stream(16000)
        samples = audio.to_int16()
        for i in range(0, len(samples), 320):
            stream.push_frame(AudioFrame.from_int16(samples[i : i + 320].copy(), 16000))
        await stream.aclose()
        return [e async for e in stream]

    speech = _synthesize("Please call me back.")
    events = run_simulation(unflushed(speech.audio))
    assert all(e.type is SpeechEventType.INTERIM for e in events)


def test_recognize_whole_utterance(stt: PocketsphinxSTT, speech16: SynthesizedSpeech) -> None:
    async def main() -> tuple[SpeechEvent, float]:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        event = await stt.recognize(speech16.audio)
        return event, loop.time() - t0

    event, took = run_simulation(main())
    assert event.type is SpeechEventType.FINAL
    assert event.text
    assert (event.start, event.end) == (0.0, speech16.duration)
    assert all(0.0 <= w.start < w.end <= speech16.duration + 0.02 for w in event.words)
    assert took == pytest.approx(0.1)
    print(
        f"\n[pocketsphinx recognize()] WER {word_error_rate(TWO_SENTENCES, event.text):.2f}: "
        f"{event.text!r}"
    )


def test_sample_rates_are_checked(stt: PocketsphinxSTT) -> None:
    with pytest.raises(SampleRateError):
        stt.stream(44100)
    for rate in (8000, 16000, 24000):
        assert stt.stream(rate).sample_rate == rate

    async def main() -> None:
        stream = stt.stream(16000)
        stream.push_frame(AudioFrame.silence(0.02, 24000))

    with pytest.raises(SampleRateError):
        run_simulation(main())


def test_bad_decoder_options_fail_when_the_stream_opens() -> None:
    with pytest.raises(ValueError, match="bogus"):
        PocketsphinxSTT(decoder_options={"bogus": 1}).stream(16000)
    with pytest.raises(ModelFileError, match="could not load"):
        PocketsphinxSTT(decoder_options={"lm": "/nonexistent/en-us.lm.bin"}).stream(16000)
