"""Barge-in recovery: a scripted caller cuts the agent off, and the test checks how it copes.

The agent under test is the one of ``examples/agents/interrupt_user.py`` (greets the caller,
answers with the rule-based LLM), wrapped in a ``BargeinAgentAdapter``. The same conversation
is scripted twice, back to back:

- the **unrolled** form: ``user(...)``, ``agent(wait=False)``, ``user(...)``, ``agent()``;
- the **sugar** form: ``user(...)``, ``interrupt(...)``, ``agent()``.

Both forms barge in at the agent's first audible audio, so they must give the same timeline,
which the script checks. Each scenario then checks that the agent stopped quickly, that its
next reply answers the new question, and that both parties never talked over each other for
long. Everything runs offline, in virtual time (about a second of wall time per scenario).

    python examples/scenarios/barge_in_recovery.py                     # native barge-in
    python examples/scenarios/barge_in_recovery.py --adapter limited   # VAD barge-in
    python examples/scenarios/barge_in_recovery.py --out /tmp/scenarios

Results (``result.json``, ``conversation.wav``, ``conversation-mono.wav`` and one WAV per turn
in ``segments/``) go to ``<out>/barge_in_recovery_<form>/``. The exit status is 1 if a
scenario fails.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _agents import interrupt_user_agent

from bargein import scenario

FIRST_QUESTION = "Tell me about your product features."
BARGE_IN = "Sorry, what are your business hours?"

#: Timeline events worth a line in the summary (agent words, transcripts and states are in
#: result.json).
KEY_EVENTS = ("user_started_speaking", "user_stopped_speaking", "agent_started_speaking",
              "agent_stopped_speaking", "interrupt_fired", "agent_interrupted",
              "agent_false_interruption", "agent_message", "error")


def checks() -> list[Any]:
    """What both forms must show once the agent has answered the barge-in."""
    return [
        scenario.expect_stopped_within(0.6),
        scenario.expect_reply_addresses_interruption(),
        scenario.expect_reply_mentions("hours", "open", "Monday"),
        scenario.expect_no_overlap_longer_than(1.0),
        scenario.expect_metric("yield_rate", at_least=1.0),
    ]


def unrolled_script() -> list[Any]:
    """Barge-in spelled out: the reply starts in the background, the next user line cuts it."""
    return [
        scenario.agent(),  # the greeting
        scenario.user(FIRST_QUESTION),
        scenario.agent(wait=False),  # the reply starts; the script goes on
        scenario.user(BARGE_IN),  # said at the reply's first audible audio: a barge-in
        scenario.agent(),  # the recovery reply
        *checks(),
    ]


def sugar_script() -> list[Any]:
    """The same barge-in with ``interrupt()`` (no trigger: at the first audible audio)."""
    return [
        scenario.agent(),
        scenario.user(FIRST_QUESTION),
        scenario.interrupt(BARGE_IN),
        scenario.agent(),
        *checks(),
    ]


FORMS = {"unrolled": unrolled_script, "sugar": sugar_script}
DESCRIPTION = "The caller cuts the agent's answer short with another question."
JUDGE = scenario.judge([scenario.recovered_after_interruptions(max_stop=0.6),
                        scenario.said("Monday")])

#: What `bargein run examples/scenarios` runs: both forms, each judged at the end.
UNROLLED = scenario.Scenario("barge-in recovery (unrolled form)", agent=interrupt_user_agent,
                             script=[*unrolled_script(), JUDGE], description=DESCRIPTION)
SUGAR = scenario.Scenario("barge-in recovery (sugar form)", agent=interrupt_user_agent,
                          script=[*sugar_script(), JUDGE], description=DESCRIPTION)


def run_form(form: str, adapter_mode: str) -> scenario.ScenarioResult:
    """Run one form of the scenario against a fresh adapter."""
    return scenario.run(f"barge-in recovery ({form} form)", DESCRIPTION,
                        agent=interrupt_user_agent(adapter_mode), script=FORMS[form]())


def summary(result: scenario.ScenarioResult) -> list[str]:
    """Readable lines: verdict, checks, metrics and the key timeline events."""
    verdict = "PASS" if result.success else "FAIL"
    lines = [f"== {result.name}: {verdict} ==",
             f"adapter: {result.adapter} ({_barge_in_path(result)} barge-in)",
             f"reasoning: {result.reasoning}",
             "checks:"]
    lines += [f"  [{'x' if c.passed else ' '}] {c.description}: {c.detail}"
              for c in result.checks]
    lines.append("metrics:")
    lines += [f"  {name:<24} {_value(value)}" for name, value in result.metrics.summary().items()]
    lines.append("timeline (seconds on the recording):")
    for event in result.timeline.events:
        if event.kind in KEY_EVENTS:
            lines.append(f"  {event.time:7.3f}  {event.kind:<24} {_data(event.data)}".rstrip())
    lines.append(f"simulated {result.duration:.1f} s of conversation in "
                 f"{result.wall_seconds:.1f} s of wall time")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="barge_in_recovery.py",
        description="Script a barge-in twice (unrolled and sugar forms) against the example "
                    "agent, offline in virtual time.")
    parser.add_argument("--out", default="out/scenarios",
                        help="directory for the results (default: %(default)s)")
    parser.add_argument("--adapter", choices=("full", "limited"), default="full",
                        help="full: native barge-in (cancel signal + audio); limited: VAD "
                             "barge-in (audio only) (default: %(default)s)")
    args = parser.parse_args(argv)

    results = {}
    for form in FORMS:
        result = run_form(form, args.adapter)
        results[form] = result
        paths = result.write(Path(args.out) / f"barge_in_recovery_{form}")
        print("\n".join(summary(result)))
        print(f"results: {paths['json']}, {paths['stereo']} (left: caller, right: agent)")
        print()

    same = results["unrolled"].timeline.to_list() == results["sugar"].timeline.to_list()
    print(f"unrolled and sugar forms give the same timeline: {'yes' if same else 'NO'}")
    failed = [form for form, r in results.items() if not r.success]
    if failed or not same:
        print(f"FAILED: {', '.join(failed) or 'the two forms differ'}")
        return 1
    print("all scenarios passed")
    return 0


def _barge_in_path(result: scenario.ScenarioResult) -> str:
    modes = sorted({u.mode for u in result.utterances if u.barge_in and u.mode})
    return "/".join(modes) or "no"


def _value(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _data(data: dict[str, Any]) -> str:
    parts = []
    for key, value in data.items():
        if isinstance(value, str) and len(value) > 60:
            value = value[:57] + "..."
        parts.append(f"{key}={value!r}")
    return " ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
