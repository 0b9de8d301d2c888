"""The interruption semantics of the agent runtime, checked on the simulated timeline.

Real Silero VAD hears real espeak speech in a full-duplex room; every time below is measured
on the recording (seconds), not inferred from the runtime's own bookkeeping.
"""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bargein.agent import InterruptionOptions, UserTurnLimit
from bargein.providers.llm import LLMChunk
from bargein.providers.rule_based_llm import RuleBasedLLM
from bargein.sim import run_simulation

pytestmark = pytest.mark.integration

FEATURES = "Tell me about your product features"
FRAME = 0.02


class SpyLLM:
    """Wraps an LLM and records how much of each reply was streamed and whether it was
    closed before its end (i.e. the work was cancelled)."""

    def __init__(self, inner):
        self.inner = inner
        self.calls: list[dict] = []

    async def chat(self, messages, *, tools=None):
        record = {"chunks": 0, "finished": False, "closed_early": False,
                  "last_chunk_at": None}
        self.calls.append(record)
        loop = asyncio.get_running_loop()
        try:
            async for chunk in self.inner.chat(messages, tools=tools):
                record["chunks"] += 1
                record["last_chunk_at"] = loop.time()
                yield chunk
            record["finished"] = True
        except BaseException:  # GeneratorExit on aclose(), CancelledError on cancel
            record["closed_early"] = True
            raise


class SpyTTS:
    """Wraps a TTS and records the loop time of every chunk it produced."""

    def __init__(self, inner):
        self.inner = inner
        self.chunk_times: list[float] = []

    @property
    def sample_rate(self):
        return self.inner.sample_rate

    async def synthesize(self, text):
        return await self.inner.synthesize(text)

    async def stream(self, text):
        loop = asyncio.get_running_loop()
        async for chunk in self.inner.stream(text):
            self.chunk_times.append(loop.time())
            yield chunk


def agent_gaps(room, start, end, min_gap=0.35):
    """Silent gaps (>= min_gap, longer than espeak's sentence pauses) in the agent's audio
    between start and end."""
    spans = [s for s in room.agent_audible_spans() if s[1] > start and s[0] < end]
    return [(a[1], b[0]) for a, b in itertools.pairwise(spans)
            if b[0] - a[1] >= min_gap]


# -- 1. barge-in ------------------------------------------------------------------------

@pytest.mark.parametrize("min_words", [0, 1])
def test_barge_in_stops_audio_within_min_duration_plus_40ms(make_call, min_words):
    from bargein.providers.espeak_tts import EspeakTTS

    min_duration = 0.5
    llm = SpyLLM(RuleBasedLLM(tokens_per_second=4.0))  # still streaming at the barge-in
    tts = SpyTTS(EspeakTTS(voice="en-us"))

    async def scenario():
        call = await make_call(
            interruption=InterruptionOptions(min_duration=min_duration, min_words=min_words),
            llm=llm, tts=tts)
        handle = call.session.generate_reply(user_input=FEATURES)
        # the first sentence is audible from 4.35 s; the LLM is still streaming at 6 s
        utt, speech = await call.user_says("No wait, what are your business hours?", at=6.0)
        await handle
        await asyncio.sleep(1.0)
        await call.close()
        return call, handle, utt, speech

    call, handle, utt, speech = run_simulation(scenario())
    onset = utt.start + speech.words[0].start
    last_agent = call.room.last_agent_sample_before(onset + 3.0)
    stop_latency = last_agent - onset
    print(f"\nmin_words={min_words}: user onset {onset:.3f} s, last agent sample "
          f"{last_agent:.3f} s, stop latency {stop_latency * 1000:.0f} ms")
    assert handle.interrupted
    assert 0 < stop_latency <= min_duration + 0.040
    # the agent stays silent until the user has finished (no talking over them)
    resumed = call.room.first_agent_sample_after(last_agent + 1e-6)
    assert resumed is None or resumed > utt.end
    # the reply's LLM stream was closed before its end and TTS work stopped with it
    assert llm.calls[0]["closed_early"] and not llm.calls[0]["finished"]
    stop_loop_time = last_agent  # room time == session time == loop time from 0 here
    late_tts = [t for t in tts.chunk_times if stop_loop_time + 0.05 < t < utt.end]
    assert late_tts == []


# -- 2. backchannels ------------------------------------------------------------------------

