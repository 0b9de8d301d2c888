"""Interruption recovery: the unrolled and the sugar form of a barge-in, back to back in one
scenario, and a judge that checks the agent recovered from both.

The agent under test is the one of ``examples/agents/interrupt_user.py`` (it greets the
caller, then answers with the rule-based LLM). The caller's lines are the ones of the
interruptions recipe users know from LangWatch Scenario:

- **unrolled form**: ``user(...)``, ``agent(wait=False)`` starts the reply in the background,
  the next ``user(...)`` barges in at its first audible audio, ``agent()`` waits for the
  recovery reply;
- **sugar form**: ``user(...)``, ``interrupt(...)``, ``agent()``: the same barge-in in one step.

The bare ``judge()`` at the end judges the scenario's own ``criteria``: both barge-ins
stopped the agent within 1 s and got a complete reply, and each reply answered the new
question. (With the cancel signal the agent stops within a frame; on the VAD path it needs
0.4 s of the caller's voice first, and "Wait —" has a pause in it.) Offline, in virtual
time (a few seconds of wall time).

    python examples/scenarios/interruption_recovery.py
    python examples/scenarios/interruption_recovery.py --adapter limited   # VAD barge-in
    bargein run examples/scenarios/interruption_recovery.py
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _agents import interrupt_user_agent, print_verdict

from bargein import scenario

INTERRUPTION_RECOVERY = scenario.Scenario(
    "interruption recovery (unrolled and sugar forms)",
    agent=interrupt_user_agent,
    description="The caller cuts the agent off twice, once in each form; the agent stops, "
                "then answers the new question each time.",
    criteria=[
        scenario.recovered_after_interruptions(max_stop=1.0),
        scenario.said("account"),  # the answer to the first barge-in
        scenario.said("Monday"),  # the answer to the second: the business hours
    ],
    script=[
        scenario.agent(),  # the greeting
        # unrolled form
        scenario.user("Tell me about my billing"),
        scenario.agent(wait=False),  # start agent reply in background
        scenario.user("Wait — I meant account support"),  # interrupt when agent begins speaking
        scenario.agent(),  # let the agent finish the recovery turn
        scenario.expect_stopped_within(1.0),
        scenario.expect_reply_mentions("account"),
        # sugar form
        scenario.user("Tell me about every product feature you offer"),
        scenario.interrupt("Sorry — what are your business hours?"),
        scenario.agent(),
        scenario.expect_stopped_within(1.0),
        scenario.expect_reply_mentions("hours", "Monday"),
        scenario.judge(),  # the final verdict on the criteria above
    ],
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adapter", choices=("full", "limited"), default="full",
                        help="full: native barge-in; limited: VAD barge-in (audio only)")
    args = parser.parse_args()
    chosen = dataclasses.replace(INTERRUPTION_RECOVERY,
                                 agent=lambda: interrupt_user_agent(args.adapter))
    result = chosen.run()
    for event in result.timeline.of("interrupt_fired"):
        print(f"{event.time:7.2f} s  barge-in ({event.data['mode']}): {event.data['content']!r}")
    return print_verdict(result)


if __name__ == "__main__":
    sys.exit(main())
