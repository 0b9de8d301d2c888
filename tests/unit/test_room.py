"""The full-duplex room: mouth -> agent input, agent output -> ears, sample-accurate recording."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from bargein.audio import AudioFrame, read_stereo_wav, read_wav
from bargein.providers.oracle_stt import GroundTruth
from bargein.providers.tts import SynthesizedSpeech
from bargein.providers.types import WordTiming
from bargein.sim import Room, Utterance, punctuated_words, run_simulation

RATE = 16000
FD = 0.02
N = 320  # samples per 20 ms frame at 16 kHz


def ramp(n: int, base: int = 1000) -> AudioFrame:
    """Distinct non-zero samples, so any misplacement shows."""
    return AudioFrame.from_int16((base + np.arange(n) % 997).astype(np.int16), RATE)


def const(n: int, value: int) -> AudioFrame:
    return AudioFrame.from_int16(np.full(n, value, np.int16), RATE)


def collect(room: Room, sink: list[tuple[float, AudioFrame]]) -> asyncio.Task[None]:
    """Read the agent input in a task, keeping (loop time of arrival, frame)."""
    loop = asyncio.get_running_loop()

    async def reader() -> None:
        async for frame in room.agent_input:
            sink.append((loop.time(), frame))

    return loop.create_task(reader())


async def play(room: Room, audio: AudioFrame) -> None:
    """Play ``audio`` through the room's agent output in 20 ms frames, to the end."""
    data = audio.to_int16()
    for i in range(0, len(data), N):
        await room.agent_output.capture_frame(AudioFrame.from_int16(data[i : i + N].copy(), RATE))
    room.agent_output.flush()
    await room.agent_output.wait_for_playout()


# -- the user's mouth -> the agent's input ---------------------------------------------------


def test_mouth_audio_lands_on_user_track_and_input_frames() -> None:
    async def scenario() -> None:
        got: list[tuple[float, AudioFrame]] = []
        async with Room(RATE, FD) as room:
            reader = collect(room, got)
            audio = ramp(800)  # 50 ms
            utt = room.user.say(audio, at=0.03)  # mid-frame: the exact sample, not rounded
            assert isinstance(utt, Utterance)
            assert (utt.start, utt.end) == pytest.approx((0.03, 0.08))
            await utt.done()
            # its last sample is in frame 3, delivered at the end of that frame
            assert asyncio.get_running_loop().time() == pytest.approx(0.08, abs=1e-9)
            await asyncio.sleep(0.12)
        await reader

        user = room.recorder.channel("user")
        assert np.array_equal(user[480:1280], audio.to_int16())
        assert not user[:480].any() and not user[1280:].any()

        assert len(got) == 10
        for k, (at, frame) in enumerate(got):
            assert at == pytest.approx((k + 1) * FD, abs=1e-9)  # captured, then delivered
            assert frame.num_samples == N
        stream = np.concatenate([f.to_int16() for _, f in got])
        assert np.array_equal(stream, user[: 10 * N])
        assert [bool(f.to_int16().any()) for _, f in got] == [False] + [True] * 3 + [
            False
        ] * 6

    run_simulation(scenario())


@pytest.mark.parametrize("frames", [1, 7, 50])
def test_input_yields_exactly_n_frames_of_silence(frames: int) -> None:
    async def scenario() -> None:
        got: list[tuple[float, AudioFrame]] = []
        room = Room(RATE, FD)
        await room.start()
        reader = collect(room, got)
        await asyncio.sleep(frames * FD)
        await room.aclose()
        await reader
        assert len(got) == frames == room.frames_delivered
        assert all(f == AudioFrame.silence(FD, RATE) for _, f in got)

    run_simulation(scenario())


def test_room_time_and_start_offset() -> None:
    async def scenario() -> None:
        await asyncio.sleep(5.0)  # the recording starts when the room starts, not at loop 0
        got: list[tuple[float, AudioFrame]] = []
        async with Room(RATE, FD) as room:
            reader = collect(room, got)
            assert room.time == 0.0
            utt = room.user.say(ramp(320))
            assert utt.start == 0.0
            await asyncio.sleep(0.05)
            assert room.time == pytest.approx(0.05)
        await reader
        assert got[0][0] == pytest.approx(5.02)
        assert np.array_equal(room.recorder.channel("user")[:320], ramp(320).to_int16())

    run_simulation(scenario())


