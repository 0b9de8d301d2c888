"""Metrics against the ground truth with real models: bargein's agent (real Silero VAD,
espeak-ng) hears a caller barge in under pink room noise at 10 dB SNR.

The truth is read off the clean sources: the caller's first speech sample in the synthesized
audio, and the agent's last sample before it went silent on its own (clean) lane.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np
import pytest

from bargein.adapters.bench_agent import AgentSetting
from bargein.agent import InterruptionOptions
from bargein.audio import AudioFrame
from bargein.scenario import SimulatedCall, UserSpeech
from bargein.scenario.turns import PAUSE_GAP
from bargein.sim import run_simulation

pytestmark = pytest.mark.integration

FRAME = 0.02
RATE = 16000
BARGE_IN = "Sorry, can you tell me about refunds instead?"


@dataclass
class _Opens:
    agent_opens: bool = True


def pink_bed(seconds: float, rms: float) -> AudioFrame:
    rng = np.random.default_rng(5)
    n = round(seconds * RATE)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spectrum), dtype=np.float64)
    f[0] = 1.0
    x = np.fft.irfft(spectrum / np.sqrt(f), n)
    x *= rms / np.sqrt(np.mean(x**2))
    return AudioFrame.from_int16(np.round(np.clip(x, -1, 1) * 32767).astype(np.int16), RATE)


@pytest.mark.parametrize("resume", [False, True])
def test_noisy_barge_in_is_measured_on_the_truth(resume: bool) -> None:
    from bargein.providers.espeak_tts import EspeakTTS

    setting = AgentSetting("vad-0.3", "VAD only", InterruptionOptions(
        min_duration=0.3, resume_false_interruption=resume))

    async def main():  # type: ignore[no-untyped-def]
        speech = await EspeakTTS(voice="en-us+m3", sample_rate=RATE).synthesize(BARGE_IN)
        level = float(np.sqrt(np.mean(speech.audio.to_float()[speech.audio.to_float() != 0]
                                      ** 2)))
        call = SimulatedCall(setting.adapter(_Opens()))
        await call.start()
        call.play_background(pink_bed(14.0, level / np.sqrt(10)))  # 10 dB SNR
        moment = call.hearing.heard_seconds(1.5, 0.0)
        await asyncio.sleep(await moment - call.time)
        said = call.say(UserSpeech.synthesized(speech), barge_in=True)
        await said.done()
        await asyncio.sleep(4.0)
        await call.close()
        return call, speech, said

    call, speech, said = run_simulation(main())
    clean = speech.audio.to_int16()
    onset = said.room_utterance.start + np.flatnonzero(clean)[0] / RATE
    agent = call.room.recorder.channel("agent")
    # the agent's last sample before its first silence of PAUSE_GAP after the onset
    sound = np.flatnonzero(agent[round(onset * RATE):]) + round(onset * RATE)
    gaps = np.flatnonzero(np.diff(sound) > PAUSE_GAP * RATE)
    stop = (sound[gaps[0]] + 1) / RATE if gaps.size else (sound[-1] + 1) / RATE
    metrics = call.metrics()
    [m] = metrics.interruptions
    u = call.utterances[0]
    mixed = call.room.recorder.channel("user")
    level_onset = np.flatnonzero(np.abs(mixed.astype(np.int32)) > 64)[0] / RATE
    print(f"\nresume={resume}: caller onset {onset:.3f} s (measured {u.onset:.3f}; a level on "
          f"the noisy track says {level_onset:.3f}), agent stopped {stop:.3f} s (measured "
          f"{m.stopped_at:.3f}), {m.describe()}")
    assert abs(u.onset - onset) <= FRAME
    assert level_onset < onset - 1.0  # what the old threshold on the mixed track measured
    assert m.agent_was_speaking and abs(m.stopped_at - stop) <= FRAME
    assert abs(m.stop_latency - (stop - onset)) <= FRAME
    assert m.yielded and m.talked_over == 0.0
    assert 0.2 <= m.stop_latency <= 1.0  # the agent reacted to the VAD, not at once
    # the agent answered after the caller: the gap is positive and is the response latency
    assert m.response_gap is not None and m.response_gap > 0
    assert metrics.response_latency and abs(metrics.response_latency[-1] - m.response_gap) < 1e-9
