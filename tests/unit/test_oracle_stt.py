"""OracleSTT: transcripts from known words, paced by the stream clock, delayed by a model."""

from __future__ import annotations

import asyncio

import pytest

from bargein.audio.frame import AudioFrame
from bargein.errors import SampleRateError
from bargein.providers.latency import Fixed, Uniform
from bargein.providers.oracle_stt import GroundTruth, OracleSTT
from bargein.providers.stt import STT, SpeechEvent, SpeechEventType
from bargein.providers.types import WordTiming
from bargein.sim import run_simulation

RATE = 16000
FRAME = 0.02

HELLO_WORLD = (WordTiming("hello", 0.1, 0.4), WordTiming("world", 0.5, 0.9))
HOW_ARE_YOU = (
    WordTiming("how", 0.0, 0.2),
    WordTiming("are", 0.2, 0.4),
    WordTiming("you", 0.4, 0.6),
)


async def _run_stream(
    stt: OracleSTT, plan: list[tuple[float, str]]
) -> list[tuple[float, SpeechEvent]]:
    """Push 20 ms frames in real (virtual) time following ``plan``.

    ``plan`` holds ``(until, action)``: push audio until stream time ``until``, then do
    ``action`` ("flush" or "" for nothing). Each frame is pushed when its last sample has been
    "captured", i.e. at loop time == stream time. Returns (loop time, event) pairs.
    """
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    stream = stt.stream(RATE)
    got: list[tuple[float, SpeechEvent]] = []

    async def consume() -> None:
        async for event in stream:
            got.append((loop.time() - t0, event))

    consumer = asyncio.create_task(consume())
    frame = AudioFrame.silence(FRAME, RATE)
    for until, action in plan:
        while stream.time < until - 1e-9:
            await asyncio.sleep(max(0.0, stream.time + FRAME - (loop.time() - t0)))
            stream.push_frame(frame)
        if action == "flush":
            stream.flush()
    await stream.aclose()
    await consumer
    return got


def _interims(got: list[tuple[float, SpeechEvent]]) -> list[tuple[float, SpeechEvent]]:
    return [(t, e) for t, e in got if e.type is SpeechEventType.INTERIM]


def _finals(got: list[tuple[float, SpeechEvent]]) -> list[tuple[float, SpeechEvent]]:
    return [(t, e) for t, e in got if e.type is SpeechEventType.FINAL]


def test_is_an_stt_with_declared_capabilities() -> None:
    stt = OracleSTT(GroundTruth())
    assert isinstance(stt, STT)
    caps = stt.capabilities
    assert caps.streaming and caps.interim_results and caps.word_timestamps
    assert not OracleSTT(GroundTruth(), interim_results=False).capabilities.interim_results


def test_interims_arrive_as_the_clock_passes_each_word_end() -> None:
    stt = OracleSTT(GroundTruth(HELLO_WORLD), interim_delay=Fixed(0.1))
    got = run_simulation(_run_stream(stt, [(1.2, "")]))

    interims = _interims(got)
    assert [e.text for _, e in interims] == ["hello", "hello world"]
    # Heard at the word's end (a frame boundary here), delivered 0.1 s later.
    assert [t for t, _ in interims] == pytest.approx([0.5, 1.0])
    # emitted_at is the stream clock at delivery: within one frame of the loop time
    # (the frame due at the same instant may or may not have been pushed yet).
    for t, e in interims:
        assert e.emitted_at is not None
        assert t - FRAME - 1e-9 <= e.emitted_at <= t + 1e-9
    assert [e.end for _, e in interims] == pytest.approx([0.4, 0.9])
    assert all(e.start == 0.0 for _, e in interims)
    assert interims[1][1].words == HELLO_WORLD
    assert not _finals(got), "no FINAL without flush()"


def test_word_end_between_frame_boundaries_is_heard_at_the_next_frame() -> None:
    truth = GroundTruth([WordTiming("yes", 0.05, 0.31)])
    got = run_simulation(_run_stream(OracleSTT(truth, interim_delay=Fixed(0.0)), [(0.5, "")]))
    ((t, event),) = _interims(got)
    assert t == pytest.approx(0.32)
    assert event.end == pytest.approx(0.32)