def test_say_while_speaking_mixes_and_speaking_flag() -> None:
    async def scenario() -> None:
        async with Room(RATE, FD) as room:
            assert not room.user.speaking
            a = room.user.say(const(1600, 1000))
            b = room.user.say(const(800, 500), at=0.04)
            await asyncio.sleep(0.01)
            assert room.user.speaking
            await asyncio.gather(a.done(), b.done())
            assert not room.user.speaking
        user = room.recorder.channel("user")
        assert (user[:640] == 1000).all()
        assert (user[640:1440] == 1500).all()
        assert (user[1440:1600] == 1000).all()

    run_simulation(scenario())


def test_say_in_the_past_is_refused() -> None:
    async def scenario() -> None:
        async with Room(RATE, FD) as room:
            await asyncio.sleep(0.5)
            with pytest.raises(ValueError, match=r"0\.200 s: that is in the past"):
                room.user.say(ramp(320), at=0.2)
            with pytest.raises(TypeError, match="AudioFrame or a SynthesizedSpeech"):
                room.user.say(b"\x00\x01")  # type: ignore[arg-type]
        with pytest.raises(RuntimeError, match="closed"):
            room.user.say(ramp(320))

    run_simulation(scenario())


def test_cancel_stops_mouth_audio_at_the_next_frame() -> None:
    async def scenario() -> None:
        got: list[tuple[float, AudioFrame]] = []
        async with Room(RATE, FD) as room:
            reader = collect(room, got)
            first = room.user.say(const(16000, 1000))
            await asyncio.sleep(0.115)  # inside frame 5 [0.10, 0.12)
            first.cancel()
            assert first.cancelled and first.end == pytest.approx(0.12)
            await first.done()
            assert room.time == pytest.approx(0.12)
            second = room.user.say(const(16000, 700), at=0.2)
            await asyncio.sleep(0.1)  # exactly on a boundary: cut right there
            second.cancel()
            assert second.end == pytest.approx(0.22)
            await second.done()
            later = room.user.say(const(1600, 300), at=1.0)
            later.cancel()  # not started yet: nothing is said
            assert later.is_done and later.duration == 0
            await asyncio.sleep(0.9)
        await reader
        user = room.recorder.channel("user")
        assert (user[: 6 * N] == 1000).all() and not user[6 * N : 10 * N].any()
        assert (user[10 * N : 11 * N] == 700).all() and not user[11 * N :].any()
        assert room.user_audible_spans(merge_gap=0.0) == [(0.0, 0.12), (0.2, 0.22)]
        stream = np.concatenate([f.to_int16() for _, f in got])
        assert np.array_equal(stream, user[: len(stream)])

    run_simulation(scenario())


# -- the agent's output -> the user's ears ---------------------------------------------------


def test_agent_output_lands_sample_accurately_and_reaches_the_ears() -> None:
    async def scenario() -> None:
        heard: list[tuple[float, AudioFrame]] = []
        async with Room(RATE, FD) as room:
            room.user.on_hear(lambda frame, at: heard.append((at, frame)))
            await asyncio.sleep(0.013)  # not on a frame boundary
            audio = ramp(4 * N, base=2000)
            await play(room, audio)
        agent = room.recorder.channel("agent")
        start = round(0.013 * RATE)
        assert np.array_equal(agent[start : start + 4 * N], audio.to_int16())
        assert not agent[:start].any()
        assert [at for at, _ in heard] == [(start + i * N) / RATE for i in range(4)]
        assert np.array_equal(np.concatenate([f.to_int16() for _, f in heard]), audio.to_int16())
        assert room.first_agent_sample_after(0.0) == start / RATE
        assert room.last_agent_sample_before() == (start + 4 * N) / RATE
        assert room.agent_audible_spans() == [(start / RATE, (start + 4 * N) / RATE)]
        assert room.user_audible_spans() == []

    run_simulation(scenario())


