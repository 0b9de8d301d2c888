"""HybridSTT: interims from one recognizer, finals from the other, on one stream."""

import asyncio

import pytest

from bargein.audio import AudioFrame
from bargein.providers import Fixed, SpeechEventType, WordTiming
from bargein.providers.hybrid_stt import HybridSTT
from bargein.providers.oracle_stt import GroundTruth, OracleSTT
from bargein.sim import run_simulation


def stream_events(stt: HybridSTT, frames: int, *, wait: float, skip: float = 0.0) -> list:
    """Every event of one stream of ``stt``: ``skip`` seconds skipped (audio the VAD ruled
    out), then ``frames`` 20 ms frames of silence, a flush, ``wait`` seconds, the close."""

    async def scenario():
        stream = stt.stream(16000)
        events = []

        async def collect():
            async for event in stream:
                events.append(event)

        task = asyncio.create_task(collect())
        if skip:
            stream.skip(skip)
        for _ in range(frames):
            stream.push_frame(AudioFrame(bytes(640), 16000))
            await asyncio.sleep(0.02)
        stream.flush()
        await asyncio.sleep(wait)
        await stream.aclose()
        await task
        return events

    return run_simulation(scenario())


def test_interims_from_the_fast_one_finals_from_the_accurate_one():
    fast = GroundTruth([WordTiming("helo", 0.1, 0.3), WordTiming("wrld", 0.3, 0.6)])
    good = GroundTruth([WordTiming("hello", 0.1, 0.3), WordTiming("world", 0.3, 0.6)])
    stt = HybridSTT(OracleSTT(fast, interim_delay=Fixed(0.0)),
                    OracleSTT(good, final_delay=Fixed(0.3)))

    events = stream_events(stt, 40, wait=0.5)
    interims = [e.text for e in events if e.type is SpeechEventType.INTERIM]
    finals = [e.text for e in events if e.type is SpeechEventType.FINAL]
    assert interims == ["helo", "helo wrld"]
    assert finals == ["hello world"]
    assert stt.capabilities.interim_results


def test_interim_recognizer_must_give_interims():
    no_interims = OracleSTT(GroundTruth(), interim_results=False)
    with pytest.raises(ValueError, match="no interim results"):
        HybridSTT(no_interims, OracleSTT(GroundTruth()))


def test_skipped_audio_moves_both_clocks():
    truth = GroundTruth([WordTiming("late", 2.0, 2.3)])
    stt = HybridSTT(OracleSTT(truth, interim_delay=Fixed(0.0)),
                    OracleSTT(truth, final_delay=Fixed(0.0)))

    events = stream_events(stt, 20, wait=0.1, skip=2.0)  # two seconds not sent
    finals = [e for e in events if e.type is SpeechEventType.FINAL]
    assert [w.start for w in finals[0].words] == [2.0]  # on the input timeline, skip included


def test_an_empty_final_withdraws_the_interims_first():
    guess = GroundTruth([WordTiming("fat", 0.1, 0.3)])  # the fast one hears words in a cough
    stt = HybridSTT(OracleSTT(guess, interim_delay=Fixed(0.0)), OracleSTT(GroundTruth()))

    events = stream_events(stt, 20, wait=0.5)
    assert [(e.type.value, e.text) for e in events] == [
        ("interim", "fat"), ("interim", ""), ("final", "")]
