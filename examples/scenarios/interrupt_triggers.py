"""The three trigger modes of ``interrupt()``, each on the same reply of the example agent:

- time-based: ``interrupt(after=2, content="Wait, that's wrong!")`` fires once the caller has
  *heard* 2 s of the reply;
- word-count: ``interrupt(after_words=5, content="No, that's not it")`` fires once it has
  heard 5 whole words, at the start of the 6th (needs an adapter with streaming transcripts);
- first chunk: ``interrupt(content="Hold on—")`` fires at the reply's first audible audio.

Each scenario checks that the agent stopped and then answered the caller. The script prints
where each barge-in fired, measured on the recording, and the words the caller had heard.

    python examples/scenarios/interrupt_triggers.py
    bargein run examples/scenarios/interrupt_triggers.py

``python examples/scenarios/interrupt_triggers.py --adapter limited`` runs them against the
agent without streaming transcripts: the word-count scenario is then refused before it
starts, with the error that names the alternatives.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _agents import interrupt_user_agent, print_verdict

from bargein import scenario
from bargein.errors import UnsupportedCapabilityError

QUESTION = "Tell me about every product feature you offer"


def trigger_script(barge_in: Any) -> list[Any]:
    """The greeting, the question, ``barge_in`` on the answer, the recovery reply."""
    return [
        scenario.agent(),  # the greeting
        scenario.user(QUESTION),
        barge_in,
        scenario.agent(),  # the recovery reply
        scenario.expect_stopped_within(1.0),
        scenario.expect_reply_addresses_interruption(),
    ]


TIME_BASED = scenario.Scenario(
    "interrupt after 2 s of heard speech", agent=interrupt_user_agent,
    script=trigger_script(scenario.interrupt(after=2, content="Wait, that's wrong!")))
WORD_COUNT = scenario.Scenario(
    "interrupt after 5 heard words", agent=interrupt_user_agent,
    script=trigger_script(scenario.interrupt(after_words=5, content="No, that's not it")))
FIRST_CHUNK = scenario.Scenario(
    "interrupt at the first audible audio", agent=interrupt_user_agent,
    script=trigger_script(scenario.interrupt(content="Hold on—")))

TRIGGERS = (TIME_BASED, WORD_COUNT, FIRST_CHUNK)


def where_it_fired(result: scenario.ScenarioResult) -> str:
    """When the barge-in fired, relative to the start of the reply it cut, and what the
    caller had heard of that reply."""
    fired = result.timeline.of("interrupt_fired")[0]
    question = result.utterances[0]
    reply = min((e.time for e in result.timeline.of("agent_started_speaking")
                 if e.time > question.end), default=fired.time)
    heard = next((e.data["text"] for e in result.timeline.of("agent_message")
                  if e.data["interrupted"] and e.time >= fired.time - 0.05), "")
    return (f"reply audible at {reply:.3f} s, barge-in fired at {fired.time:.3f} s "
            f"({fired.time - reply:+.3f} s), heard: {heard!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adapter", choices=("full", "limited"), default="full",
                        help="full: streaming transcripts and native barge-in; limited: "
                             "neither (VAD barge-in)")
    args = parser.parse_args()
    status = 0
    for case in TRIGGERS:
        chosen = dataclasses.replace(case, agent=lambda: interrupt_user_agent(args.adapter))
        print(f"== {case.name}")
        try:
            result = chosen.run()
        except UnsupportedCapabilityError as exc:
            print(f"refused before it started: {exc}\n")
            continue
        print(where_it_fired(result))
        status |= print_verdict(result)
        print()
    return status


if __name__ == "__main__":
    sys.exit(main())