def test_final_on_flush_has_exactly_the_utterance_words() -> None:
    stt = OracleSTT(GroundTruth(HELLO_WORLD), interim_delay=Fixed(0.1), final_delay=Fixed(0.2))
    got = run_simulation(_run_stream(stt, [(1.0, "flush")]))

    assert [e.type for _, e in got][-1] is SpeechEventType.FINAL
    ((t, final),) = _finals(got)
    assert final.text == "hello world"
    assert final.words == HELLO_WORLD
    assert (final.start, final.end) == pytest.approx((0.0, 1.0))
    assert t == pytest.approx(1.2)
    assert final.emitted_at == pytest.approx(1.0), "no audio pushed after the flush"


def test_two_utterances_separated_by_flush() -> None:
    truth = GroundTruth(HELLO_WORLD)
    truth.add(HOW_ARE_YOU, offset=1.5)
    stt = OracleSTT(truth, interim_delay=Fixed(0.05), final_delay=Fixed(0.1))
    got = run_simulation(_run_stream(stt, [(1.0, "flush"), (2.5, "flush")]))

    finals = [e for _, e in _finals(got)]
    assert [f.text for f in finals] == ["hello world", "how are you"]
    assert finals[1].words == tuple(w.shifted(1.5) for w in HOW_ARE_YOU)
    assert (finals[1].start, finals[1].end) == pytest.approx((1.0, 2.5))
    second = [e for t, e in _interims(got) if t > 1.0]
    assert [e.text for e in second] == ["how", "how are", "how are you"]
    assert all(e.start == pytest.approx(1.0) for e in second)
    # Order on the wire: every event of utterance 1 before any of utterance 2.
    assert [e.text for _, e in got] == [
        "hello",
        "hello world",
        "hello world",
        "how",
        "how are",
        "how are you",
        "how are you",
    ]


def test_words_beyond_the_pushed_audio_are_not_reported() -> None:
    truth = GroundTruth(HELLO_WORLD)
    truth.add([WordTiming("later", 1.6, 2.0)])
    stt = OracleSTT(truth, final_delay=Fixed(0.0))
    got = run_simulation(_run_stream(stt, [(1.0, "flush")]))
    assert all("later" not in e.text for _, e in got)
    assert [e.text for _, e in _finals(got)] == ["hello world"]


def test_flush_without_heard_words_is_acknowledged_by_an_empty_final() -> None:
    stt = OracleSTT(GroundTruth([WordTiming("late", 2.0, 2.5)]))
    assert stt.capabilities.acknowledges_flush
    got = run_simulation(_run_stream(stt, [(0.6, "flush"), (1.0, "flush")]))
    assert [(e.type, e.text) for _, e in got] == [(SpeechEventType.FINAL, "")] * 2


def test_word_ending_after_a_flush_belongs_to_the_next_utterance() -> None:
    truth = GroundTruth([WordTiming("over", 0.8, 1.1)])
    stt = OracleSTT(truth, interim_delay=Fixed(0.0), final_delay=Fixed(0.0))
    got = run_simulation(_run_stream(stt, [(1.0, "flush"), (1.4, "flush")]))
    first, second = (e for _, e in _finals(got))
    assert first.text == ""  # "over" had not ended at the first flush
    assert second.text == "over" and second.start == pytest.approx(1.0)


def test_interim_results_can_be_turned_off() -> None:
    stt = OracleSTT(GroundTruth(HELLO_WORLD), interim_results=False)
    got = run_simulation(_run_stream(stt, [(1.0, "flush")]))
    assert [e.type for _, e in got] == [SpeechEventType.FINAL]


def test_events_keep_their_order_when_a_later_event_has_a_shorter_delay() -> None:
    stt = OracleSTT(GroundTruth(HELLO_WORLD), interim_delay=Fixed(0.5), final_delay=Fixed(0.0))
    got = run_simulation(_run_stream(stt, [(0.9, "flush")]))
    assert [e.type for _, e in got] == [
        SpeechEventType.INTERIM,
        SpeechEventType.INTERIM,
        SpeechEventType.FINAL,
    ]
    times = [t for t, _ in got]
    assert times == sorted(times)
    # The final was ready at 0.9 but waits for the interim heard at 0.9 (+0.5).
    assert times[-1] == pytest.approx(1.4)


def _uniform_run(seed: int) -> list[tuple[float, str]]:
    truth = GroundTruth(HELLO_WORLD)
    truth.add(HOW_ARE_YOU, offset=1.5)
    stt = OracleSTT(
        truth,
        interim_delay=Uniform(0.05, 0.3, seed=seed),
        final_delay=Uniform(0.1, 0.4, seed=seed + 1),
    )
    got = run_simulation(_run_stream(stt, [(1.0, "flush"), (2.5, "flush")]))
    return [(round(t, 9), e.text) for t, e in got]


