"""Every metric equals the ground truth, within one frame, on randomized synthetic calls.

Each call is planned up front: when the scripted agent's reply plays (words with short gaps),
when the caller barges in (with a gap between its words) and how the agent reacts (it stops,
then maybe answers 0.2 s after the cut; it pauses and resumes over the caller; it ignores the
caller). The caller's lane gets background noise at 10 dB SNR, the agent's lane sometimes a
hiss. The plan gives the true onset, stop, talk-over, overlap and response gap; the call is
then run through the SDK's own harness (a real Room on the virtual clock, the adapter link,
the recording) and measured from the audio and the adapter's reports alone.

The agent is a scripted fake (it plays the planned lane): these tests are about measurement.
Real models are measured against their ground truth in tests/integration.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bargein.adapters import AgentAdapter, Capabilities
from bargein.audio import AudioFrame
from bargein.audio.framing import split_frames
from bargein.scenario import SimulatedCall, UserSpeech
from bargein.scenario.metrics import YIELD_WINDOW
from bargein.sim import run_simulation

RATE = 16000
FRAME = 0.02
VOICE_RMS = 0.1
# Deterministic (derandomize) and bounded: no shrinking, so a failure reports the generated
# plan at once instead of spending minutes on a smaller one.
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                    phases=(Phase.explicit, Phase.generate),
                    suppress_health_check=[HealthCheck.too_slow])

Span = tuple[float, float]


def voice(spans: list[Span], length: float, seed: int, rms: float = VOICE_RMS) -> np.ndarray:
    """A voice-like signal (harmonics of 140 Hz, 2 ms ramps) over ``spans``, silence elsewhere."""
    n = round(length * RATE)
    out = np.zeros(n)
    rng = np.random.default_rng(seed)
    for a, b in spans:
        i, j = round(a * RATE), min(n, round(b * RATE))
        t = np.arange(j - i) / RATE
        f0 = rng.uniform(110, 180)
        x = sum(np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6)) / k for k in (1, 2, 3, 4))
        ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.002)
        x = x * ramp
        out[i:j] = x * rms / np.sqrt(np.mean(x**2) + 1e-12)
    return out


def to_frame(x: np.ndarray) -> AudioFrame:
    return AudioFrame.from_int16(np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16),
                                 RATE)


def words(start: float, length: float, rng: np.random.Generator) -> list[Span]:
    """Word spans from ``start`` for ``length`` s, with gaps of 20-70 ms (bridged: one span)
    or 130-300 ms (two spans, one stretch), never near the 0.1 s bridging limit."""
    out, t = [], start
    while t < start + length:
        w = rng.uniform(0.15, 0.6)
        out.append((t, min(t + w, start + length)))
        t += w + (rng.uniform(0.02, 0.07) if rng.random() < 0.5 else rng.uniform(0.13, 0.3))
    return out


def bridged(spans: list[Span]) -> list[Span]:
    """Spans joined across gaps shorter than 0.1 s: what "audible" means (levels.py)."""
    out: list[Span] = []
    for a, b in sorted(spans):
        if out and a - out[-1][1] < 0.1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def clip(spans: list[Span], lo: float, hi: float) -> list[Span]:
    out = [(max(a, lo), min(b, hi)) for a, b in spans if b > lo and a < hi]
    return [(a, b) for a, b in out if b - a > 1e-6]


def overlap(a: list[Span], b: list[Span]) -> float:
    return sum(max(0.0, min(e1, e2) - max(s1, s2)) for s1, e1 in a for s2, e2 in b)


class ScriptedAgent(AgentAdapter):
    """Plays a planned agent lane from time 0 and reports its speeches (unless a black box)."""

    name = "scripted"
    capabilities = Capabilities(streaming_transcripts=False, native_vad=False,
                                interruption=False)

    def __init__(self, lane: np.ndarray, speeches: list[tuple[Span, bool]] | None) -> None:
        self.lane, self.speeches = lane, speeches

    async def start(self, link) -> None:
        self.link = link
        self.task = asyncio.get_running_loop().create_task(self._play())

    async def _play(self) -> None:
        for frame in split_frames(to_frame(self.lane), FRAME):
            await self.link.audio_output.capture_frame(frame)

    async def close(self) -> None:
        self.task.cancel()
        for i, ((start, end), cut) in enumerate(self.speeches or ()):
            self.link.report("agent_speech", time=start, id=f"s{i}", phase="started")
            self.link.report("agent_speech", time=end, id=f"s{i}", phase="ended",
                             interrupted=cut)


@dataclass
class Truth:
    onset: float
    end: float
    stop: float
    talked_over: float
    overlap: float
    response_gap: float | None
    total_overlap: float

    @property
    def stop_latency(self) -> float:
        return max(0.0, self.stop - self.onset)

    @property
    def yielded(self) -> bool:
        return self.stop_latency <= YIELD_WINDOW and self.talked_over <= 0.02


@dataclass
class Plan:
    reaction: str  # "stop", "stop_then_reply", "pause_resume", "ignore"
    into: float  # seconds into the reply when the caller starts
    react: float  # seconds from the caller's onset to the agent's cut / pause
    caller: float  # seconds of caller speech
    reply_gap: float  # after a cut, until the next reply
    pause: float  # pause_resume: silence before the agent comes back
    hiss_db: float | None  # agent lane hiss, dB below its voice
    boundaries: bool
    seed: int


def build(plan: Plan) -> tuple[np.ndarray, list[tuple[Span, bool]], list[Span], Truth]:
    """The agent lane, its speeches, the caller's spans and the ground truth of a plan."""
    rng = np.random.default_rng(plan.seed)
    reply = words(0.8, 7.0, rng)  # the reply the caller cuts into
    onset = 0.8 + plan.into
    if not plan.boundaries and not any(a <= onset <= b for a, b in reply):
        # a black box's audio alone cannot tell a caller who starts in a gap between the
        # agent's words from one who starts after it finished: start inside the next word
        onset = next(a for a, _ in reply if a > onset) + 0.02
    first = rng.uniform(0.25, 0.5)
    gap = rng.choice([0.05, 0.15, 0.25])
    caller = [(onset, onset + first), (onset + first + gap,
                                       onset + max(plan.caller, first + gap + 0.3))]
    end = caller[-1][1]
    cut = onset + plan.react
    speeches: list[tuple[Span, bool]]
    if plan.reaction == "ignore":
        agent = reply
        speeches = [((reply[0][0], reply[-1][1]), False)]
    elif plan.reaction == "pause_resume":
        head = clip(reply, 0, cut)
        tail = [(a + plan.pause, b + plan.pause) for a, b in clip(reply, cut, 99)]
        agent = head + tail
        speeches = [((reply[0][0], agent[-1][1]), False)]
    else:
        agent = clip(reply, 0, cut)
        speeches = [((reply[0][0], cut), True)]
        if plan.reaction == "stop_then_reply":
            again = (agent[-1][1] if agent else cut) + plan.reply_gap
            second = words(again, rng.uniform(1.0, 2.0), rng)
            agent = agent + second
            speeches.append(((second[0][0], second[-1][1]), False))
    length = max(agent[-1][1], end) + 1.5
    # the truth, from the plan: where the agent went quiet after the onset, and after
    if plan.reaction == "ignore":
        stop = reply[-1][1]
    else:
        before = clip(agent, 0, cut + 1e-9)
        stop = before[-1][1] if before else cut
    heard, said = bridged(agent), bridged(caller)
    after = [(a, b) for a, b in heard if a > stop + 1e-9]
    truth = Truth(
        onset=onset, end=end, stop=stop,
        talked_over=sum(b - a for a, b in clip(after, stop, end)),
        overlap=overlap(said, heard),
        response_gap=(after[0][0] - end) if after else None,
        total_overlap=overlap(said, heard))
    lane = voice(agent, length, plan.seed)
    if plan.hiss_db is not None:
        hiss = np.random.default_rng(plan.seed + 1).standard_normal(len(lane))
        lane = lane + hiss * VOICE_RMS * 10 ** (-plan.hiss_db / 20)
    return lane, speeches, caller, truth


