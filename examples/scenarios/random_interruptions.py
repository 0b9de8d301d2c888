"""Random interruptions: the simulated caller leads five turns and barges in on about half
of the agent's replies, at a random moment 0.5-2 s into what it hears.

    python examples/scenarios/random_interruptions.py [--seed N]
    bargein run examples/scenarios/random_interruptions.py --seed 7

The same seed always gives the same barge-ins, phrases and recording.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _agents import interrupt_user_agent, print_verdict

from bargein import scenario

CALLER = scenario.UserSimulator(
    persona="a busy customer who wants quick answers",
    goals=["Tell me about your product features.", "What are your business hours?",
           "How do refunds work?", "How do I reset my password?"],
)

RANDOM_INTERRUPTIONS = scenario.Scenario(
    "random interruptions over 5 turns",
    agent=interrupt_user_agent,
    description="The caller barges in on about half of the agent's replies.",
    options={"user": CALLER, "seed": 3},
    script=[
        scenario.agent(),  # the greeting
        scenario.proceed(turns=5, interruptions=scenario.InterruptionConfig(
            probability=0.5, delay_range=(0.5, 2.0), strategy="random_phrase")),
        scenario.judge([scenario.recovered_after_interruptions(max_stop=0.6),
                        scenario.metric("yield_rate", at_least=1.0)]),
    ],
)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    result = RANDOM_INTERRUPTIONS.run(seed=args.seed)
    for event in result.timeline.events:
        if event.kind in ("proceed_turn", "interrupt_fired", "interrupt_skipped"):
            print(f"{event.time:7.2f} s  {event.kind:<18} {event.data}")
    sys.exit(print_verdict(result))
