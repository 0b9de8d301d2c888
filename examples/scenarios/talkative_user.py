"""The talkative caller: a monologue the agent politely cuts at the third sentence.

    python examples/scenarios/talkative_user.py
    bargein run examples/scenarios/talkative_user.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _agents import interrupt_user_agent, print_verdict

from bargein import scenario

MONOLOGUE = (
    "Hi, I'm calling because my bill from last month looks wrong. I moved house in March and "
    "I changed my address on your website. My sister had the very same problem with her "
    "phone company last year. Anyway, the letters kept going to my old flat for weeks. The "
    "new tenants only passed some of them on to me."
)

TALKATIVE_USER = scenario.Scenario(
    "talkative caller gets a polite cut-in",
    agent=interrupt_user_agent,
    description="The agent cuts in on a long monologue and refocuses on the bill.",
    script=[
        scenario.agent(),  # the greeting
        scenario.user(MONOLOGUE, yield_after=0.4),  # stops talking when the agent cuts in
        scenario.agent(),  # the cut-in and the refocusing reply
        scenario.judge([
            scenario.said("can I pause you there"),  # the cut-in phrase
            scenario.said("bill"),  # the reply refocuses on the caller's main question
            scenario.not_said("I'm not sure I understood"),
        ]),
        scenario.expect_metric("overlap", at_most=1.0),  # the cut-in overlaps only briefly
        # the agent reports why it cut in: the turn limit (3 sentences) was reached
        scenario.expect_event("user_turn_exceeded", reason="sentences"),
    ],
)

if __name__ == "__main__":
    sys.exit(print_verdict(TALKATIVE_USER.run()))
