"""The example agents of examples/agents, wrapped as adapters for the example scenarios."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "agents"))

import interrupt_user
import uninterruptable
from _common import local_providers

from bargein.adapters import BargeinAgentAdapter, BuildContext
from bargein.agent import Agent, AgentSession


def interrupt_user_agent(mode: str = "full") -> BargeinAgentAdapter:
    """The agent that cuts in on long monologues (turn limit: 3 sentences)."""

    def build(context: BuildContext) -> tuple[Agent, AgentSession]:
        session = interrupt_user.build_session(local_providers(context.truth))
        return interrupt_user.InterruptingAgent(), session

    return BargeinAgentAdapter(build, mode=mode, name=f"interrupt_user ({mode})")  # type: ignore[arg-type]


def uninterruptable_agent(mode: str = "full") -> BargeinAgentAdapter:
    """The agent whose speech cannot be interrupted (it opens with a long, dull reply)."""

    def build(context: BuildContext) -> tuple[Agent, AgentSession]:
        providers = local_providers(context.truth, llm=uninterruptable.long_and_dull_llm())
        session = uninterruptable.build_session(providers)
        return uninterruptable.UninterruptableAgent(), session

    return BargeinAgentAdapter(build, mode=mode, name=f"uninterruptable ({mode})")  # type: ignore[arg-type]


def print_verdict(result) -> int:  # type: ignore[no-untyped-def]
    """Print a scenario's checks and verdict; the exit status for it (0 pass, 1 fail)."""
    for check in result.checks:
        print(f"[{'x' if check.passed else ' '}] {check.description}: {check.detail}")
    print(f"{'PASS' if result.success else 'FAIL'}: {result.reasoning}")
    return 0 if result.success else 1
