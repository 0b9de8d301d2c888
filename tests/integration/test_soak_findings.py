"""Runtime bugs the soak found (`bargein soak`), each reduced to a minimal call on the real
stack. The docstring of each test names the soak scenario that found it (``--seed S --only
K``, run before the fix)."""

from __future__ import annotations

import pytest
from test_faults import (
    Q1,
    assert_history_is_what_was_heard,
    assert_second_question_answered,
    settle,
    two_questions,
)
from test_soak import run_alone

from bargein.providers.faults import FaultyVAD
from bargein.sim import run_simulation

pytestmark = pytest.mark.integration


def test_a_vad_reset_keeps_the_session_timeline(make_call):
    """Soak seed 2, scenario 259: after a stuck VAD was reset, the new VAD stream counted
    its times from its own start, so every later voice began ~10 s in the past; with a turn
    limit of 8 s every barge-in "exceeded" it and the agent cut in again and again."""
    from bargein.providers.silero_vad import SileroVAD

    vad = FaultyVAD(SileroVAD(), "stuck", after=1.5)
    call, _first, second = run_simulation(two_questions(make_call, vad=vad))
    starts = [e.time for e in call.named("user_state_changed") if e.new_state == "speaking"]
    later = [t for t in starts if t > second.start - 1.0]
    assert later and abs(later[0] - second.start) < 0.3, (starts, second.start)
    assert_history_is_what_was_heard(call)
    assert_second_question_answered(call, second)


MONOLOGUE = ("I called last week about my internet. It kept dropping every evening. "
             "Then my neighbour said it was the router. So I bought a new one myself. "
             "But it still drops, and I am really tired of it.")


def test_a_duration_cut_in_before_any_transcript_keeps_the_turn_and_answers_it_once(make_call):
    """Soak seed 1, scenario 12: with a recognizer that gives finals only (Whisper), an 8 s
    limit fired before a word of the monologue was transcribed. The cut-in's refocusing
    reply had no words to refocus on and answered the previous question again, and the
    monologue's final, arriving after the cut-in, was dropped as already answered."""
    from bargein.agent import UserTurnLimit

    async def scenario():
        call = await make_call(turn_limit=UserTurnLimit(max_duration=5.0),
                               interim_results=False)
        first, _ = await call.user_says(Q1, at=1.0)
        await first.done()
        await settle(call, 1)
        monologue, _ = await call.user_says(MONOLOGUE)
        await monologue.done()
        await settle(call, 3)
        await call.close()
        return call

    call = run_simulation(scenario())
    assert [e.reason for e in call.named("user_turn_exceeded")] == ["duration"]
    users = [m.content for m in call.session.history if m.role == "user"]
    assert len(users) == 2 and users[0] == Q1 and "internet" in users[1], users
    replies = [e.speech for e in call.named("speech_created") if e.source == "generate_reply"]
    assert len(replies) == 2, replies  # one answer per turn: Q1 is not answered again
    assert_history_is_what_was_heard(call)


def test_an_empty_final_of_the_accurate_recognizer_withdraws_the_fast_ones_guess(make_call):
    """Soak seed 2, scenarios 104 and 195 (pocketsphinx interims + Whisper finals): the
    fast recognizer heard words in a cough and in "Uh-huh." ("fat", "fall off"), Whisper
    heard none; the session took the empty final for a lost transcript, reported an STT
    error and answered the guessed words as the caller's turn."""
    from bargein.providers.hybrid_stt import HybridSTT
    from bargein.providers.oracle_stt import GroundTruth, OracleSTT
    from bargein.providers.types import WordTiming

    guess = GroundTruth([WordTiming("fall", 1.05, 1.2), WordTiming("off", 1.2, 1.35)])

    def hybrid(truth):  # the accurate one hears nothing in it
        return HybridSTT(OracleSTT(guess), OracleSTT(GroundTruth()))

    async def scenario():
        call = await make_call(stt_factory=hybrid)
        said, _ = await call.user_says("Uh-huh.", at=1.0)
        await said.done()
        await settle(call, 0)
        await call.close()
        return call

    call = run_simulation(scenario())
    assert next(e.transcript for e in call.named("user_input_transcribed")) == "fall"
    assert call.named("error") == []
    assert [m for m in call.session.history if m.role == "user"] == []
    assert call.named("speech_created") == []


