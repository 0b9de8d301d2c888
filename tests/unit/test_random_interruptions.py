"""Random barge-ins over proceed loops: seeded, at the right share, at delays in range.

The agent here is a scripted fake (a tone that "replies" after each user turn and stops on
the cancel signal): these tests are about the simulated user's timing logic, which does not
need real models. The real stack is exercised in tests/integration.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from bargein import scenario
from bargein.adapters import AgentAdapter, Capabilities
from bargein.audio import AudioFrame
from bargein.errors import ScenarioError

REPLY_SECONDS = 4.0
FRAME = 0.02


class ToneAgent(AgentAdapter):
    """Replies to every user turn with a 4 s tone; stops when cancelled."""

    name = "tone"
    capabilities = Capabilities(streaming_transcripts=False, native_vad=False,
                                interruption=True)

    async def start(self, link):
        self.link = link
        self.task = asyncio.create_task(self._listen())
        self.speaking: asyncio.Task | None = None

    async def _listen(self):
        quiet, heard = 0.0, False
        async for frame in self.link.audio_input:
            loud = np.abs(frame.to_int16()).max() > 64
            if loud:
                heard, quiet = True, 0.0
            elif heard:
                quiet += frame.duration
                if quiet >= 0.6:  # longer than the pauses inside a spoken line
                    heard = False
                    self._reply()

    def _reply(self):
        if self.speaking is not None:
            self.speaking.cancel()
            self.link.audio_output.clear_buffer()
        self.speaking = asyncio.create_task(self._speak())

    async def _speak(self):
        out = self.link.audio_output
        t = np.arange(round(FRAME * 16000)) / 16000
        frame = AudioFrame.from_float((0.2 * np.sin(2 * np.pi * 300 * t)).astype(np.float32),
                                      16000)
        self.link.report("agent_state", state="speaking")
        for _ in range(round(REPLY_SECONDS / FRAME)):
            await out.capture_frame(frame)
        out.flush()
        await out.wait_for_playout()
        self.link.report("agent_state", state="listening")

    async def interrupt(self):
        if self.speaking is not None:
            self.speaking.cancel()
        self.link.audio_output.clear_buffer()
        self.link.report("agent_state", state="listening")

    async def close(self):
        self.task.cancel()
        if self.speaking is not None:
            self.speaking.cancel()


def run_proceed(seed: int, probability: float = 0.5, delay_range=(0.5, 3.0)):
    config = scenario.InterruptionConfig(probability=probability, delay_range=delay_range)
    return scenario.run("proceed", agent=ToneAgent(), seed=seed, settle=0.5, script=[
        scenario.proceed(turns=5, interruptions=config)])


def heard_before(result, since, until):
    """Seconds of agent audio heard between ``since`` and ``until``: the fake's replies are one
    continuous tone, so from the reply's first sample on the recording to ``until``."""
    rate = result.recording.sample_rate
    agent = result.recording.stereo[round(since * rate): round(until * rate), 1]
    first = np.flatnonzero(agent)[0]
    return (len(agent) - first) / rate


@pytest.mark.slow
def test_share_of_interrupted_turns_and_delays_over_200_seeds():
    interrupted = turns = 0
    for seed in range(200):
        result = run_proceed(seed)
        plan = result.timeline.of("proceed_turn")
        assert len(plan) == 5
        turns += 5
        interrupted += sum(e.data["interrupt"] for e in plan)
        fired = result.timeline.of("interrupt_fired")
        assert len(fired) == sum(e.data["interrupt"] for e in plan)  # all landed mid-reply
        for event in fired:
            delay = event.data["delay"]
            assert 0.5 <= delay <= 3.0
            turn = max((e for e in plan if e.time <= event.time), key=lambda e: e.time)
            heard = heard_before(result, turn.time, event.time)
            assert abs(heard - delay) <= FRAME, (seed, heard, delay)
    share = interrupted / turns
    print(f"\n{interrupted} of {turns} agent turns interrupted over 200 seeds: {share:.3f}")
    assert 0.4 <= share <= 0.6


def test_same_seed_same_interruptions_and_bytes():
    a, b = run_proceed(11), run_proceed(11)
    assert a.to_json() == b.to_json()
    assert a.recording.stereo_wav() == b.recording.stereo_wav()
    c = run_proceed(12)
    assert c.to_json() != a.to_json()


def test_proceed_config_wins_over_the_simulator_probability():
    user = scenario.UserSimulator(interrupt_probability=1.0)
    never = scenario.InterruptionConfig(probability=0.0)
    result = scenario.run("config wins", agent=ToneAgent(), user=user, settle=0.5, script=[
        scenario.proceed(turns=3, interruptions=never)])
    assert result.timeline.of("interrupt_fired") == []
    result = scenario.run("simulator", agent=ToneAgent(), user=user, settle=0.5, script=[
        scenario.proceed(turns=3)])
    assert len(result.timeline.of("interrupt_fired")) == 3


def test_reply_shorter_than_the_delay_is_not_cut():
    result = scenario.run("short", agent=ToneAgent(), settle=0.5, script=[scenario.proceed(
        turns=2, interruptions=scenario.InterruptionConfig(probability=1.0,
                                                           delay_range=(5.0, 6.0)))])
    assert result.timeline.of("interrupt_fired") == []
    assert len(result.timeline.of("interrupt_skipped")) == 2


@pytest.mark.parametrize("kwargs, message", [
    ({"probability": 1.5}, "probability must be between 0 and 1"),
    ({"delay_range": (3.0, 1.0)}, "0 <= low <= high"),
    ({"delay_range": "soon"}, "two numbers"),
    ({"strategy": "rude"}, "strategy"),
    ({"phrases": []}, "non-empty"),
])
def test_malformed_config_is_refused(kwargs, message):
    with pytest.raises(ScenarioError, match=message):
        scenario.InterruptionConfig(**kwargs)
