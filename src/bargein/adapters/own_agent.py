"""bargein's own agent as the benchmark and the soak build it: the agent, its providers, and
picking named configurations.

The benchmark (:mod:`bargein.adapters.bench_agent`) and the soak
(:mod:`bargein.adapters.soak_agent`) run the same agent on the same local models with their
own settings; the parts they share live here, once:

- :func:`shared_models`: Silero VAD, the agent's espeak voice and the rule-based LLM, loaded
  once per process;
- :func:`agent_stack`: the providers of one session (those models, a recognizer, the turn
  detector when asked);
- :class:`OpeningAgent`: says an opening line if it has one, then answers with the LLM;
- :func:`pick_named`: configurations by name, with one clear error for unknown names.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from bargein.agent.agent import Agent
from bargein.providers.local_stack import AGENT_VOICE, LocalStack

__all__ = ["SAMPLE_RATE", "OpeningAgent", "agent_stack", "pick_named", "shared_models"]

#: The sample rate of the agent's voice and sessions.
SAMPLE_RATE = 16000


class OpeningAgent(Agent):
    """A support agent: says ``opening`` first when it has one (uninterruptible with
    ``protected_opening``), else waits for the user; replies come from the session's LLM."""

    def __init__(self, opening: str | None, *, protected_opening: bool = False,
                 allow_interruptions: bool | None = None) -> None:
        super().__init__(instructions="You are a support agent for a software company.",
                         allow_interruptions=allow_interruptions)
        self.opening = opening
        self.protected_opening = protected_opening

    async def on_enter(self) -> None:
        if self.opening:
            self.session.say(self.opening,
                             allow_interruptions=False if self.protected_opening else None)


@functools.lru_cache(maxsize=1)
def shared_models() -> tuple[Any, Any, Any]:
    """Models loaded once per process and shared by every session the benchmark and the
    soak build: Silero VAD (a stream per session), the agent's espeak voice, the rule-based
    LLM."""
    from bargein.providers.espeak_tts import EspeakTTS
    from bargein.providers.rule_based_llm import RuleBasedLLM
    from bargein.providers.silero_vad import SileroVAD

    return SileroVAD(), EspeakTTS(voice=AGENT_VOICE, sample_rate=SAMPLE_RATE), RuleBasedLLM()


@functools.lru_cache(maxsize=2)
def shared_recognizer(kind: str) -> Any:
    """A real recognizer (``"local"`` or ``"whisper"``, see
    :func:`~bargein.providers.local_stack.make_stt`), loaded once per process (its streams
    are per session)."""
    from bargein.providers.local_stack import make_stt

    return make_stt(kind)


def agent_stack(stt: str, truth: Any, *, turn_detector: bool, llm: Any = None) -> LocalStack:
    """The providers of one session: the :func:`shared_models` (``llm`` replaces the
    rule-based one), the recognizer ``stt`` (``"oracle"`` reads ``truth``, an empty truth
    when None; else :func:`shared_recognizer`) and, with ``turn_detector``, the local turn
    detector (punctuation trusted only with the oracle)."""
    from bargein.providers.local_stack import default_turn_detector
    from bargein.providers.oracle_stt import GroundTruth, OracleSTT

    vad, tts, rule_based = shared_models()
    truth = truth if truth is not None else GroundTruth()
    recognizer = OracleSTT(truth) if stt == "oracle" else shared_recognizer(stt)
    detector = default_turn_detector(trust_punctuation=stt == "oracle") \
        if turn_detector else None
    return LocalStack(vad=vad, stt=recognizer, llm=llm if llm is not None else rule_based,
                      tts=tts, turn_detector=detector, truth=truth)


class _Named(Protocol):
    @property
    def name(self) -> str: ...


NamedT = TypeVar("NamedT", bound=_Named)


def pick_named(available: Sequence[NamedT], names: Sequence[str], *, kind: str,
               listed: str) -> list[NamedT]:
    """The items of ``available`` with these names, in the order given; unknown names raise
    ``ValueError("unknown <kind>(s) ...; <listed> <every name>")``."""
    by_name = {item.name: item for item in available}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(f"unknown {kind}(s) {', '.join(unknown)}; {listed} "
                         f"{', '.join(by_name)}")
    return [by_name[n] for n in names]