def test_uniform_latency_is_deterministic_for_a_seed() -> None:
    first = _uniform_run(seed=3)
    assert first == _uniform_run(seed=3)
    assert first != _uniform_run(seed=4)
    times = [t for t, _ in first]
    assert times == sorted(times)
    # Each interim lies between its word end + low and word end + high.
    assert 0.45 <= first[0][0] <= 0.7


def test_fixed_latency_is_exact_and_repeatable() -> None:
    def run() -> list[float]:
        stt = OracleSTT(GroundTruth(HELLO_WORLD), interim_delay=Fixed(0.25))
        return [t for t, _ in run_simulation(_run_stream(stt, [(1.0, "flush")]))]

    times = run()
    assert times == run()
    assert times == pytest.approx([0.65, 1.15, 1.2])


def test_words_added_while_streaming_are_picked_up() -> None:
    truth = GroundTruth()
    stt = OracleSTT(truth, interim_delay=Fixed(0.0), final_delay=Fixed(0.0))

    async def main() -> list[SpeechEvent]:
        stream = stt.stream(RATE)
        frame = AudioFrame.silence(0.1, RATE)
        for _ in range(5):
            stream.push_frame(frame)
        # The simulator announces speech starting at 0.5 s, then plays it.
        truth.add([WordTiming("hi", 0.0, 0.3)], offset=0.5)
        for _ in range(5):
            await asyncio.sleep(0.1)
            stream.push_frame(frame)
        stream.flush()
        await stream.aclose()
        return [e async for e in stream]

    events = run_simulation(main())
    assert [(e.type, e.text) for e in events] == [
        (SpeechEventType.INTERIM, "hi"),
        (SpeechEventType.FINAL, "hi"),
    ]
    assert events[1].words == (WordTiming("hi", 0.5, 0.8),)


def test_recognize_returns_words_within_the_audio_after_final_delay() -> None:
    truth = GroundTruth(HELLO_WORLD)
    truth.add([WordTiming("beyond", 1.2, 1.5)])
    stt = OracleSTT(truth, final_delay=Fixed(0.3))

    async def main() -> tuple[SpeechEvent, float]:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        event = await stt.recognize(AudioFrame.silence(1.0, RATE))
        return event, loop.time() - t0

    event, took = run_simulation(main())
    assert event.type is SpeechEventType.FINAL
    assert event.text == "hello world" and event.words == HELLO_WORLD
    assert (event.start, event.end) == (0.0, 1.0)
    assert took == pytest.approx(0.3)


def test_ground_truth_keeps_words_sorted_and_validates() -> None:
    truth = GroundTruth()
    truth.add(HOW_ARE_YOU, offset=2.0)
    truth.add(HELLO_WORLD)
    assert [w.text for w in truth.words] == ["hello", "world", "how", "are", "you"]
    assert len(truth) == 5
    assert [w.text for w in truth.ended_between(0.4, 2.4)] == ["world", "how", "are"]
    with pytest.raises(ValueError, match="ends before it starts"):
        truth.add([WordTiming("bad", 1.0, 0.5)])
    with pytest.raises(ValueError, match="before the"):
        truth.add([WordTiming("early", 0.0, 0.2)], offset=-1.0)
    truth.clear()
    assert truth.words == ()


def test_add_text_spreads_words_by_length() -> None:
    truth = GroundTruth()
    words = truth.add_text("hi there", 1.0, 1.7)
    assert [w.text for w in words] == ["hi", "there"]
    assert words[0].start == pytest.approx(1.0)
    assert words[0].end == pytest.approx(1.2)
    assert words[1].end == pytest.approx(1.7)
    assert (words[1].char_start, words[1].char_end) == (3, 8)
    assert truth.words == words


def test_sample_rates_are_checked() -> None:
    stt = OracleSTT(GroundTruth())
    with pytest.raises(SampleRateError):
        stt.stream(44100)

    async def main() -> None:
        stream = stt.stream(16000)
        stream.push_frame(AudioFrame.silence(0.02, 8000))

    with pytest.raises(SampleRateError):
        run_simulation(main())


def test_needs_a_ground_truth() -> None:
    with pytest.raises(TypeError, match="GroundTruth"):
        OracleSTT([WordTiming("x", 0, 1)])  # type: ignore[arg-type]
