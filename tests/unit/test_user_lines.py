"""The simulated caller's words: offline lines and interjections that read naturally, custom
phrases honoured by both strategies, and an LLM caller that writes every line from persona,
goals and the conversation so far.

The agent is a scripted fake (a tone per reply, with the text it "said" reported as its
message): these tests are about what the caller says and when, not about the agent. The real
stack and a replayed cassette are in tests/integration/test_user_simulator.py.
"""

from __future__ import annotations

import random

import pytest
from test_random_interruptions import ToneAgent

from bargein import scenario
from bargein.errors import ScenarioError
from bargein.providers.llm import LLMChunk
from bargein.scenario.metrics import UserUtterance
from bargein.scenario.user_lines import (
    Turn,
    contextual_interjection,
    conversation_so_far,
    follow_up,
    pick_phrase,
    topic_of,
)
from bargein.scenario.user_llm import clean_line
from bargein.text import words

REPLY = "Our premium plan includes offline mode. Would you like a free trial?"


class TalkingToneAgent(ToneAgent):
    """The tone agent, reporting the text of each reply as its message (cut short when
    cancelled)."""

    async def _speak(self):
        await super()._speak()
        self.link.report("agent_message", text=REPLY, interrupted=False)

    async def interrupt(self):
        await super().interrupt()
        self.link.report("agent_message", text="Our premium plan", interrupted=True)