def test_clear_buffer_stops_agent_audio_within_one_frame() -> None:
    async def scenario() -> Room:
        async with Room(RATE, FD) as room:
            loop = asyncio.get_running_loop()
            player = loop.create_task(play(room, const(16000, 3000)))
            await asyncio.sleep(0.31)
            player.cancel()  # the agent drops the rest of its speech...
            room.agent_output.clear_buffer()  # ...and stops its output
            await asyncio.gather(player, return_exceptions=True)
            await asyncio.sleep(0.2)
        return room

    room = run_simulation(scenario())
    stop = room.last_agent_sample_before()
    assert stop is not None and 0.31 <= stop <= 0.31 + FD
    assert room.last_agent_sample_before(0.2) == 0.2
    assert room.first_agent_sample_after(0.5) is None
    assert room.agent_audible_spans() == [(0.0, stop)]


def test_overlap_of_both_parties_is_kept_in_stereo_and_mono(tmp_path: Path) -> None:
    async def scenario() -> Room:
        async with Room(RATE, FD) as room:
            loop = asyncio.get_running_loop()
            player = loop.create_task(play(room, const(8000, 2000)))  # agent 0.0-0.5
            utt = room.user.say(const(4800, 1000), at=0.3)  # user 0.3-0.6, barges in
            await utt.done()
            await player
        return room

    room = run_simulation(scenario())
    stereo_path, mono_path = room.write(tmp_path / "out")
    stereo, rate = read_stereo_wav(stereo_path)
    mono = read_wav(mono_path).to_int16()
    assert rate == RATE and stereo.shape == (9600, 2)
    left, right = stereo[:, 0], stereo[:, 1]
    assert not left[:4800].any() and (left[4800:9600] == 1000).all()
    assert (right[:8000] == 2000).all() and not right[8000:].any()
    assert (mono[4800:8000] == 3000).all()
    assert np.array_equal(mono, left.astype(np.int32) + right)


def test_echo_gain_mixes_agent_playout_into_the_agent_input() -> None:
    async def scenario() -> None:
        got: list[tuple[float, AudioFrame]] = []
        async with Room(RATE, FD, echo_gain=0.5) as room:
            reader = collect(room, got)
            room.user.say(const(2 * N, 100), at=0.02)
            await asyncio.sleep(0.01)  # agent starts mid-frame
            await play(room, const(2 * N, 2000))
            await asyncio.sleep(0.1)
        await reader
        heard = np.concatenate([f.to_int16() for _, f in got])
        start = round(0.01 * RATE)
        expected = np.zeros(len(heard), np.int32)
        expected[start : start + 2 * N] += 1000  # echo at the playout's exact samples
        expected[N : 3 * N] += 100  # the mouth
        assert np.array_equal(heard, expected)
        user = room.recorder.channel("user")  # echo is heard by the agent only
        assert set(np.unique(user).tolist()) == {0, 100}

    run_simulation(scenario())


# -- ground truth for the oracle STT ---------------------------------------------------------


def test_punctuated_words_keep_trailing_punctuation() -> None:
    text = 'I am "calling" about (tiny) well-known things. Ok?'
    spans = [(0, 1), (2, 4), (6, 13), (15, 20), (22, 26), (28, 32), (33, 38), (39, 45), (47, 49)]
    words = tuple(
        WordTiming(text[a:b], i * 0.1, (i + 1) * 0.1, char_start=a, char_end=b)
        for i, (a, b) in enumerate(spans)
    )
    speech = SynthesizedSpeech(text, AudioFrame.silence(1.0, RATE), words)
    assert [w.text for w in punctuated_words(speech)] == [
        "I", "am", 'calling"', "about", "tiny)", "well-", "known", "things.", "Ok?",
    ]  # fmt: skip
    assert [w.start for w in punctuated_words(speech)] == [w.start for w in words]


