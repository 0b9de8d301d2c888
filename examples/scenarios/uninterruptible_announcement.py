"""The uninterruptible announcement: the caller talks over it and it plays on to the end.

    python examples/scenarios/uninterruptible_announcement.py
    bargein run examples/scenarios/uninterruptible_announcement.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _agents import print_verdict, uninterruptable_agent

from bargein import scenario

ANNOUNCEMENT = scenario.Scenario(
    "uninterruptible announcement plays to the end",
    # a VAD barge-in: an agent that may not be interrupted must not be sent a cancel signal
    agent=lambda: uninterruptable_agent("limited"),
    description="The caller tries to cut the long opening reply short; it keeps playing.",
    script=[
        scenario.interrupt("Sorry to jump in, can you tell me about refunds instead?",
                           after=4.0),
        scenario.agent(),
        # the speech is protected: it plays to its end, and the barge-in is kept out of the
        # yield and stop-latency figures (they would count a protected speech as a failure)
        scenario.expect_not_interrupted(),
        scenario.expect_metric("protected_interrupted", at_most=0),
        scenario.judge([scenario.not_said("refund")]),  # what was said over it is dropped
    ],
)

if __name__ == "__main__":
    sys.exit(print_verdict(ANNOUNCEMENT.run()))
