"""bargein's own agent as the interruption benchmark runs it, under a sweep of settings.

The benchmark (:mod:`bargein.bench`) reaches agents only through adapters; this module
builds the adapters of bargein's agent for it with the public :mod:`bargein.agent` API:
an agent that opens with a long reply when a case needs the agent speaking, has a turn limit,
and runs with one of the :func:`default_sweep` settings of its interruption options.

    from bargein import bench
    from bargein.adapters.bench_agent import default_sweep

    settings = default_sweep(turn_limit_sentences=bench.TURN_LIMIT_SENTENCES)
    suite = bench.run_suite(bench.generate_cases(40), settings)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

from bargein.adapters.base import AgentAdapter
from bargein.adapters.inprocess import BargeinAgentAdapter, BuildContext
from bargein.adapters.own_agent import OpeningAgent, agent_stack, pick_named, shared_models
from bargein.agent.agent import Agent
from bargein.agent.options import EndpointingOptions, InterruptionOptions, UserTurnLimit
from bargein.agent.session import AgentSession
from bargein.providers.local_stack import AGENT_VOICE

__all__ = ["AGENT_VOICE", "OPENING", "AgentSetting", "BenchAgent", "default_sweep",
           "select_settings", "shared_models"]

#: The long reply the agent is already speaking in barge-in, backchannel and noise cases.
OPENING = (
    "Thanks for waiting. Let me walk you through the three plans we offer, because the "
    "differences matter for a team like yours. The basic plan includes unlimited projects, "
    "five gigabytes of storage per person, and email support during office hours. The team "
    "plan adds shared workspaces, single sign on, an audit log, and priority support with a "
    "four hour response time. The enterprise plan adds a dedicated account manager, custom "
    "contracts, and data residency in the region of your choice. All plans can be paid "
    "monthly or yearly, and the yearly option saves about two months."
)
STTS = ("oracle", "hybrid")


class _Case(Protocol):
    agent_opens: bool


#: The agent under test: opens with :data:`OPENING` when a case needs it speaking.
BenchAgent = OpeningAgent


@dataclass(frozen=True)
class AgentSetting:
    """A named configuration of bargein's agent for the benchmark (a ``bench.Setting``).

    ``stt``: ``"oracle"`` (the known words, 0.1 s interim and 0.2 s final delay) or
    ``"hybrid"`` (pocketsphinx interims + Whisper finals, real recognition). Its adapters
    are ``limited``: barge-ins reach the agent as audio only (its VAD must hear them),
    never as a cancel signal.
    """

    name: str
    description: str
    interruption: InterruptionOptions = field(default_factory=InterruptionOptions)
    endpointing: EndpointingOptions = field(default_factory=EndpointingOptions)
    turn_limit_sentences: int = 3
    stt: str = "oracle"
    #: the local stack's turn detector (smart-turn v3.2 with the words; punctuation trusted
    #: only with the oracle); False: the fixed ``endpointing.min_delay`` after every turn
    turn_detector: bool = True

    def __post_init__(self) -> None:
        if self.stt not in STTS:
            raise ValueError(f"stt must be 'oracle' or 'hybrid', got {self.stt!r}")

    def adapter(self, case: _Case) -> AgentAdapter:
        """A fresh adapter for ``case`` (it opens with a long reply if the case needs it)."""
        recognizer = "oracle" if self.stt == "oracle" else "local"  # hybrid: make_stt's local

        def build(ctx: BuildContext) -> tuple[Agent, AgentSession]:
            stack = agent_stack(recognizer, ctx.truth, turn_detector=self.turn_detector)
            session = AgentSession(
                **stack.session_options(), interruption=self.interruption,
                endpointing=self.endpointing,
                turn_limit=UserTurnLimit(max_sentences=self.turn_limit_sentences),
                sample_rate=ctx.sample_rate)
            return BenchAgent(OPENING if case.agent_opens else None), session

        return BargeinAgentAdapter(build, mode="limited", name=f"bargein ({self.name})")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        opts = asdict(self.interruption)
        opts["backchannels"] = "default" if self.interruption.backchannels else "off"
        return {"name": self.name, "description": self.description, "interruption": opts,
                "endpointing": asdict(self.endpointing), "turn_detector": self.turn_detector,
                "stt": self.stt}


def default_sweep(*, turn_limit_sentences: int, stt: str = "oracle") -> list[AgentSetting]:
    """The settings the benchmark compares (see benchmarks/interruptions/README.md).

    "VAD only" is ``min_words=0``: the VAD alone decides, and with
    ``resume_false_interruption`` on the agent pauses first and resumes if no word comes.
    ``words<N>`` needs N transcribed words that are not backchannels. Every setting runs with
    the local stack's turn detector (the runtime's default) except the last two, which show
    the fixed endpointing delays it replaces. With ``stt="hybrid"`` the names end in
    ``+hybrid``."""
    off = frozenset[str]()

    def opts(**kw: Any) -> InterruptionOptions:
        return InterruptionOptions(**kw)

    sweep = [
        AgentSetting("vad-0.2", "VAD only, min_duration 0.2 s, pause then resume",
                     opts(min_duration=0.2)),
        AgentSetting("vad-0.3", "VAD only, min_duration 0.3 s, pause then resume",
                     opts(min_duration=0.3)),
        AgentSetting("vad-0.5", "VAD only, min_duration 0.5 s, pause then resume (the defaults)",
                     opts(min_duration=0.5)),
        AgentSetting("vad-0.8", "VAD only, min_duration 0.8 s, pause then resume",
                     opts(min_duration=0.8)),
        AgentSetting("vad-0.5-stop", "VAD only, min_duration 0.5 s, stop for good (no resume)",
                     opts(min_duration=0.5, resume_false_interruption=False)),
        AgentSetting("words1-0.5", "min_words 1, min_duration 0.5 s, backchannel filter",
                     opts(min_duration=0.5, min_words=1)),
        AgentSetting("words2-0.5", "min_words 2, min_duration 0.5 s, backchannel filter",
                     opts(min_duration=0.5, min_words=2)),
        AgentSetting("words1-0.5-nofilter",
                     "min_words 1, min_duration 0.5 s, no backchannel filter",
                     opts(min_duration=0.5, min_words=1, backchannels=off)),
        AgentSetting("words1-0.3", "min_words 1, min_duration 0.3 s, backchannel filter",
                     opts(min_duration=0.3, min_words=1)),
        AgentSetting("words1-0.2", "min_words 1, min_duration 0.2 s, backchannel filter",
                     opts(min_duration=0.2, min_words=1)),
        AgentSetting("vad-0.5-fixed",
                     "the defaults without a turn detector: a fixed 0.6 s after every turn "
                     "(the defaults before the detector)",
                     opts(min_duration=0.5), EndpointingOptions(min_delay=0.6),
                     turn_detector=False),
        AgentSetting("words1-0.2-end1.5",
                     "min_words 1, min_duration 0.2 s, backchannel filter, no turn detector, "
                     "a fixed 1.5 s after every turn (the best setting before the detector)",
                     opts(min_duration=0.2, min_words=1), EndpointingOptions(min_delay=1.5),
                     turn_detector=False),
    ]
    suffix = "" if stt == "oracle" else f"+{stt}"
    return [replace(s, name=s.name + suffix, turn_limit_sentences=turn_limit_sentences, stt=stt)
            for s in sweep]


def select_settings(names: list[str] | None, *, turn_limit_sentences: int,
                    stt: str = "oracle") -> list[AgentSetting]:
    """The sweep's settings with these names (all of them for ``None`` or empty)."""
    sweep = default_sweep(turn_limit_sentences=turn_limit_sentences, stt=stt)
    if not names:
        return sweep
    suffix = "" if stt == "oracle" else f"+{stt}"
    names = [n if n.endswith(suffix) else n + suffix for n in names]
    return pick_named(sweep, names, kind="setting", listed="the sweep has")