def test_backchannel_does_not_stop_agent_with_min_words(make_call):
    async def scenario():
        call = await make_call(interruption=InterruptionOptions(min_duration=0.2, min_words=1))
        handle = call.session.generate_reply(user_input=FEATURES)
        utt, _ = await call.user_says("Uh-huh.", at=3.0)
        utt2, _ = await call.user_says("Yeah, right.", at=6.0)
        await handle
        await asyncio.sleep(2.0)
        await call.close()
        return call, handle, [utt, utt2]

    call, handle, utts = run_simulation(scenario())
    assert not handle.interrupted
    assert call.named("agent_false_interruption") == []
    assert call.named("agent_interrupted") == []
    for utt in utts:  # agent audio runs on without a pause around each backchannel
        assert agent_gaps(call.room, utt.start - 0.3, utt.end + 0.8) == []
    assert [m.role for m in call.session.history] == ["user", "assistant"]
    assert not call.session.history.messages[-1].interrupted


def test_backchannel_pauses_then_resumes_from_the_paused_word_in_vad_only_mode(make_call):
    async def scenario():
        call = await make_call(interruption=InterruptionOptions(
            min_duration=0.2, min_words=0, false_interruption_timeout=1.0))
        handle = call.session.generate_reply(user_input=FEATURES)
        utt, _ = await call.user_says("Uh-huh.", at=3.0)
        await handle
        await asyncio.sleep(1.0)
        await call.close()
        return call, handle, utt

    call, handle, utt = run_simulation(scenario())
    falses = call.named("agent_false_interruption")
    assert len(falses) == 1 and falses[0].resumed
    assert not handle.interrupted
    gaps = agent_gaps(call.room, utt.start, utt.end + 3.0)
    assert len(gaps) == 1, gaps
    paused_at, resumed_at = gaps[0]
    # the pause came min_duration after the user's onset (+ one frame)
    onset = utt.start
    assert paused_at - onset <= 0.2 + 0.04 + 0.03  # espeak onset padding included

    # the audio after the resume repeats the speech from the start of the word in progress
    rate = call.room.sample_rate
    agent = call.room.recorder.channel("agent")
    started = handle.started_at
    position = paused_at - started  # seconds of the speech heard before the pause
    word = [w for w in handle.words if w.start <= position][-1]
    frame_start = int(word.start / FRAME + 1e-9) * FRAME
    n = round(0.3 * rate)
    original = agent[round((started + frame_start) * rate):][:n]
    after = agent[round(resumed_at * rate) - round(0.03 * rate):][: n + round(0.04 * rate)]
    # resumed_at is the first audible millisecond; the replay starts at a frame boundary at
    # most a frame (plus a quiet word onset) before it: find the exact sample
    found = any((after[k:k + n] == original).all() for k in range(0, len(after) - n + 1))
    print(f"\npaused in {word.text!r} at {position:.2f} s of the speech; resumed at "
          f"{resumed_at:.2f} s from {frame_start:.2f} s")
    assert found, "the resumed audio does not restart at the paused word"
    assert [m.role for m in call.session.history] == ["user", "assistant"]


# -- 3. uninterruptible speech --------------------------------------------------------------

@pytest.mark.parametrize("discard", [True, False])
def test_uninterruptible_speech_plays_to_the_end(make_call, discard):
    text = ("Please listen carefully. This call may be recorded for quality and training "
            "purposes. By staying on the line you agree to our terms of service, which are "
            "available on our website.")

    async def scenario():
        call = await make_call(interruption=InterruptionOptions(
            min_duration=0.3, discard_audio_if_uninterruptible=discard))
        handle = call.session.say(text, allow_interruptions=False)
        utt, _ = await call.user_says("Hold on, what are your business hours?", at=2.0)
        await handle
        await asyncio.sleep(25.0 if not discard else 3.0)
        await call.close()
        return call, handle, utt

    call, handle, utt = run_simulation(scenario())
    assert not handle.interrupted and handle.heard_text == handle.text == text
    # every frame of the speech played, with no pause over the user's speech
    assert handle.played == pytest.approx(handle.duration, abs=1e-9)
    assert handle.ended_at - handle.started_at >= handle.duration - 1e-6
    assert agent_gaps(call.room, utt.start, utt.end) == []
    last = call.room.last_agent_sample_before(handle.ended_at + 1.0)
    assert last >= handle.started_at + handle.words[-1].end - FRAME
    assert handle.started_at < utt.start < utt.end < last
    roles = [(m.role, m.content[:20]) for m in call.session.history]
    if discard:
        assert roles == [("assistant", text[:20])]
        assert call.session.agent_state == "listening"
    else:
        # kept for the next turn: answered after the announcement, not mixed into it
        assert roles[0] == ("assistant", text[:20])
        assert roles[1] == ("user", "Hold on, what are yo")
        assert call.session.history.messages[1].content.startswith("Hold on, what are your")
        assert roles[2][0] == "assistant"


# -- 4. turn limit ---------------------------------------------------------------------------