def noisy_line(kind: str, snr_db: float, *, seed: int, seconds: float):
    """An ``on_start`` for :func:`two_questions`: ``seconds`` of the benchmark's ``kind``
    noise at ``snr_db`` below the reference speech level, under the whole call."""
    from bargein.bench.noise import REFERENCE_SPEECH_RMS, Background, noise_bed

    async def play(call) -> None:
        bed = await noise_bed(Background(kind, snr_db), seed, seconds, REFERENCE_SPEECH_RMS)
        call.sim.play_background(bed)

    return play


@pytest.mark.parametrize("noise", ["pink", "babble"])
def test_a_stuck_vad_is_noticed_on_a_noisy_line(make_call, noise):
    """Soak seed 2, scenarios 61 and 247: on a line with pink noise, a VAD stuck at
    "speaking" was never noticed (the watchdog waited for 3 s of near-silence, measured
    against the quietest frame so far, which pink or babble noise never gives), and the
    agent stayed deaf for the rest of the call."""
    from bargein.providers.silero_vad import SileroVAD

    call, _first, second = run_simulation(two_questions(
        make_call, on_start=noisy_line(noise, 10.0, seed=1, seconds=60.0),
        vad=FaultyVAD(SileroVAD(), "stuck", after=1.5)))
    (error,) = [e for e in call.named("error") if e.source == "vad"]
    assert "reset" in str(error.error)
    assert_second_question_answered(call, second)


@pytest.mark.parametrize("seed", [124 * 1_000_003 + 1, 124 * 1_000_003 + 11])
def test_a_healthy_vad_unsure_of_babble_is_not_reported_stuck(make_call, seed):
    """Soak seed 124, scenarios 1 and 11 (babble at 15 dB, no fault injected): Silero held a
    voice open over the babble alone for 3 s, unsure of it (probability 0.3-0.7); the
    watchdog reset it, rightly, but reported an error for a VAD that had not failed. An
    error is for a VAD whose score is frozen (the injected stuck VAD: the tests above)."""
    call, _first, second = run_simulation(two_questions(
        make_call, first_at=6.0, on_start=noisy_line("babble", 15.0, seed=seed, seconds=30.0)))
    assert call.named("error") == []
    assert_second_question_answered(call, second)


def test_silero_still_hears_the_caller_after_25_s_of_babble_without_speech():
    """Soak seed 3, scenario 31: after 25 s of babble (20 dB) without speech, under a long
    uninterruptible reply, Silero's recurrent state had drifted: it scored the caller's
    clear 2.6 s question near 0 (a fresh model: 1.0), the agent never heard it. The
    stream now resets the model's state after 15 s without speech."""
    _plan, outcome = run_alone(3, 31)
    assert outcome.problems == []
    assert outcome.turns.answered == outcome.turns.utterances - sum(
        (outcome.turns.excused or {}).values())


def test_silero_state_reset_is_an_option_that_refuses_nonsense():
    from bargein.providers.silero_vad import SileroVAD

    assert SileroVAD().reset_after_silence == 15.0
    assert SileroVAD(reset_after_silence=None).reset_after_silence is None
    for bad in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="reset_after_silence"):
            SileroVAD(reset_after_silence=bad)


def test_a_healthy_vad_sure_of_babble_is_not_reported_stuck_either():
    """Soak seed 0, scenario 47 (babble at 15 dB, no fault): Silero scored the babble alone
    0.67-0.93 for 3 s, sure of a voice: a healthy VAD hearing voices that are there, not a
    frozen one. The watchdog ends that voice without reporting an error."""
    plan, outcome = run_alone(0, 47)
    assert plan.background.kind == "babble" and plan.variant.fault is None
    assert outcome.problems == []


def test_a_late_final_of_words_cut_off_by_the_turn_limit_reaches_the_history():
    """Soak seed 0, scenario 501 (turn-limit-time, STT finals ~5 s late): "Could you send
    the invoice to / my work email address?" then a monologue. The 8 s limit cut in before
    the final of "my work email address?" came; the cut-in's user message holds the first
    part and the monologue, and the late final, for words said before the cut-in, is
    counted as answered by it and dropped: the history never holds those words. A late
    final must update the turn it belongs to (issue 17, item 2), here the cut one, whose
    message the refocusing reply's generate_reply(user_input=...) made. The turn now reads
    its pieces in the order they were said, the late final before the monologue's interim."""
    calls = []
    plan, outcome = run_alone(0, 501, on_call=calls.append)
    assert plan.variant.fault == "stt:late_final"
    assert outcome.problems == []
    users = [m.content for m in calls[0].adapter.session.history if m.role == "user"]
    assert users and users[0].startswith(
        "Could you send the invoice to my work email address? I always paid"), users
