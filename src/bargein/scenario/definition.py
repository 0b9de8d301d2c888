"""A named, reusable scenario: what ``bargein run`` collects from scenario files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from bargein.adapters.base import AgentAdapter
from bargein.errors import ScenarioError
from bargein.scenario import validation as check
from bargein.scenario.options import check_run_options
from bargein.scenario.result import ScenarioResult
from bargein.scenario.steps import validate

AdapterSource = AgentAdapter | Callable[[], AgentAdapter]


@dataclass
class Scenario:
    """A scenario to run: name, the agent under test (an adapter, or a function that makes
    one), the script, and run options (``seed``, ``user``, ``judge_llm``, ...).

    Put ``Scenario`` objects at module level in a scenario file; ``bargein run FILE`` and
    ``bargein run FOLDER`` find and run them.
    """

    name: str
    _: KW_ONLY
    agent: AdapterSource | None = None
    script: list[Any] = field(default_factory=list)
    description: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ScenarioError("a Scenario needs a non-empty name")
        if self.agent is None:
            raise ScenarioError(f"scenario {self.name!r} has no agent: pass agent=<an adapter, "
                                "or a function returning one>")
        if not isinstance(self.agent, AgentAdapter) and not callable(self.agent):
            raise ScenarioError(f"scenario {self.name!r}: agent must be an adapter or a "
                                f"function returning one, got {type(self.agent).__name__}")
        check.text(self.description, f"scenario {self.name!r}: description")
        check_run_options(self.options, where=f"scenario {self.name!r}")
        validate(self.script)

    def adapter(self) -> AgentAdapter:
        """The adapter to run against (made fresh if ``agent`` is a factory)."""
        source = self.agent
        if isinstance(source, AgentAdapter):
            return source
        if callable(source):
            made = source()
            if isinstance(made, AgentAdapter):
                return made
            raise ScenarioError(f"scenario {self.name!r}: agent factory returned "
                                f"{type(made).__name__}, not an adapter")
        raise ScenarioError(f"scenario {self.name!r}: agent must be an adapter or a function "
                            f"returning one, got {type(source).__name__}")

    def run(self, *, seed: int | None = None, live: bool = False) -> ScenarioResult:
        """Run it (``seed`` overrides the scenario's own)."""
        from bargein.scenario import run

        options = dict(self.options)
        if seed is not None:
            check.seed(seed, f"scenario {self.name!r}: run(seed=...)")
            options["seed"] = seed
        return run(self.name, self.description, agent=self.adapter(), script=self.script,
                   live=live, **options)
