"""A named, reusable scenario: what ``bargein run`` collects from scenario files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from bargein.adapters.base import AgentAdapter
from bargein.errors import ScenarioError
from bargein.scenario import validation as check
from bargein.scenario.judging import Criterion
from bargein.scenario.options import check_run_options
from bargein.scenario.result import ScenarioResult
from bargein.scenario.simulator import UserSimulator
from bargein.scenario.steps import validate

AdapterSource = AgentAdapter | Callable[[], AgentAdapter]


#: The run options a Scenario also takes as fields of its own.
_FIELDS = ("user", "seed", "criteria")


@dataclass
class Scenario:
    """A scenario to run. Put ``Scenario`` objects at module level in a scenario file;
    ``bargein run FILE`` and ``bargein run FOLDER`` find and run them.

    Args:
        name: what reports and ``bargein run`` call it.
        agent: the system under test: an adapter, or a function that makes one (called once
            per run, so every run starts fresh).
        script: the steps (``user``, ``agent``, ``interrupt``, ``proceed``, ``judge``...).
        description: what the scenario is about; a bare ``judge()`` judges it (with an LLM)
            when the scenario has no ``criteria``.
        user: the simulated caller of ``proceed()`` (a :class:`UserSimulator`); default: a
            rule-based caller with the voice ``user_voice``.
        seed: fixes every random draw (barge-ins, phrases, lines); ``run(seed=...)`` and
            ``bargein run --seed`` override it. Default 0.
        criteria: what a bare ``judge()`` judges, and what an open-ended ``proceed()``
            checks after every exchange to end the scenario once all are met: deterministic
            criteria (``said``, ``not_said``, ``recovered_after_interruptions``, ``metric``)
            and/or free text (needs ``judge_llm``).
        options: the other run options, as ``scenario.run()`` takes them:
            ``sample_rate`` (8000, 16000 or 24000; default 16000), ``user_voice`` (espeak-ng
            voice of the default caller, ``"en-us+m3"``), ``interrupt_mode`` ("auto",
            "native" or "vad"), ``max_duration`` (seconds of conversation before the run is
            stopped and fails, 600), ``max_turns`` (the most caller turns an open-ended
            ``proceed()`` lets the conversation reach, 10), ``settle`` (seconds of agent
            silence that end its turn, 1.0), ``echo_gain`` (feed the agent's playout back
            into its input), ``judge_llm`` (the LLM for free-text criteria),
            ``backchannels`` (the words that make a line a backchannel). ``user``, ``seed``
            and ``criteria`` may be given here too, but not twice.

    Every value is checked when the scenario is defined: a bad one raises
    :class:`~bargein.errors.ScenarioError`.
    """

    name: str
    _: KW_ONLY
    agent: AdapterSource | None = None
    script: list[Any] = field(default_factory=list)
    description: str = ""
    user: UserSimulator | None = None
    seed: int | None = None
    criteria: list[str | Criterion] | tuple[str | Criterion, ...] | None = None
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
        for name in _FIELDS:
            if getattr(self, name) is not None and name in self.options:
                raise ScenarioError(f"scenario {self.name!r}: {name} is given twice, as "
                                    f"{name}= and in options; keep one")
        check_run_options(self.own_options(), where=f"scenario {self.name!r}")
        validate(self.script)

    def own_options(self) -> dict[str, Any]:
        """The run options given as fields (``user``, ``seed``, ``criteria``)."""
        return {name: getattr(self, name) for name in _FIELDS if getattr(self, name) is not None}

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

        options = {**self.options, **self.own_options()}
        if seed is not None:
            check.seed(seed, f"scenario {self.name!r}: run(seed=...)")
            options["seed"] = seed
        return run(self.name, self.description, agent=self.adapter(), script=self.script,
                   live=live, **options)