def run_call(plan: Plan):  # type: ignore[no-untyped-def]
    lane, speeches, caller, truth = build(plan)
    length = len(lane) / RATE
    start = caller[0][0]
    rel = [(a - start, b - start) for a, b in caller]
    speech = UserSpeech.sound(to_frame(voice(rel, rel[-1][1] + 0.05, plan.seed + 2)),
                              text="Wait, what are your opening hours?")
    rng = np.random.default_rng(plan.seed + 3)
    bed = to_frame(rng.standard_normal(round(length * RATE)) * VOICE_RMS / np.sqrt(10))

    async def main():  # type: ignore[no-untyped-def]
        call = SimulatedCall(ScriptedAgent(lane, speeches if plan.boundaries else None))
        await call.start()
        call.play_background(bed)  # room noise at 10 dB SNR under the caller
        said = call.say(speech, at=start, barge_in=True)
        await said.done()
        await asyncio.sleep(length - call.time)
        await call.close()
        return call

    call = run_simulation(main())
    return call, truth


def check(call, truth: Truth) -> None:  # type: ignore[no-untyped-def]
    metrics = call.metrics()
    [m] = metrics.interruptions
    u = call.utterances[0]
    where = f"{truth} vs {m}"
    assert abs(u.onset - truth.onset) <= FRAME and abs(u.end - truth.end) <= FRAME, where
    assert m.agent_was_speaking, where
    assert abs(m.stopped_at - truth.stop) <= FRAME, where
    assert abs(m.stop_latency - truth.stop_latency) <= FRAME, where
    assert abs(m.talked_over - truth.talked_over) <= FRAME, where
    assert abs(m.overlap - truth.overlap) <= FRAME, where
    if truth.response_gap is None:
        assert m.response_gap is None, where
    else:
        assert m.response_gap is not None and abs(m.response_gap - truth.response_gap) <= FRAME
    assert abs(metrics.overlap - truth.total_overlap) <= 2 * FRAME, where
    assert m.yielded == truth.yielded, where
    assert metrics.yield_rate == (1.0 if truth.yielded else 0.0)


