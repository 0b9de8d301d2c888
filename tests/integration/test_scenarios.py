"""The scenario SDK on the audio timeline: triggers, forms, barge-in paths, capabilities.

Every timing is checked against the recording the scenario produced.
"""

from __future__ import annotations

import numpy as np
import pytest

from bargein import scenario
from bargein.adapters import BargeinAgentAdapter
from bargein.agent import Agent, AgentSession, InterruptionOptions
from bargein.audio.levels import audible_spans
from bargein.errors import UnsupportedCapabilityError

pytestmark = pytest.mark.integration
FRAME = 0.02
FEATURES = "Tell me about your product features"


class Greeter(Agent):
    async def on_enter(self) -> None:
        self.session.generate_reply(instructions="Greet the caller.")


def factory(ctx, min_duration=0.4):
    from bargein.providers.espeak_tts import EspeakTTS
    from bargein.providers.oracle_stt import OracleSTT
    from bargein.providers.rule_based_llm import RuleBasedLLM
    from bargein.providers.silero_vad import SileroVAD

    session = AgentSession(vad=SileroVAD(), stt=OracleSTT(ctx.truth), llm=RuleBasedLLM(),
                           tts=EspeakTTS(voice="en-gb+f3"),
                           interruption=InterruptionOptions(min_duration=min_duration))
    return Greeter(instructions="You are a support agent."), session


def adapter(mode="full"):
    return BargeinAgentAdapter(factory, mode=mode)


def first_agent_sample(result, after):
    agent = result.recording.stereo[:, 1]
    start = round(after * result.recording.sample_rate)
    hits = np.flatnonzero(agent[start:])
    return (start + hits[0]) / result.recording.sample_rate


def voiced_at(spans, seconds):
    """When the caller's speech (its ground-truth spans) had lasted ``seconds``."""
    for a, b in spans:
        if b - a >= seconds:
            return a + seconds
        seconds -= b - a
    return spans[-1][1]


def fired(result):
    return result.timeline.of("interrupt_fired")


# -- 1. the three triggers ----------------------------------------------------------------------

def test_after_seconds_fires_at_that_much_heard_agent_audio():
    result = scenario.run("after=1.5", agent=adapter(), script=[
        scenario.agent(), scenario.user(FEATURES),
        scenario.interrupt("Stop, what are your business hours?", after=1.5),
        scenario.agent(),
    ])
    assert result.success, result.reasoning
    event = fired(result)[0]
    step_start = result.utterances[0].end
    reply_start = first_agent_sample(result, step_start)
    heard = event.time - reply_start
    print(f"\nreply audible from {reply_start:.3f} s, interrupt fired {event.time:.3f} s: "
          f"{heard:.3f} s of agent audio heard")
    assert abs(heard - 1.5) <= FRAME
    assert event.data["trigger"] == "after"


def test_after_words_fires_after_exactly_that_many_heard_words():
    result = scenario.run("after_words=5", agent=adapter(), script=[
        scenario.agent(), scenario.user(FEATURES),
        scenario.interrupt("Stop, what are your business hours?", after_words=5),
        scenario.agent(),
    ])
    assert result.success, result.reasoning
    event = fired(result)[0]
    step_start = result.utterances[0].end
    words = [(e.time, w) for e in result.timeline.of("agent_words") if e.time >= step_start
             for w in e.data["words"]]
    heard = [w for t, w in words if t < event.time - 1e-9]
    print(f"\nwords heard when the interrupt fired at {event.time:.3f} s: {heard}")
    assert len(heard) == 5
    # the word reports are real: agent audio is playing at each reported word start
    agent = result.recording.stereo[:, 1]
    rate = result.recording.sample_rate
    for t, _ in words[:6]:
        assert np.abs(agent[round(t * rate): round((t + 0.1) * rate)]).max() > 64


def test_no_trigger_fires_at_the_first_audible_agent_frame():
    result = scenario.run("first chunk", agent=adapter(), script=[
        scenario.agent(), scenario.user(FEATURES),
        scenario.interrupt("Hold on, what are your business hours?"),
        scenario.agent(),
    ])
    assert result.success, result.reasoning
    event = fired(result)[0]
    reply_start = first_agent_sample(result, result.utterances[0].end)
    print(f"\nfirst agent sample {reply_start:.4f} s, interrupt fired {event.time:.4f} s")
    # it fired as the frame holding the first audible sample started to play
    assert event.time - 1e-9 <= reply_start < event.time + FRAME


def test_when_thinking_fires_after_the_turn_is_taken_before_the_reply_is_audible():
    result = scenario.run("thinking", agent=adapter(), script=[
        scenario.agent(), scenario.user(FEATURES),
        scenario.interrupt("Actually, what are your business hours?", when="thinking"),
        scenario.agent(), scenario.expect_event("user_state", state="speaking")])
    assert result.success, result.reasoning
    event = fired(result)[0]
    thinking = [e.time for e in result.timeline.of("agent_state")
                if e.data["state"] == "thinking" and e.time >= result.utterances[0].end]
    print(f"\nagent thinking at {thinking[0]:.3f} s, interrupt fired {event.time:.3f} s")
    assert event.data["trigger"] == "thinking" and event.time == pytest.approx(thinking[0])
    # nothing of the pending reply was audible before the barge-in, nor played after it: the
    # agent's next audio is its answer, after the caller's interruption
    agent = audible_spans(result.recording.stereo[:, 1], result.recording.sample_rate)
    after_turn = [a for a, _ in agent if a > result.utterances[0].end]
    assert after_turn[0] > result.utterances[1].end
    [m] = result.metrics.interruptions
    assert not m.agent_was_speaking and result.metrics.yield_rate is None