def test_ground_truth_gets_punctuated_words_at_the_utterance_offset() -> None:
    pytest.importorskip("espeakng_loader")
    pytest.importorskip("soxr")
    from bargein.providers import Fixed
    from bargein.providers.espeak_tts import EspeakTTS

    async def scenario() -> None:
        tts = EspeakTTS(ttfb=Fixed(0.0))
        speech = await tts.synthesize("Hello there. I am calling about my order, please.")
        cut_short = await tts.synthesize("One two three four five six seven eight.")
        truth = GroundTruth()
        async with Room(RATE, FD, truth=truth) as room:
            utt = room.user.say(speech, at=0.5)
            # words arrive as they are spoken, not all at once
            await asyncio.sleep(0.5 + speech.words[1].end + 0.001)
            assert [w.text for w in truth.words] == ["Hello", "there."]
            await utt.done()
            assert [w.text for w in truth.words] == [
                "Hello", "there.", "I", "am", "calling", "about", "my", "order,", "please.",
            ]  # fmt: skip
            for placed, word in zip(truth.words, speech.words, strict=True):
                assert placed.start == pytest.approx(utt.start + word.start)
                assert placed.end == pytest.approx(utt.start + word.end)

            second = room.user.say(cut_short)
            await asyncio.sleep(cut_short.words[2].end + 0.001)
            second.cancel()
            await second.done()
            later = [w for w in truth.words if w.start >= second.start]
            assert [w.text for w in later] == ["One", "two", "three"]
            assert all(w.end <= second.end + 1e-9 for w in later)

    run_simulation(scenario())


# -- determinism and live mode ---------------------------------------------------------------


def _conversation(out: Path) -> bytes:
    async def scenario() -> None:
        async with Room(RATE, FD, echo_gain=0.3) as room:
            loop = asyncio.get_running_loop()
            rng = np.random.default_rng(7)
            voice = AudioFrame.from_float(rng.uniform(-0.3, 0.3, 8000).astype(np.float32), RATE)
            player = loop.create_task(play(room, voice))
            utt = room.user.say(ramp(4000), at=0.21)
            await asyncio.sleep(0.33)
            player.cancel()
            room.agent_output.clear_buffer()
            await utt.done()
            await asyncio.gather(player, return_exceptions=True)
        room.write(out)

    run_simulation(scenario())
    return (out / "conversation.wav").read_bytes() + (out / "conversation-mono.wav").read_bytes()


def test_same_inputs_give_identical_wav_bytes(tmp_path: Path) -> None:
    assert _conversation(tmp_path / "a") == _conversation(tmp_path / "b")


def test_room_runs_live_with_asyncio_run() -> None:
    async def scenario() -> tuple[Room, int]:
        got: list[tuple[float, AudioFrame]] = []
        async with Room(RATE, FD) as room:
            reader = collect(room, got)
            utt = room.user.say(ramp(1600), at=0.05)  # mid-frame, sample-exact
            await play(room, const(3 * N, 2000))
            await utt.done()
            await asyncio.sleep(max(0.0, 0.25 - room.time))
        await reader
        return room, len(got)

    room, frames = asyncio.run(scenario())
    assert frames == room.frames_delivered >= 12
    user = room.recorder.channel("user")
    assert np.array_equal(user[800:2400], ramp(1600).to_int16())  # sample-exact even live
    assert room.first_agent_sample_after() is not None
    assert (room.recorder.channel("agent") == 2000).sum() == 3 * N


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="session sample rate"):
        Room(44100)
    with pytest.raises(ValueError, match="whole number of samples"):
        Room(8000, 0.0101)
    with pytest.raises(ValueError, match="echo_gain"):
        Room(echo_gain=-1.0)
    with pytest.raises(TypeError, match="GroundTruth"):
        Room(truth=[])  # type: ignore[arg-type]

    async def twice() -> None:
        room = Room()
        await room.start()
        with pytest.raises(RuntimeError, match="already started"):
            await room.start()
        await room.aclose()
        await room.aclose()  # idempotent

    run_simulation(twice())