plans = st.builds(
    Plan,
    reaction=st.sampled_from(["stop", "stop_then_reply", "pause_resume", "ignore"]),
    into=st.floats(0.3, 3.0),
    react=st.floats(0.0, 1.2),
    caller=st.floats(0.8, 3.0),
    reply_gap=st.sampled_from([0.2, 0.3, 0.8, 1.5]),
    pause=st.floats(0.6, 1.5),
    hiss_db=st.none() | st.floats(25.0, 40.0),
    boundaries=st.just(True),
    seed=st.integers(0, 10_000),
)


@SETTINGS
@given(plans)
def test_metrics_equal_the_ground_truth_with_speech_boundaries(plan: Plan) -> None:
    check(*run_call(plan))


black_box_plans = plans.map(lambda p: Plan(
    p.reaction, p.into, p.react, p.caller, max(p.reply_gap, 0.6), p.pause, p.hiss_db,
    False, p.seed))


@SETTINGS
@given(black_box_plans)
def test_metrics_equal_the_ground_truth_for_a_black_box(plan: Plan) -> None:
    # without speech boundaries the gap rule applies: a reply 0.6 s or more after a cut is
    # a new turn (docs/metrics.md); closer ones are measured as one turn
    check(*run_call(plan))


def test_second_reply_0_2_s_after_a_cut_is_its_own_turn() -> None:
    plan = Plan("stop_then_reply", into=1.0, react=0.3, caller=2.5, reply_gap=0.2, pause=1.0,
                hiss_db=None, boundaries=True, seed=7)
    call, truth = run_call(plan)
    check(call, truth)
    m = call.metrics().interruptions[0]
    # the cut reply stopped 0.3 s after the onset; the next reply came over the caller
    assert m.talked_over > 0.5 and not m.yielded
    turns = call.agent_turns()
    assert len(turns) == 2 and turns[1].start - turns[0].end <= 0.2 + FRAME


def test_an_agent_that_resumes_over_a_3_s_barge_in_does_not_yield() -> None:
    plan = Plan("pause_resume", into=1.5, react=0.4, caller=3.0, reply_gap=1.0, pause=0.8,
                hiss_db=None, boundaries=True, seed=11)
    call, truth = run_call(plan)
    check(call, truth)
    m = call.metrics().interruptions[0]
    assert m.stop_latency <= 0.4 + FRAME and not m.yielded
    message = m.describe()
    print("\n" + message)
    resumed = truth.stop + 0.8
    assert f"talked over the caller from {resumed:.2f} s" in message
    assert f"for {truth.talked_over:.2f} s" in message
    assert f"the caller spoke until {truth.end:.2f} s" in message


def test_a_scenario_fails_the_yield_check_and_says_when_the_agent_talked_over() -> None:
    from bargein import scenario

    # the agent pauses 0.4 s after the caller's onset and resumes 0.8 s later, over them
    reply = [(0.8, 2.5), (2.6, 4.0), (4.1, 9.0)]
    paused = clip(reply, 0, 2.7) + [(a + 0.8, b + 0.8) for a, b in clip(reply, 2.7, 99)]
    lane = voice(paused, 11.0, seed=3)
    agent = ScriptedAgent(lane, [((0.8, paused[-1][1]), False)])
    # it "hears" the caller by itself (its plan reacts to it): a VAD barge-in
    agent.capabilities = Capabilities(streaming_transcripts=False, native_vad=True,
                                      interruption=False)
    result = scenario.run("resume over the caller", agent=agent, settle=0.5, script=[
        scenario.interrupt("Wait, wait, I really need to tell you something about my order.",
                           at=2.3),
        scenario.sleep(6.0),
        scenario.expect_yielded()])
    assert not result.success
    [m] = result.metrics.interruptions
    print("\n" + result.reasoning)
    assert abs(m.stopped_at - 2.7) <= FRAME and abs(m.talked_over_at - 3.5) <= FRAME
    assert "then talked over the caller from 3.50 s for" in result.reasoning
    assert f"for {m.talked_over:.2f} s (the caller spoke until {m.end:.2f} s)" in result.reasoning
    assert m.talked_over > 1.0 and result.metrics.yield_rate == 0.0
