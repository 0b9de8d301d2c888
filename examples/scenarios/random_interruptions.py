"""Random interruptions: after the greeting and a first question, the simulated caller leads
five turns and barges in on about half of the agent's replies, at a random moment 0.5-2 s
into what it hears. The script is the reference's random-interruption example as written:
``agent()``, ``user(...)``, ``proceed(turns=5, interruptions=InterruptionConfig(...))``,
``judge()``.

``proceed`` picks up where the script left off: the agent answers the scripted question
first (a reply that may be cut too), then the caller speaks. The bare ``judge()`` judges the
scenario's ``criteria``: every barge-in stopped the agent within 0.6 s and got a complete
reply, and the agent yielded every time.

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
    user=CALLER,
    seed=3,
    criteria=[scenario.recovered_after_interruptions(max_stop=0.6),
              scenario.metric("yield_rate", at_least=1.0)],
    script=[
        scenario.agent(),  # capture the opening greeting
        scenario.user("I need help with my account"),
        scenario.proceed(
            turns=5,
            interruptions=scenario.InterruptionConfig(
                probability=0.5,  # interrupt ~50% of agent turns
                delay_range=(0.5, 2.0),  # barge in 0.5-2 s after the agent starts speaking
                strategy="random_phrase",  # pick from the built-in canned-phrase pool
            ),
        ),
        scenario.judge(),
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