def test_turn_limit_cuts_in_on_the_third_sentence(make_call):
    monologue = ("I called last week about my internet. It kept dropping every evening. "
                 "Then my neighbour said it was the router. So I bought a new one myself. "
                 "But it still drops, and I am really tired of it.")

    async def scenario():
        call = await make_call(turn_limit=UserTurnLimit(max_sentences=3))
        utt, speech = await call.user_says(monologue, at=0.5)
        await utt.done()
        await asyncio.sleep(25.0)
        await call.close()
        return call, utt, speech

    call, utt, speech = run_simulation(scenario())
    exceeded = call.named("user_turn_exceeded")
    assert len(exceeded) == 1 and exceeded[0].reason == "sentences"
    fired_at = next(t for t, n, _ in call.events if n == "user_turn_exceeded")
    third_end = utt.start + next(w for w in speech.words if w.text == "router").end
    fourth_end = utt.start + next(w for w in speech.words if w.text == "myself").end
    print(f"\nthird sentence ends {third_end:.2f} s, limit fired {fired_at:.2f} s, "
          f"user speaks until {utt.end:.2f} s")
    assert third_end <= fired_at < fourth_end
    cut_in = call.room.first_agent_sample_after(fired_at)
    assert cut_in < utt.end  # the agent cuts in while the user is still talking
    assistant = [m for m in call.session.history if m.role == "assistant"]
    assert len(assistant) == 2 and not any(m.interrupted for m in assistant)
    assert assistant[0].content == "Sorry, can I pause you there?"
    assert "I called last week" in assistant[1].content  # acknowledges the user's words
    assert call.named("agent_interrupted") == []
    # the user's words during the cut-in were not answered as a new turn
    users = [m for m in call.session.history if m.role == "user"]
    assert len(users) == 1 and "router" in users[0].content and "tired" not in users[0].content


# -- 5. history truncation -------------------------------------------------------------------

@pytest.mark.parametrize("barge_in_at", [1.9, 2.6, 3.45, 4.3, 5.75])
def test_history_holds_exactly_the_words_heard(make_call, barge_in_at):
    async def scenario():
        call = await make_call(interruption=InterruptionOptions(min_duration=0.3, min_words=1))
        handle = call.session.generate_reply(user_input=FEATURES)
        await call.user_says("Wait, what are your business hours?", at=barge_in_at)
        await handle
        await call.close()
        return call, handle

    call, handle = run_simulation(scenario())
    assert handle.interrupted
    last_sample = call.room.last_agent_sample_before(barge_in_at + 2.0)
    stop = last_sample - handle.started_at  # seconds of the speech that played
    started_words = [w for w in handle.words if w.start < stop]  # espeak word timings
    expected = handle.text[: started_words[-1].char_end]
    message = next(m for m in call.session.history if m.role == "assistant")
    print(f"\nstopped {stop:.2f} s into the reply: {message.content!r}")
    assert message.interrupted
    assert message.content == expected.strip()
    assert len(started_words) < len(handle.words)


# -- 7. failing providers ----------------------------------------------------------------------

class FlakyLLM:
    """Fails (raises or hangs) mid-reply on the first call, then behaves."""

    def __init__(self, mode):
        self.mode = mode
        self.inner = RuleBasedLLM()
        self.calls = 0

    async def chat(self, messages, *, tools=None):
        self.calls += 1
        first = self.calls == 1
        n = 0
        async for chunk in self.inner.chat(messages, tools=tools):
            n += 1
            if first and n == 20:  # after the first sentence, in the middle of the second
                if self.mode == "raise":
                    raise ConnectionError("LLM backend went away")
                await asyncio.sleep(3600)  # hangs: the session's provider_timeout must fire
            yield chunk
        if False:
            yield LLMChunk()


@pytest.mark.parametrize("mode", ["raise", "hang"])
def test_failing_llm_mid_reply_does_not_wedge_the_session(make_call, mode):
    async def scenario():
        call = await make_call(llm=FlakyLLM(mode), provider_timeout=2.0)
        first = call.session.generate_reply(user_input=FEATURES)
        await first
        await asyncio.sleep(1.0)
        utt, _ = await call.user_says("What are your business hours?")
        await utt.done()
        await asyncio.sleep(3.0)
        state_after = call.session.agent_state
        await asyncio.sleep(20.0)
        await call.close()
        return call, first, state_after

    call, first, state_after = run_simulation(scenario())
    errors = call.named("error")
    assert len(errors) == 1 and errors[0].recoverable and errors[0].source == "llm"
    assert first.error is not None
    # what was said before the failure stays in the history; then the agent keeps listening
    assistant = [m for m in call.session.history if m.role == "assistant"]
    assert assistant[0].content == (
        "Our plans all include unlimited projects, shared workspaces, and the mobile app "
        "for phones and tablets.")  # the sentence finished before the failure
    assert state_after in ("thinking", "speaking")  # it answered the next user turn
    assert len(assistant) == 2 and "monday to friday" in assistant[1].content.lower()


