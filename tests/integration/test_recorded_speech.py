"""Recorded user audio: words timed from the recording itself, onsets from a VAD, not a level.

The clip is made here so its truth is known: two espeak sentences with a 1 s pause between
them, under room noise at 20 dB SNR, written to a WAV file. Whisper (tiny.en, bundled) times
its words once and caches them next to the clip; Silero VAD finds the speech.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from bargein import scenario
from bargein.adapters import AgentAdapter, Capabilities
from bargein.audio import read_wav, write_wav
from bargein.providers.oracle_stt import GroundTruth
from bargein.scenario import SimulatedCall
from bargein.scenario.recordings import cache_path, recorded_speech
from bargein.sim import run_simulation

pytestmark = pytest.mark.integration

FIRST, SECOND = "I would like to check my bill.", "And then change my address, please."
TRANSCRIPT = f"{FIRST} {SECOND}"
PAUSE = 1.0
SLACK = 0.25  # Whisper tiny.en word timestamps are good to about this


class Listener(AgentAdapter):
    """A silent system under test: it only listens (the test is about the caller's side)."""

    name = "listener"
    capabilities = Capabilities(streaming_transcripts=False, native_vad=False,
                                interruption=False)

    async def start(self, link):  # type: ignore[no-untyped-def]
        self.link = link

    async def close(self) -> None:
        return None


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[str, float, float]],
                                                           tuple[float, float]]:
    """The clip, the true word timings, and the pause (end of the first sentence's audio,
    start of the second's)."""
    from bargein.providers.espeak_tts import EspeakTTS

    async def make():  # type: ignore[no-untyped-def]
        tts = EspeakTTS(voice="en-us+f2", sample_rate=16000)
        return await tts.synthesize(FIRST), await tts.synthesize(SECOND)

    a, b = asyncio.run(make())
    gap = np.zeros(round(PAUSE * 16000), np.int16)
    x = np.concatenate([a.audio.to_int16(), gap, b.audio.to_int16()]).astype(np.int32)
    noise = np.random.default_rng(1).standard_normal(len(x)) * 0.01 * 32767  # 20 dB SNR
    path = tmp_path_factory.mktemp("clips") / "bill.wav"
    write_wav(path, np.clip(x + noise, -32768, 32767).astype(np.int16), 16000)
    offset = a.duration + PAUSE
    truth = [(w.text, w.start, w.end) for w in a.words]
    truth += [(w.text, w.start + offset, w.end + offset) for w in b.words]
    first_end = np.flatnonzero(a.audio.to_int16())[-1] / 16000
    second_start = offset + np.flatnonzero(b.audio.to_int16())[0] / 16000
    return path, truth, (first_end, second_start)


def in_pause(start: float, end: float, pause: tuple[float, float]) -> bool:
    """The word reaches more than SLACK into the pause."""
    return start < pause[1] - SLACK and end > pause[0] + SLACK


def test_oracle_words_of_a_recording_with_a_pause_land_where_they_were_said(clip) -> None:
    path, truth, pause = clip
    speech = recorded_speech(read_wav(path), transcript=TRANSCRIPT, source=path)

    async def main() -> SimulatedCall:
        call = SimulatedCall(Listener())
        await call.start()
        await asyncio.sleep(0.5)
        await call.speak(speech)
        await asyncio.sleep(0.5)
        await call.close()
        return call

    call = run_simulation(main())
    start = call.room.user.utterances[0].start
    heard = [(w.text, w.start - start, w.end - start) for w in call.truth.words]
    for (word, t0, t1), (got, g0, g1) in zip(truth, heard, strict=True):
        print(f"{word:8s} {t0:5.2f}-{t1:5.2f}  oracle {got:9s} {g0:5.2f}-{g1:5.2f}")
        assert word.lower() in got.lower()
        assert abs(g0 - t0) <= SLACK and abs(g1 - t1) <= SLACK
        assert not in_pause(g0, g1, pause), f"{got} lies in the pause {pause}"
    # the caller's onset and end come from the VAD on the recording, not its noise
    u = call.utterances[0]
    assert abs(u.onset - start) <= 0.05 and abs(u.end - start - truth[-1][2]) <= SLACK
    assert len(u.spans) == 2 and abs(u.spans[0][1] - start - pause[0]) <= SLACK
    # spreading the transcript by character count (the old way) puts words in the pause
    spread = GroundTruth().add_text(TRANSCRIPT, u.onset - start, u.end - start)
    assert any(in_pause(w.start, w.end, pause) for w in spread)


def test_user_path_without_transcript_transcribes_once_and_caches(clip, monkeypatch) -> None:
    path = clip[0]
    cache = cache_path(path)
    cache.unlink(missing_ok=True)
    first = scenario.run("clip", agent=Listener(), script=[scenario.user(path)], settle=0.2)
    assert first.success, first.reasoning
    assert cache.exists() and '"format": "bargein-words/1"' in cache.read_text()
    said = first.utterances[0].text
    print(f"\nrecognized: {said!r}")
    assert "check my" in said.lower() and "please" in said.lower()  # tiny.en, on espeak

    def no_model(audio):  # type: ignore[no-untyped-def]
        raise AssertionError("Whisper ran again although the words are cached")

    monkeypatch.setattr("bargein.scenario.recordings._transcribe", no_model)
    again = scenario.run("clip", agent=Listener(), script=[scenario.user(path)], settle=0.2)
    assert again.utterances[0].text == said
    assert again.to_json() == first.to_json()
