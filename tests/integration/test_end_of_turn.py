"""End of turn with the turn detector and preemptive replies, on the real stack.

Real Silero VAD, espeak-ng callers, the smart-turn v3.2 model combined with the words
(``bargein.providers.local_stack.default_turn_detector``), the oracle recognizer; every time
is measured on the recording.
"""

from __future__ import annotations

import asyncio

import pytest

from bargein.agent import EndpointingOptions
from bargein.providers.local_stack import default_turn_detector
from bargein.sim import run_simulation

pytestmark = pytest.mark.integration


def detector():
    found = default_turn_detector(trust_punctuation=True)
    assert found is not None, "the turn extra (pipecat-ai) is part of the dev install"
    return found


async def paused_sentence(make_call, first: str, second: str, pause: float, **options):
    call = await make_call(turn_detector=detector(), **options)
    a, sa = await call.user_says(first, at=1.0)
    await a.done()
    await asyncio.sleep(pause)
    b, sb = await call.user_says(second)
    await b.done()
    await asyncio.sleep(4.0)
    await call.close()
    return call, (a, sa), (b, sb)


@pytest.mark.parametrize("first,second", [
    ("I'd like to book a table for", "four people on Friday evening."),
    ("My account number is", "four five seven two one nine."),
])
def test_a_sentence_with_a_one_second_pause_is_not_answered_early(make_call, first, second):
    call, (a, sa), (b, sb) = run_simulation(paused_sentence(make_call, first, second, 1.0))
    end_of_first = a.start + sa.words[-1].end
    end_of_second = b.start + sb.words[-1].end
    reply = call.room.first_agent_sample_after(end_of_first)
    assert reply is not None and reply > end_of_second, "the agent spoke inside the sentence"
    users = [m.content for m in call.session.history if m.role == "user"]
    assert users == [f"{first} {second}"] or users == [first, second], users
    assert len(call.named("speech_created")) == 1  # one reply, to the whole sentence


@pytest.mark.parametrize("question", ["How do I get a refund?", "Can I speak to a person?"])
def test_a_complete_question_is_answered_within_0_8_s(make_call, question):
    async def scenario():
        call = await make_call(turn_detector=detector())
        u, speech = await call.user_says(question, at=1.0)
        await u.done()
        await asyncio.sleep(3.0)
        await call.close()
        return call, u, speech

    call, u, speech = run_simulation(scenario())
    end = u.start + speech.words[-1].end
    reply = call.room.first_agent_sample_after(end)
    print(f"\n{question!r}: reply {reply - end:.3f} s after the end of speech")
    assert reply - end <= 0.8


def test_a_continued_turn_drops_the_prepared_reply_without_a_sound(make_call):
    """The caller pauses long enough for the reply to be prepared, then goes on: the
    prepared reply never plays, and only the whole turn is answered."""
    async def scenario():
        return await paused_sentence(
            make_call, "Can you check whether my order", "has been shipped yet?", 0.5,
            endpointing=EndpointingOptions(max_delay=2.5))

    call, (a, sa), (b, sb) = run_simulation(scenario())
    end_of_first = a.start + sa.words[-1].end
    end_of_second = b.start + sb.words[-1].end
    reply = call.room.first_agent_sample_after(end_of_first)
    assert reply is not None and reply > end_of_second
    created = [e.speech for e in call.named("speech_created")]
    assert len(created) == 1  # the prepared reply was never announced, let alone played
    assert not call.named("agent_interrupted")