class SpyLLM:
    """Answers with the given lines in turn and keeps every request."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.requests: list[list] = []

    async def chat(self, messages, *, tools=None):
        self.requests.append(list(messages))
        yield LLMChunk(text=self.answers[min(len(self.requests), len(self.answers)) - 1])


# -- offline text --------------------------------------------------------------------------------

@pytest.mark.parametrize(("heard", "topic"), [
    ("Our premium plan includes unlimited calls and", "your premium plan"),
    ("Our plans start at ten dollars a month. The basic plan covers", "the basic plan"),
    ("You can reset your password from the login page by clicking", "the login page"),
    ("Here are our product features: fast sync", "your product features"),
    ("Sorry, I'm not sure I understood that", None),
    ("Certainly, that's right", None),
    ("", None),
])
def test_the_topic_is_a_noun_phrase_from_the_callers_side(heard, topic):
    assert topic_of(heard.split()) == topic


def test_offline_interjections_read_naturally():
    rng = random.Random(0)
    texts = [contextual_interjection(words(h), g, rng) for h in (
        "Sorry about that. I'm sorry, I didn't", "Our premium plan includes", "Well, so")
        for g in (None, "What are your business hours?")]
    for text in texts:
        assert "by sorry" not in text and "about sorry" not in text
        assert text[0].isupper() and text[-1] in ".?!", text
    assert "Sorry, can you go back to your premium plan?" in [
        contextual_interjection(words("Our premium plan includes"), None, random.Random(s))
        for s in range(10)]
    steer = contextual_interjection([], "What are your business hours?", random.Random(1))
    assert steer.endswith("what are your business hours?"), steer


@pytest.mark.parametrize(("agent", "line"), [
    ("Would you like me to send you a reset link?", "Yes, please."),
    ("What is your order number?",
     "I don't have that to hand right now. Can we carry on without it?"),
    ("Our refund policy lets you return any product within thirty days.",
     "Okay. Can you tell me a bit more about your refund policy?"),
    ("Thanks for calling.", "Okay, thanks. Is there anything else I should know?"),
])
def test_follow_ups_react_to_the_agents_last_message(agent, line):
    conversation = [Turn("user", "Hello"), Turn("agent", agent)]
    assert follow_up(conversation, 0) == line


def test_a_phrase_that_fits_what_was_heard_is_picked():
    phrases = ["Hold on, is that the monthly price?", "Wait, what about refunds?"]
    heard = words("Refunds are paid back within five days")
    assert pick_phrase(phrases, heard, None, random.Random(0)) == phrases[1]
    assert {pick_phrase(phrases, [], None, random.Random(s)) for s in range(20)} == set(phrases)


def test_conversation_order_puts_a_cut_message_before_the_barge_in_that_cut_it():
    utterances = [UserUtterance(0, 1.0, 2.0, "Tell me about plans"),
                  UserUtterance(1, 5.0, 6.0, "Wait, what about refunds?", barge_in=True)]
    messages = [(5.2, "Our plans", True), (9.0, "Refunds take a week.", False)]
    assert conversation_so_far(utterances, messages) == [
        Turn("user", "Tell me about plans"), Turn("agent", "Our plans", cut_off=True),
        Turn("user", "Wait, what about refunds?"), Turn("agent", "Refunds take a week.")]


@pytest.mark.parametrize(("raw", "line"), [
    ('"Hi, I need help with my bill."', "Hi, I need help with my bill."),
    ("Caller: Hi there! *sighs*\nMore text", "Hi there!"),
    ("(annoyed) Fine.", "Fine."),
    ("one two three. four five six seven", "one two three."),
    ("one two three four five six, seven. eight", "one two three four five six, seven."),
])
def test_llm_answers_are_made_speakable(raw, line):
    assert clean_line(raw, max_words=8 if "bill" in raw else 5) == line


# -- through a run -------------------------------------------------------------------------------

def _run(user, config=None, turns=2, **kw):
    return scenario.run("caller", agent=TalkingToneAgent(), user=user, settle=0.5, seed=1,
                        script=[scenario.proceed(turns=turns, interruptions=config)], **kw)


def _said(result):
    return [u.text for u in result.utterances]


def test_rule_based_caller_says_its_goals_then_reacts_to_the_agent():
    user = scenario.UserSimulator(goals=["Tell me about your plans."])
    assert _said(_run(user, turns=2)) == ["Tell me about your plans.", "Yes, please."]


@pytest.mark.parametrize("strategy", ["random_phrase", "contextual"])
def test_custom_phrases_are_used_by_both_strategies(strategy):
    phrases = ["Hold on, is that the monthly price?", "Wait, one more question."]
    config = scenario.InterruptionConfig(probability=1.0, delay_range=(0.5, 0.5),
                                         strategy=strategy, phrases=phrases)
    result = _run(scenario.UserSimulator(goals=["Hi."]), config)
    barge_ins = [u.text for u in result.utterances if u.barge_in]
    assert len(barge_ins) == 2 and set(barge_ins) <= set(phrases)


def test_llm_caller_writes_every_line_from_persona_goals_and_conversation():
    llm = SpyLLM("Hi, I'm calling about my invoice.", "Yes, a trial sounds good.")
    user = scenario.UserSimulator(persona="a retired teacher who hates jargon",
                                  goals=["Find out why the invoice went up"], llm=llm)
    result = _run(user, turns=2)
    assert _said(result) == ["Hi, I'm calling about my invoice.", "Yes, a trial sounds good."]
    first, second = llm.requests
    assert "a retired teacher who hates jargon" in first[0].content
    assert "1. Find out why the invoice went up" in first[0].content
    assert [(m.role, m.content) for m in second[1:]] == [
        ("assistant", "Hi, I'm calling about my invoice."), ("user", REPLY)]


def test_llm_caller_writes_contextual_interjections_with_the_phrases_as_examples():
    llm = SpyLLM("Tell me about billing.", "Sorry, is the trial free?")
    user = scenario.UserSimulator(persona="a hurried nurse", llm=llm)
    config = scenario.InterruptionConfig(probability=1.0, delay_range=(0.5, 0.5),
                                         strategy="contextual", phrases=["Is it free?"])
    result = _run(user, config, turns=1)
    assert [u.text for u in result.utterances if u.barge_in] == ["Sorry, is the trial free?"]
    prompt = llm.requests[1][-1].content
    assert "a hurried nurse" in prompt and "- Is it free?" in prompt


def test_an_llm_that_says_nothing_is_a_clear_error():
    user = scenario.UserSimulator(llm=SpyLLM("   "))
    with pytest.raises(ScenarioError, match="LLM wrote no line"):
        _run(user, turns=1)
