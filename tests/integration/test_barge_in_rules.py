"""The barge-in rules that issue 11 fixed, on real Silero VAD hearing real espeak speech.

Each test is one behaviour of the policy (``bargein/agent/interruption.py``) or of the end of
turn (``bargein/agent/endpointing.py``) checked end to end, with every time measured on the
recording of the simulated room.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from bargein.agent import EndpointingOptions, InterruptionOptions
from bargein.audio.frame import AudioFrame
from bargein.providers.latency import Fixed
from bargein.providers.oracle_stt import OracleSTT
from bargein.providers.rule_based_llm import RuleBasedLLM
from bargein.sim import run_simulation

pytestmark = pytest.mark.integration

FRAME = 0.02
FEATURES = "Tell me about your product features"


def talks_between(room, start: float, end: float) -> list[tuple[float, float]]:
    """Audible agent spans that overlap ``[start, end)`` on the recording."""
    return [s for s in room.agent_audible_spans() if s[1] > start and s[0] < end]


# -- rule: a reply being prepared is held, and cancelled by the user's new words -----------------

def test_user_talking_while_the_agent_thinks_cancels_the_pending_reply(make_call):
    """Behaviour 1: the reply to the first question is never played once the user has gone on
    talking; the history has no orphan assistant message; the new turn is answered once."""
    llm = RuleBasedLLM(ttft=Fixed(2.0))  # the agent thinks for 2 s before its first word

    async def scenario():
        call = await make_call(interruption=InterruptionOptions(min_duration=0.5), llm=llm)
        first, _ = await call.user_says("What are your business hours?", at=1.0)
        await first.done()
        # the turn is taken about 0.8 s after the question; the user goes on 0.5 s later
        await asyncio.sleep(1.3)
        assert call.session.agent_state == "thinking"
        second, _ = await call.user_says("Actually, how do I get a refund?")
        await second.done()
        await asyncio.sleep(3.0)  # the turn is taken, the answer is being prepared
        await call.session.current_speech
        await asyncio.sleep(1.0)
        await call.close()
        return call, first, second

    call, first, second = run_simulation(scenario())
    room = call.room
    # nothing of the first reply was ever heard: no agent audio until the second answer
    answer = room.first_agent_sample_after(first.end)
    assert answer is not None and answer > second.end + 0.3
    history = [(m.role, m.content) for m in call.session.history]
    assert [r for r, _ in history] == ["user", "user", "assistant"], history
    assert history[1][1] == "Actually, how do I get a refund?"
    assert "refund" in history[2][1].lower(), history
    interrupted = call.named("agent_interrupted")
    assert len(interrupted) == 1 and interrupted[0].heard_text == ""
    assert len(call.named("conversation_item_added")) == 3


# -- rule: never resume while the user's voice is on; words from a final-only recognizer ----------

def test_false_interruption_waits_for_the_end_of_the_voice_with_whisper_only(make_call):
    """Behaviours 2 and 3: a 3 s barge-in heard by a final-only recognizer (Whisper): the
    agent pauses at min_duration, stays silent while the user talks (no resume on a timer),
    and stops for good when Whisper's words arrive; ``agent_interrupted`` says the audio
    stopped at the pause, within one frame of the last audible sample."""
    from bargein.providers.whisper_stt import WhisperSTT

    options = InterruptionOptions(min_duration=0.5, false_interruption_timeout=2.0)

    async def scenario():
        call = await make_call(interruption=options, stt=WhisperSTT())
        handle = call.session.generate_reply(user_input=FEATURES)
        utt, speech = await call.user_says(
            "No, no, I do not want to hear about all of the features right now, I only "
            "want to know the price of the basic plan please.", at=3.0)
        await utt.done()
        await handle
        await asyncio.sleep(6.0)
        await call.close()
        return call, handle, utt, speech

    call, handle, utt, speech = run_simulation(scenario())
    room = call.room
    onset = utt.start + speech.words[0].start
    offset = utt.start + speech.words[-1].end
    assert offset - onset > 3.0, "the barge-in must outlast false_interruption_timeout"
    last = room.last_agent_sample_before(offset)
    assert onset < last <= onset + 0.5 + 0.04  # paused at min_duration (+ frame + VAD)
    # silent from the pause until after the user's voice ended: no resume over the user
    assert talks_between(room, last + 0.05, offset + 0.3) == []
    assert handle.interrupted
    assert not call.named("agent_false_interruption")
    (event,) = call.named("agent_interrupted")
    assert event.reason == "barge_in"
    assert abs(event.time - last) <= FRAME, (event.time, last)
    # the stop was decided by Whisper's words, after the voice ended
    (decision,) = [m for m in call.named("metrics") if m.name == "interruption_decision_latency"]
    assert decision.details["reason"] == "words" and decision.time > offset
    # and the user's question is answered afterwards
    assert room.first_agent_sample_after(offset) is not None


def test_agent_interrupted_is_emitted_when_the_audio_stops(make_call):
    """Behaviour 3 for a direct stop (no pause): the event comes within one frame of the last
    audible agent sample."""

    async def scenario():
        call = await make_call(interruption=InterruptionOptions(min_duration=0.4, min_words=1))
        handle = call.session.generate_reply(user_input=FEATURES)
        utt, _ = await call.user_says("Wait, what does it cost?", at=3.0)
        await handle
        await asyncio.sleep(1.0)
        await call.close()
        return call, utt

    call, utt = run_simulation(scenario())
    (event,) = call.named("agent_interrupted")
    last = call.room.last_agent_sample_before(utt.end)
    assert abs(event.time - last) <= FRAME, (event.time, last)


# -- rule: a noise blip after the user's speech does not delay the reply -----------------------

def _blip(seconds: float = 0.08) -> AudioFrame:
    """A fragment of a voiced syllable (what a VAD mistakes for speech), faded in and out."""
    rate = 16000
    t = np.arange(int(seconds * rate)) / rate
    tone = np.sin(2 * np.pi * 140 * t) + 0.6 * np.sin(2 * np.pi * 280 * t) \
        + 0.4 * np.sin(2 * np.pi * 700 * t)
    fade = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.005)
    return AudioFrame.from_float(0.3 * tone * fade / np.max(np.abs(tone)), rate)


@pytest.mark.parametrize("with_blip", [False, True])
def test_a_noise_blip_after_the_question_does_not_delay_the_reply(make_call, with_blip):
    """Behaviour 4: an 80 ms blip while the final transcript is still on its way."""
    endpointing = EndpointingOptions(min_delay=0.6, max_wait=3.0)

    async def scenario():
        call = await make_call(endpointing=endpointing, stt_factory=lambda truth: OracleSTT(
            truth, final_delay=Fixed(0.4)))
        utt, speech = await call.user_says("What are your business hours?", at=1.0)
        await utt.done()
        blip = None
        if with_blip:
            await asyncio.sleep(0.75)  # after the flush, before the final arrives
            blip = call.room.user.say(_blip())
        await asyncio.sleep(6.0)
        await call.close()
        return call, utt, speech, blip

    call, utt, speech, blip = run_simulation(scenario())
    offset = utt.start + speech.words[-1].end
    reply = call.room.first_agent_sample_after(offset)
    starts = [e for e in call.named("user_state_changed") if e.new_state == "speaking"]
    print(f"\nblip={with_blip}: reply {reply - offset:.2f} s after the question")
    if with_blip:
        assert len(starts) == 2, "the VAD must hear the blip, or this test proves nothing"
        assert reply > blip.end
    # without the fix the reply waited for max_wait (3 s) after a second flush
    assert reply - offset < 0.6 + 0.4 + 0.45 + 1.2


# -- rule: with min_words, a short real word stops the agent ----------------------------------

@pytest.mark.parametrize("word", ["No.", "Stop."])
def test_a_one_word_barge_in_shorter_than_min_duration_stops_the_agent(make_call, word):
    """Behaviour 5: "No." / "Stop." (0.2-0.4 s of voice) with min_duration 0.5, min_words 1."""

    async def scenario():
        call = await make_call(interruption=InterruptionOptions(min_duration=0.5, min_words=1))
        handle = call.session.generate_reply(user_input=FEATURES)
        utt, speech = await call.user_says(word, at=3.0)
        await handle
        await asyncio.sleep(1.0)
        await call.close()
        return call, handle, utt, speech

    call, handle, utt, speech = run_simulation(scenario())
    voice = speech.words[-1].end - speech.words[0].start
    assert voice < 0.5, f"{word!r} lasts {voice:.2f} s: not shorter than min_duration"
    assert handle.interrupted
    onset = utt.start + speech.words[0].start
    # the answer to the word itself may start within 2 s (end of turn at 0.4 s): look before it
    answer = min((t for t, name, e in call.events if name == "agent_state_changed"
                  and e.new_state == "speaking" and t > onset), default=onset + 2.0)
    last = call.room.last_agent_sample_before(min(answer, onset + 2.0))
    print(f"\n{word!r}: {voice:.2f} s of voice, agent stopped {last - onset:.3f} s after onset")
    assert last - onset <= 0.5 + 0.04
