"""bargein's own agent as ``bargein soak`` runs it: named setups, injected faults, recognizers.

The soak (:mod:`bargein.bench.soak`) reaches agents only through adapters. This module builds
them with the public :mod:`bargein.agent` API. A :class:`SoakVariant` is what one scenario
drew besides the setup: the recognizer (the oracle, or real recognition), at most one
provider fault from :mod:`bargein.providers.faults`, and the agent's opening line. Each
setup of :data:`SETUPS` is a configuration users run (interruption and endpointing
settings, uninterruptible speech, turn limits, the turn detector); :class:`FactorySetup`
turns any ``build(providers) -> (agent, session)`` into a setup, e.g. an agent file's.

    from bargein.adapters.soak_agent import SETUPS, SoakVariant

    adapter = SETUPS[0].adapter(SoakVariant(stt="oracle", fault="tts:raise_mid"))
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from bargein.adapters.base import AgentAdapter
from bargein.adapters.inprocess import BargeinAgentAdapter, BuildContext
from bargein.adapters.own_agent import OpeningAgent, agent_stack, pick_named
from bargein.agent.agent import Agent
from bargein.agent.options import EndpointingOptions, InterruptionOptions, UserTurnLimit
from bargein.agent.session import AgentSession
from bargein.providers.faults import LLM_FAULTS, STT_FAULTS, TTS_FAULTS, VAD_FAULTS
from bargein.providers.local_stack import LocalStack

__all__ = ["FAULTS", "SETUPS", "SOAK_STTS", "AgentFileSetup", "AgentSetup", "FactorySetup",
           "SoakAgent", "SoakVariant", "select_setups", "soak_stack"]

#: Every fault a scenario may inject, as ``"provider:fault"``.
FAULTS: tuple[str, ...] = (
    *(f"tts:{f}" for f in TTS_FAULTS), *(f"llm:{f}" for f in LLM_FAULTS),
    *(f"stt:{f}" for f in STT_FAULTS), *(f"vad:{f}" for f in VAD_FAULTS),
)
#: Recognizers: the oracle (known words), Whisper finals, pocketsphinx interims + Whisper.
SOAK_STTS = ("oracle", "whisper", "local")
#: Words of an injected run-on reply (no punctuation): long enough to need a barge-in or a
#: long wait, short enough to keep a scenario within its limits.
RUN_ON_WORDS = 60
#: The error sources a fault of each provider may cause (a faulty speech is reported by its
#: provider, or as "speech" when the player found the fault).
_ERROR_SOURCES = {"tts": ("tts", "speech"), "llm": ("llm", "speech"), "stt": ("stt",),
                  "vad": ("vad",)}


@dataclass(frozen=True)
class SoakVariant:
    """What one soak scenario drew for its agent, besides the setup.

    - ``stt``: ``"oracle"`` (the known words, 0.1 s interim / 0.2 s final delay),
      ``"whisper"`` (Whisper tiny.en finals) or ``"local"`` (pocketsphinx interims + Whisper
      finals): see :func:`bargein.providers.local_stack.make_stt`.
    - ``fault``: ``"provider:fault"`` from :data:`FAULTS`, or None.
    - ``fault_on``: the use it strikes on (1 = the first reply, speech or stream).
    - ``fault_after``: where in that use (chunks for TTS and LLM, events for STT
      ``raise_once``, seconds of audio for VAD ``stuck``, seconds of outage for VAD
      ``raise``, seconds late for STT ``late_final``).
    - ``opening``: what the agent says first (None: it waits for the caller).
    """

    stt: str = "oracle"
    fault: str | None = None
    fault_on: int = 1
    fault_after: float = 3.0
    opening: str | None = None

    def __post_init__(self) -> None:
        if self.stt not in SOAK_STTS:
            raise ValueError(f"stt must be one of {', '.join(SOAK_STTS)}, got {self.stt!r}")
        if self.fault is not None and self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}; faults are {', '.join(FAULTS)}")

    @property
    def injected_sources(self) -> frozenset[str]:
        """The ``error`` event sources the injected fault may cause (empty: no fault)."""
        if self.fault is None:
            return frozenset()
        return frozenset(_ERROR_SOURCES[self.fault.split(":")[0]])

    def describe(self) -> str:
        """E.g. ``"oracle STT, fault tts:raise_mid (use 2, after 3)"``."""
        text = f"{self.stt} STT"
        if self.fault is not None:
            text += f", fault {self.fault} (use {self.fault_on}, after {self.fault_after:g})"
        return text


#: The agent of the built-in setups: says its opening (uninterruptible if told so), then
#: answers with the session's LLM.
SoakAgent = OpeningAgent


def soak_stack(variant: SoakVariant, truth: Any, *, llm: Any = None,
               turn_detector: bool = False) -> LocalStack:
    """The providers of one scenario's session: the shared local models (loaded once per
    process), the variant's recognizer, its fault wrapped around the provider it hits, and
    the turn detector when asked (None if the ``turn`` extra is missing)."""
    from bargein.providers import faults

    stack = agent_stack(variant.stt, truth, turn_detector=turn_detector, llm=llm)
    vad, stt, llm, tts = stack.vad, stack.stt, stack.llm, stack.tts
    if variant.fault is not None:
        provider, fault = variant.fault.split(":")
        on, after = variant.fault_on, variant.fault_after
        if provider == "tts":
            tts = faults.FaultyTTS(tts, fault, after=int(after), on_call=on)
        elif provider == "llm":
            llm = faults.FaultyLLM(llm, fault, after=int(after), on_call=on, words=RUN_ON_WORDS)
        elif provider == "stt":
            stt = faults.FaultySTT(stt, fault, after=int(after), delay=after,
                                   on_call=0 if fault != "raise_once" else on)
        else:
            vad = faults.FaultyVAD(vad, fault, after=after, on_call=on)
    return replace(stack, vad=vad, stt=stt, llm=llm, tts=tts)


@dataclass(frozen=True)
class AgentSetup:
    """A named configuration of bargein's agent for the soak.

    ``allow_interruptions=False`` makes every speech of the agent uninterruptible;
    ``protected_opening`` only its opening line. ``provider_timeout`` is short (3 s) so a
    hung provider costs a scenario little. Adapters are ``full``: the agent's words, states,
    speeches and history are reported; barge-ins still reach it as audio only.
    """

    name: str
    description: str
    interruption: InterruptionOptions = field(default_factory=InterruptionOptions)
    endpointing: EndpointingOptions = field(default_factory=EndpointingOptions)
    turn_limit: UserTurnLimit | None = None
    turn_detector: bool = False
    allow_interruptions: bool = True
    protected_opening: bool = False
    provider_timeout: float = 3.0

    @property
    def discards_over_protected(self) -> bool | None:
        """True if words said over uninterruptible speech are dropped by design."""
        return self.interruption.discard_audio_if_uninterruptible

    def adapter(self, variant: SoakVariant) -> AgentAdapter:
        """A fresh adapter of this setup for one scenario."""

        def build(ctx: BuildContext) -> tuple[Agent, AgentSession]:
            stack = soak_stack(variant, ctx.truth, turn_detector=self.turn_detector)
            session = AgentSession(
                **stack.session_options(), interruption=self.interruption,
                endpointing=self.endpointing, turn_limit=self.turn_limit,
                provider_timeout=self.provider_timeout, sample_rate=ctx.sample_rate)
            agent = SoakAgent(variant.opening, protected_opening=self.protected_opening,
                              allow_interruptions=None if self.allow_interruptions else False)
            return agent, session

        return BargeinAgentAdapter(build, mode="full", name=f"bargein ({self.name})")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        data["interruption"]["backchannels"] = sorted(self.interruption.backchannels)
        return data


@dataclass(frozen=True)
class FactorySetup:
    """A soak setup from your own ``build(providers) -> (agent, session)``.

    ``providers`` is a :class:`~bargein.providers.local_stack.LocalStack` made by
    :func:`soak_stack` (the scenario's recognizer and fault, and ``llm()`` when given): build
    the session from its ``vad``, ``stt``, ``llm`` and ``tts``, or a fault and the recognizer
    the soak drew would be bypassed. An agent file's ``AgentSpec.new`` fits. The agent opens
    as your code says (the variant's opening is not used).
    """

    name: str
    description: str
    build: Callable[[LocalStack], tuple[Agent, AgentSession]]
    llm: Callable[[], Any] | None = None
    #: unknown for your own setups: lines begun over protected speech are not counted lost
    discards_over_protected: bool | None = None

    def adapter(self, variant: SoakVariant) -> AgentAdapter:
        """A fresh adapter for one scenario."""

        def build(ctx: BuildContext) -> tuple[Agent, AgentSession]:
            llm = self.llm() if self.llm is not None else None
            return self.build(soak_stack(variant, ctx.truth, llm=llm))

        return BargeinAgentAdapter(build, mode="full", name=self.name)

    def to_dict(self) -> dict[str, Any]:
        """Name and description."""
        return {"name": self.name, "description": self.description}


@dataclass(frozen=True)
class AgentFileSetup:
    """A soak setup from an agent file, the file ``bargein console`` and ``bargein serve``
    load (``build_session(providers)``, the agent, optionally ``build_llm()``; see
    docs/live.md). Only the path is kept, so the setup travels to worker processes; each
    loads the file once."""

    path: str
    discards_over_protected: bool | None = None

    @property
    def name(self) -> str:
        """The file's name without ``.py``."""
        return Path(self.path).stem

    @property
    def description(self) -> str:
        """Where it comes from."""
        return f"agent file {self.path}"

    def adapter(self, variant: SoakVariant) -> AgentAdapter:
        """A fresh adapter for one scenario (see :class:`FactorySetup`)."""
        spec = _agent_file(self.path)
        return FactorySetup(self.name, self.description, spec.new, spec.llm).adapter(variant)

    def to_dict(self) -> dict[str, Any]:
        """Name and path."""
        return {"name": self.name, "description": self.description}


@functools.lru_cache(maxsize=8)
def _agent_file(path: str) -> Any:
    from bargein.live.agent_file import load_agent_file

    return load_agent_file(path)


def _setups() -> list[AgentSetup]:
    words1 = InterruptionOptions(min_duration=0.3, min_words=1)
    keep = InterruptionOptions(min_duration=0.3, min_words=1,
                               discard_audio_if_uninterruptible=False)
    return [
        AgentSetup("defaults", "the session's defaults: VAD-only barge-in after 0.5 s, pause "
                   "then resume, 0.6 s endpointing"),
        AgentSetup("vad-fast", "VAD-only barge-in after 0.2 s, pause then resume",
                   InterruptionOptions(min_duration=0.2)),
        AgentSetup("vad-stop", "VAD-only barge-in after 0.5 s, stop for good (no resume)",
                   InterruptionOptions(resume_false_interruption=False)),
        AgentSetup("words1", "one real word confirms a barge-in, backchannel filter", words1),
        AgentSetup("words2-stop", "two real words confirm a barge-in, no resume",
                   InterruptionOptions(min_words=2, resume_false_interruption=False)),
        AgentSetup("turn-detector", "one real word; smart-turn decides the end of turn "
                   "(0.3-2.5 s), with preemptive replies", words1,
                   EndpointingOptions(min_delay=0.3, max_delay=2.5), turn_detector=True),
        AgentSetup("slow-endpointing", "one real word; 1.5 s endpointing, no preemptive "
                   "replies", words1,
                   EndpointingOptions(min_delay=1.5, preemptive_generation=False)),
        AgentSetup("protected-opening", "one real word; an uninterruptible opening (words "
                   "said over it are dropped)", words1, protected_opening=True),
        AgentSetup("uninterruptible", "every speech uninterruptible; words said over it "
                   "are dropped", words1, allow_interruptions=False),
        AgentSetup("uninterruptible-keep", "every speech uninterruptible; words said over "
                   "it are kept for the next turn", keep, allow_interruptions=False),
        AgentSetup("turn-limit", "one real word; cut in after 3 sentences",
                   words1, turn_limit=UserTurnLimit(max_sentences=3)),
        AgentSetup("turn-limit-time", "VAD-only barge-in; cut in after 25 words or 8 s",
                   turn_limit=UserTurnLimit(max_words=25, max_duration=8.0)),
    ]


#: The built-in setups, in the order a scenario draws from.
SETUPS: tuple[AgentSetup, ...] = tuple(_setups())


def select_setups(names: list[str] | None) -> list[AgentSetup]:
    """The built-in setups with these names (all of them for None or empty)."""
    if not names:
        return list(SETUPS)
    return pick_named(SETUPS, names, kind="setup", listed="the built-in setups are")