def test_at_fires_at_that_time_on_the_recording():
    result = scenario.run("at 5 s", agent=adapter(), script=[
        scenario.interrupt("Hold on, what are your business hours?", at=5.0),
        scenario.agent()])
    assert result.success, result.reasoning
    event = fired(result)[0]
    assert event.data["trigger"] == "at" and event.time == pytest.approx(5.0, abs=1e-6)
    assert 5.0 <= result.utterances[0].onset <= 5.0 + FRAME
    late = scenario.run("at the past", agent=adapter(), script=[
        scenario.agent(), scenario.interrupt("Hold on.", at=1.0)])
    assert not late.success
    assert "after the time it should fire" in late.error


# -- 2. unrolled and sugar forms ----------------------------------------------------------------

def test_unrolled_and_sugar_forms_give_the_same_timeline_and_wav_bytes():
    head = [scenario.agent(), scenario.user(FEATURES)]
    tail = [scenario.agent(), scenario.expect_stopped_within(0.6)]
    unrolled = scenario.run("unrolled", agent=adapter(), seed=7, script=[
        *head, scenario.agent(wait=False), scenario.user("Wait, I meant account support"),
        *tail])
    sugar = scenario.run("sugar", agent=adapter(), seed=7, script=[
        *head, scenario.interrupt("Wait, I meant account support"), *tail])
    assert unrolled.success and sugar.success
    assert unrolled.timeline.to_list() == sugar.timeline.to_list()
    assert unrolled.recording.stereo_wav() == sugar.recording.stereo_wav()
    assert unrolled.recording.mono_wav() == sugar.recording.mono_wav()
    assert len(fired(sugar)) == 1


# -- 3. native vs VAD barge-in ------------------------------------------------------------------

def test_native_and_vad_barge_in_both_stop_the_agent():
    script = [scenario.agent(), scenario.user(FEATURES),
              scenario.interrupt("Wait, what are your business hours?", after=1.0),
              scenario.agent(), scenario.expect_stopped_within(0.6)]
    native = scenario.run("native", agent=adapter("full"), script=script)
    vad = scenario.run("vad", agent=adapter("limited"), script=script)
    assert native.success, native.reasoning
    assert vad.success, vad.reasoning
    assert fired(native)[0].data["mode"] == "native"
    assert fired(vad)[0].data["mode"] == "vad"
    # the VAD path was detected by the agent's own VAD on the overlapping audio
    assert [e.data["reason"] for e in vad.timeline.of("agent_interrupted")] == ["barge_in"]
    assert [e.data["reason"] for e in native.timeline.of("agent_interrupted")] == ["forced"]
    n, v = native.metrics.stop_latency[0], vad.metrics.stop_latency[0]
    # min_duration counts the caller's voice: "Wait," then a comma pause, then the rest
    barge_in = vad.utterances[1]
    heard_enough = voiced_at(barge_in.spans, 0.4)
    stopped = vad.metrics.interruptions[0].stopped_at
    print(f"\nstop latency: native {n * 1000:.0f} ms, VAD {v * 1000:.0f} ms (0.4 s of the "
          f"caller's voice at {heard_enough - barge_in.onset:.3f} s)")
    assert n <= FRAME + 0.01 < v
    assert stopped <= heard_enough + 0.04
    assert native.metrics.yield_rate == vad.metrics.yield_rate == 1.0
    assert native.metrics.truncation_accuracy == 1.0
    assert vad.metrics.truncation_accuracy is None  # no streaming transcripts to check with


# -- 4. capabilities ----------------------------------------------------------------------------

def test_after_words_without_streaming_transcripts_is_refused_before_the_start():
    with pytest.raises(UnsupportedCapabilityError, match=r"after=<seconds>") as info:
        scenario.run("needs words", agent=adapter("limited"), script=[
            scenario.agent(), scenario.user(FEATURES),
            scenario.interrupt("Stop", after_words=5)])
    assert info.value.capability == "streaming_transcripts"


def test_native_mode_on_an_adapter_without_a_cancel_signal_is_refused():
    with pytest.raises(UnsupportedCapabilityError, match="mode='vad'"):
        scenario.run("needs cancel", agent=adapter("limited"), script=[
            scenario.user(FEATURES), scenario.interrupt("Stop", mode="native")])


# -- 7. bad input ---------------------------------------------------------------------------------

def test_an_agent_that_never_speaks_is_a_clear_timeout_not_a_hang():
    class Mute(Agent):
        async def on_user_turn_completed(self, turn_ctx, new_message):
            from bargein.agent import StopResponse

            raise StopResponse

    def mute_factory(ctx):
        _, session = factory(ctx)
        return Mute(), session

    result = scenario.run("mute", agent=BargeinAgentAdapter(mute_factory), script=[
        scenario.user("Hello?"), scenario.agent(timeout=5.0)])
    assert not result.success
    assert "did not start speaking within 5 s" in result.error
    assert result.duration < 10.0