# -- queued speech and forced interrupts -------------------------------------------------------

def test_barge_in_drops_queued_speech_unless_uninterruptible(make_call):
    async def scenario():
        call = await make_call(interruption=InterruptionOptions(min_duration=0.3, min_words=1))
        s = call.session
        first = s.say("Let me read you the whole list of our plans, one by one, slowly.")
        notice = s.say("This call may be recorded.", allow_interruptions=False)
        extra = s.say("And one more thing about our plans.")
        await call.user_says("No, stop, I only need the price.", at=1.5)
        await notice
        await asyncio.sleep(0.5)
        forced = s.say("A notice that only a forced interrupt can stop, however long it is.",
                       allow_interruptions=False)
        await asyncio.sleep(1.0)
        with pytest.raises(RuntimeError, match="force=True"):
            forced.interrupt()
        s.interrupt(force=True)
        await forced
        await call.close()
        return first, notice, extra, forced

    first, notice, extra, forced = run_simulation(scenario())
    assert first.interrupted
    assert extra.interrupted and extra.started_at is None  # dropped before it played
    assert not notice.interrupted and notice.heard_text == "This call may be recorded."
    assert forced.interrupted and 0 < len(forced.heard_text) < len(forced.text)


def test_agent_words_are_reported_as_they_become_audible(make_call):
    async def scenario():
        call = await make_call()
        handle = call.session.say("Hello there. Our office opens at nine, every weekday.")
        await handle
        await call.close()
        return call, handle

    call, handle = run_simulation(scenario())
    heard = [(t, e) for t, n, e in call.events if n == "agent_words_heard"]
    said = [w for _, e in heard for w in e.words]
    assert said == [w.text for w in handle.words]
    for _, event in heard:  # timed at the moment the first new word becomes audible
        word = next(w for w in handle.words if w.text == event.words[0])
        assert event.time == pytest.approx(handle.started_at + word.start, abs=1e-6)
    assert heard[-1][1].heard_text == handle.text.rstrip(".")


MONOLOGUE = ("I called last week about my internet. It kept dropping every evening. "
             "Then my neighbour said it was the router. So I bought a new one myself. "
             "But it still drops, and I am really tired of it.")


def test_words_between_the_limit_and_the_cut_in_are_not_a_new_turn(make_call):
    from bargein.providers import Fixed
    from bargein.providers.espeak_tts import EspeakTTS

    async def scenario():  # a slow TTS leaves 0.6 s between the decision and the cut-in
        call = await make_call(turn_limit=UserTurnLimit(max_sentences=3),
                               tts=EspeakTTS(voice="en-us", ttfb=Fixed(0.6)))
        utt, _ = await call.user_says(MONOLOGUE, at=0.5)
        await utt.done()
        await asyncio.sleep(25.0)
        await call.close()
        return call

    call = run_simulation(scenario())
    users = [m.content for m in call.session.history if m.role == "user"]
    assert len(users) == 1, users
    assert len([m for m in call.session.history if m.role == "assistant"]) == 2


def test_a_limit_reached_only_after_the_user_stopped_is_a_normal_turn(make_call):
    async def scenario():  # finals only: sentences are counted when the user has stopped
        call = await make_call(turn_limit=UserTurnLimit(max_sentences=3), interim_results=False)
        utt, _ = await call.user_says("I need help. My bill is wrong. It is too high. Why?",
                                      at=0.5)
        await utt.done()
        await asyncio.sleep(3.0)
        await call.close()
        return call

    call = run_simulation(scenario())
    assert call.named("user_turn_exceeded") == []
    assert [e.source for e in call.named("speech_created")] == ["generate_reply"]
    first_words = call.named("agent_words_heard")[0].heard_text
    assert not first_words.startswith("Sorry")  # an answer, not a cut-in


def test_a_backchannel_shorter_than_min_duration_does_not_pause_the_agent(make_call):
    # the VAD still says "speaking" for ~0.45 s after a short "Yeah.": min_duration must be
    # measured on the voice, not on that lagging state
    async def scenario():
        call = await make_call(interruption=InterruptionOptions(min_duration=0.5, min_words=0))
        handle = call.session.generate_reply(user_input=FEATURES)
        utt, _ = await call.user_says("Yeah.", at=3.0)
        await handle
        await call.close()
        return call, handle, utt

    call, handle, utt = run_simulation(scenario())
    assert utt.end - utt.start < 0.5
    assert call.named("agent_false_interruption") == [] and not handle.interrupted
    assert agent_gaps(call.room, utt.start - 0.3, utt.end + 1.0) == []
