"""Fast tests of the agent runtime's parts: options, events, history truncation, playout."""

import asyncio

import numpy as np
import pytest

from bargein.agent import (
    AgentSession,
    EndpointingOptions,
    InterruptionOptions,
    PacedAudioOutput,
    UserTurnLimit,
    heard_text,
)
from bargein.agent.events import EventEmitter
from bargein.agent.speech import SpeechHandle
from bargein.audio import AudioFrame
from bargein.providers.types import WordTiming
from bargein.sim import run_simulation
from bargein.text import count_sentences, sentence_end


def test_options_refuse_bad_values():
    with pytest.raises(ValueError, match="min_duration"):
        InterruptionOptions(min_duration=-1)
    with pytest.raises(ValueError, match="min_words"):
        InterruptionOptions(min_words=1.5)
    with pytest.raises(ValueError, match="at least one"):
        UserTurnLimit()
    with pytest.raises(ValueError, match="max_sentences"):
        UserTurnLimit(max_sentences=0)
    with pytest.raises(ValueError, match="max_wait"):
        EndpointingOptions(max_wait=0)
    assert "uh-huh" in InterruptionOptions(backchannels={"Uh-Huh"}).backchannels


def test_unknown_event_name_is_refused_and_failing_handler_is_contained():
    emitter = EventEmitter()
    with pytest.raises(ValueError, match=r"unknown event 'user_speech'.*user_input_transcribed"):
        emitter.on("user_speech", print)
    seen = []

    @emitter.on("error")
    def boom(event):
        raise RuntimeError("handler bug")

    emitter.on("error", seen.append)
    emitter.emit("error", "payload")
    assert seen == ["payload"]


def test_sentences_are_counted_like_a_transcript_buffer():
    assert count_sentences("I called. It dropped! Why? and then") == 3
    assert count_sentences("no punctuation here") == 0
    assert sentence_end("Hello there. More") == len("Hello there.")
    assert sentence_end("Hello there.") is None  # might continue in a stream
    assert sentence_end("... well") is None


def test_heard_text_keeps_words_whose_audio_started():
    text = "Hello there, how are you?"
    words = [WordTiming("Hello", 0.0, 0.3, char_start=0, char_end=5),
             WordTiming("there", 0.3, 0.6, char_start=6, char_end=11),
             WordTiming("how", 0.7, 0.8, char_start=13, char_end=16),
             WordTiming("are", 0.8, 0.9, char_start=17, char_end=20),
             WordTiming("you", 0.9, 1.1, char_start=21, char_end=24)]
    assert heard_text(text, words, 0.0) == ""
    assert heard_text(text, words, 0.31) == "Hello there"
    assert heard_text(text, words, 0.7) == "Hello there"  # "how" starts exactly at the stop
    assert heard_text(text, words, 0.75) == "Hello there, how"
    assert heard_text(text, words, 1.0) == "Hello there, how are you"  # "you" still playing
    assert heard_text(text, words, 5.0) == "Hello there, how are you?"  # all of it was heard


def test_paced_output_plays_in_real_time_and_clears_within_one_frame():
    played: list[tuple[float, int]] = []

    async def scenario():
        loop = asyncio.get_running_loop()
        out = PacedAudioOutput(16000, lambda f, at: played.append((round(at, 6), len(f))))
        frame = AudioFrame.from_int16(np.ones(320, np.int16), 16000)

        async def feed():
            for _ in range(100):
                await out.capture_frame(frame)
            out.flush()

        feeder = asyncio.create_task(feed())
        await asyncio.sleep(0.5)
        waiter = asyncio.create_task(out.wait_for_playout())
        await asyncio.sleep(0.005)
        t_clear = loop.time()
        feeder.cancel()
        out.clear_buffer()
        result = await waiter
        await asyncio.sleep(0.2)
        await out.aclose()
        return t_clear, result

    t_clear, result = run_simulation(scenario())
    times = [t for t, _ in played]
    assert times[:3] == [0.0, 0.02, 0.04]  # one 20 ms frame every 20 ms
    assert result.interrupted and result.position == pytest.approx(len(played) * 0.02)
    assert times[-1] <= t_clear < times[-1] + 0.02  # nothing started after the clear


def test_paced_output_pause_holds_and_resume_continues():
    played: list[float] = []

    async def scenario():
        out = PacedAudioOutput(16000, lambda f, at: played.append(at))
        frame = AudioFrame(bytes(640), 16000)
        for _ in range(3):
            await out.capture_frame(frame)
        await asyncio.sleep(0.03)
        out.pause()
        await asyncio.sleep(1.0)
        out.resume()
        out.flush()
        result = await out.wait_for_playout()
        await out.aclose()
        return result

    result = run_simulation(scenario())
    assert played[:2] == pytest.approx([0.0, 0.02])
    assert played[2] >= 1.0  # held during the pause
    assert not result.interrupted and result.position == pytest.approx(0.06)


def test_uninterruptible_handle_refuses_interrupt_without_force():
    async def scenario():
        calls = []
        handle = SpeechHandle(allow_interruptions=False, source="say",
                              interrupt_callback=lambda h, why: calls.append(why))
        with pytest.raises(RuntimeError, match="force=True"):
            handle.interrupt()
        handle.interrupt(force=True)
        return calls

    assert run_simulation(scenario()) == ["forced"]


def test_session_refuses_bad_setup():
    with pytest.raises(Exception, match="8000, 16000, 24000"):
        AgentSession(vad=None, stt=None, llm=None, tts=None, sample_rate=44100)

    async def scenario():
        session = AgentSession(vad=None, stt=None, llm=None, tts=None)
        with pytest.raises(RuntimeError, match="start the session"):
            session.say("hello")

    run_simulation(scenario())
