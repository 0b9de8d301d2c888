"""What counts as a reply that addresses a barge-in: a table of good and bad recoveries.

``expect_reply_addresses_interruption`` passes a reply that takes up the interruption's topic,
or, when the interruption only asks the agent to stop or take something back, one that
acknowledges that; it fails a reply that ignores the interruption or carries on regardless.
"""

from __future__ import annotations

import pytest

from bargein import scenario
from bargein.scenario.expectations import CheckContext, reply_addresses
from bargein.scenario.metrics import Metrics, UserUtterance
from bargein.scenario.wording import acknowledgement, is_stop_request, request_topic

GOOD = [
    # the case: a stop request, acknowledged
    ("Wait, that's wrong!", "Sure, I'll stop there. What would you like to know instead?"),
    ("Hold on—", "Of course. Go ahead."),
    ("No, that's not it.", "Sorry about that. What did you mean?"),
    ("Hang on, that's not what I asked.", "My apologies. What would you like to know?"),
    ("Sorry, can I stop you there?", "Sure, I'm listening."),
    ("Can you get to the point?", "Certainly: the premium plan costs ten dollars a month."),
    ("Stop, stop.", "Okay, stopping. How can I help?"),
    ("Wait, that's wrong!", "You're right, I made a mistake. The fee is five dollars."),
    ("Sorry, could you slow down?", "Of course, I'll slow down."),
    # a question: answered on its topic
    ("Sorry, what are your business hours?", "Our support hours are nine to five."),
    ("Wait, what about refunds?", "Refunds take about a week once we get the item back."),
    ("Hold on, what about my account?", "Let's sort out your account first."),
]

BAD = [
    # carries on with what it was saying
    ("Wait, that's wrong!", "Our plans all include unlimited projects and shared workspaces."),
    ("Wait, that's wrong!", "Okay, anyway, as I was saying, the premium plan adds offline mode."),
    ("Hold on—", "The premium plan adds offline mode and priority support."),
    # acknowledges, but the interruption asked something it does not answer
    ("Wait, what are your business hours?", "Sure, I'll stop there."),
    ("Sorry, what are your business hours?", "Sure! Our plans all include unlimited projects."),
    # a question answered on another topic
    ("How do refunds work?", "Our support team is available Monday to Friday."),
]


@pytest.mark.parametrize(("interruption", "reply"), GOOD)
def test_good_recoveries_address_the_interruption(interruption, reply):
    ok, why = reply_addresses(interruption, reply)
    assert ok, why


@pytest.mark.parametrize(("interruption", "reply"), BAD)
def test_bad_recoveries_do_not(interruption, reply):
    ok, why = reply_addresses(interruption, reply)
    assert not ok, why
    assert repr(interruption) in why


@pytest.mark.parametrize(("text", "stop", "topic"), [
    ("Wait, that's wrong!", True, set()),
    ("No, that's not it", True, set()),
    ("Sorry to cut in, but I'm in a hurry.", True, set()),
    ("Wait, what are your business hours?", True, {"business", "hours"}),
    ("Sorry, what are your business hours?", False, {"business", "hours"}),
    ("Tell me about refunds", False, {"refunds"}),
    ("Uh-huh", False, set()),
])
def test_stop_requests_and_their_topic(text, stop, topic):
    assert is_stop_request(text) is stop
    assert request_topic(text) == topic


def test_resuming_is_not_an_acknowledgement():
    assert acknowledgement("Sure, I'll stop there.") == "Sure"
    assert acknowledgement("Right, as I was saying, the plan...") is None
    assert acknowledgement("The plan includes offline mode.") is None


def _context(interruption: str, messages: list[tuple[float, str, bool]]) -> CheckContext:
    utterances = [UserUtterance(0, 1.0, 2.0, "Tell me about your plans"),
                  UserUtterance(1, 6.0, 7.0, interruption, barge_in=True)]
    return CheckContext(Metrics(), utterances, messages, [], [], barge_ins_before=1,
                        utterances_before=2)


def test_the_check_reads_the_first_complete_reply_after_the_latest_barge_in():
    step = scenario.expect_reply_addresses_interruption()
    cut = (6.3, "Our plans all include", True)  # the message the barge-in cut short
    ok, why = step.check(_context("Wait, that's wrong!", [
        cut, (9.0, "Sure, I'll stop there. What would you like to know instead?", False)]))
    assert ok, why
    ok, why = step.check(_context("Wait, that's wrong!", [
        cut, (9.0, "Our plans all include unlimited projects.", False)]))
    assert not ok and "neither acknowledges" in why
    ok, why = step.check(_context("Wait, that's wrong!", [cut]))
    assert not ok and "no message after" in why
