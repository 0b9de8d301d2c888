"""A suite made of many seeded scenarios: the caller barges in on every reply at a random
moment (seeded), seeds times caller voices.

    bargein run examples/scale/random_suite.py --workers 2            # 2 seeds x 4 voices
    BARGEIN_SUITE_SEEDS=2500 bargein run examples/scale/random_suite.py \\
        --report /shared/reports --ray=auto                           # 10,000 on a cluster

Every worker imports this file once and picks its scenarios by name, so it builds the same
list each time (seeds from the environment, nothing random at import). See docs/scale.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scenarios"))

from _agents import interrupt_user_agent

from bargein import scenario

SEEDS = int(os.environ.get("BARGEIN_SUITE_SEEDS", "2"))
VOICES = ("en-us+m3", "en-gb+f2", "en-us+f4", "en-gb-scotland+m4")
GOALS = ["Tell me about your product features.", "What are your business hours?",
         "How do refunds work?"]

SCENARIOS = [
    scenario.Scenario(
        f"random barge-ins, seed {seed}, {voice}",
        agent=interrupt_user_agent,
        options={"seed": seed,
                 "user": scenario.UserSimulator(goals=GOALS, voice=voice)},
        script=[
            scenario.agent(),  # the greeting
            scenario.proceed(turns=2, interruptions=scenario.InterruptionConfig(
                probability=1.0, delay_range=(0.5, 2.0))),
            scenario.judge([scenario.metric("yield_rate", at_least=1.0)]),
        ],
    )
    for seed in range(SEEDS) for voice in VOICES
]
