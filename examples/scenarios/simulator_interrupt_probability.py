"""Per-simulator interrupt probability: the caller itself barges in on 30% of the agent's
replies, in a plain ``proceed()`` loop that has no ``InterruptionConfig`` of its own.

``proceed()`` without ``turns`` goes on until the judge decides: after every reply it checks
the scenario's ``criteria``, and once they are all met (here: every barge-in stopped the
agent within 0.6 s and got a complete reply, and the agent has answered the caller's last
goal, about refunds) the scenario ends as a success. If they are still unmet when the
conversation holds ``max_turns`` caller turns (10 by default), the loop stops and the final
``judge()`` gives the verdict. (With another ``--seed`` the refund answer may itself be cut;
the rule-based caller does not ask again, so the judge then fails the scenario and says
why.)

When a ``proceed`` step has an ``interruptions`` config too, that config wins over the
simulator's probability.

The reference gives the caller a cloud voice ("openai/nova"); offline, the caller speaks
with an espeak-ng voice.

    python examples/scenarios/simulator_interrupt_probability.py [--seed N]
    bargein run examples/scenarios/simulator_interrupt_probability.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _agents import interrupt_user_agent, print_verdict

from bargein import scenario

CALLER = scenario.UserSimulator(
    voice="en-us+f3",
    interrupt_probability=0.3,  # 30% of agent turns get a barge-in
    goals=["What are your business hours?", "Tell me about your product features.",
           "How do refunds work?"],
)

SIMULATOR_INTERRUPTS = scenario.Scenario(
    "the caller's own interrupt probability",
    agent=interrupt_user_agent,
    description="A caller who cuts in on about a third of the replies gets through its goals.",
    user=CALLER,
    seed=1,
    criteria=[scenario.recovered_after_interruptions(max_stop=0.6),
              scenario.said("thirty days")],  # the answer to its last goal, refunds
    script=[
        scenario.agent(),  # the greeting
        scenario.user("I need help with my account"),
        scenario.proceed(),  # until the judge decides, or max_turns
        scenario.judge(),
    ],
)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    result = SIMULATOR_INTERRUPTS.run(seed=args.seed)
    for event in result.timeline.events:
        if event.kind in ("user_started_speaking", "interrupt_fired", "judge_decided",
                          "proceed_max_turns"):
            print(f"{event.time:7.2f} s  {event.kind:<22} {event.data}")
    sys.exit(print_verdict(result))
