"""What a script needs of its adapter, checked before the call starts, and the path each
barge-in takes: "native" (the adapter's cancel signal with the caller's audio) or "vad" (the
audio alone, for the agent's own voice detection to notice)."""

from __future__ import annotations

from collections.abc import Sequence

from bargein.adapters.base import AgentAdapter
from bargein.errors import ScenarioError, UnsupportedCapabilityError
from bargein.scenario.expectations import ExpectStep
from bargein.scenario.steps import INTERRUPT_MODES, AgentStep, InterruptStep, Step, UserStep

__all__ = ["barge_in_mode", "check_capabilities"]


def barge_in_mode(adapter: AgentAdapter, requested: str, interrupt_mode: str,
                  index: int) -> str:
    """"native" or "vad" for step ``index``, from its own ``requested`` mode, else the
    scenario's ``interrupt_mode``, else what the adapter can do ("auto": native when it
    has a cancel signal). A path the adapter lacks raises
    :class:`~bargein.errors.UnsupportedCapabilityError` naming the other one."""
    caps = adapter.capabilities
    mode = requested if requested != "auto" else interrupt_mode
    if mode == "auto":
        mode = "native" if caps.interruption else "vad"
    if mode == "native" and not caps.interruption:
        raise UnsupportedCapabilityError(
            "interruption", adapter.name,
            f"step {index} asks for a native barge-in; use mode='vad' (audio only)")
    if mode == "vad" and not caps.native_vad:
        raise UnsupportedCapabilityError(
            "native_vad", adapter.name,
            f"step {index} needs the agent to hear the barge-in by itself; "
            "use mode='native' (cancel signal)")
    return mode


def check_capabilities(adapter: AgentAdapter, steps: Sequence[Step], *, interrupt_mode: str,
                       sample_rate: int) -> None:
    """Refuse, before anything plays, a script the adapter cannot run: a word-count trigger
    without streaming transcripts, a barge-in path it lacks, a sample rate it does not
    take."""
    caps = adapter.capabilities
    if interrupt_mode not in INTERRUPT_MODES:
        raise ScenarioError(f"interrupt_mode must be 'auto', 'native' or 'vad', got "
                            f"{interrupt_mode!r}")
    previous: Step | None = None
    for i, step in enumerate(steps, 1):
        if isinstance(step, InterruptStep) and step.after_words is not None \
                and not caps.streaming_transcripts:
            raise UnsupportedCapabilityError(
                "streaming_transcripts", adapter.name,
                f"step {i} ({step.describe()}) counts heard agent words, which needs "
                "streaming transcripts; use interrupt(content) (at the first audible audio) "
                "or interrupt(..., after=<seconds>) instead")
        unrolled = isinstance(step, UserStep) and isinstance(previous, AgentStep) \
            and not previous.wait
        if isinstance(step, InterruptStep) or unrolled:
            barge_in_mode(adapter, getattr(step, "mode", "auto"), interrupt_mode, i)
        if not isinstance(step, ExpectStep):
            previous = step
    if sample_rate not in caps.sample_rates:
        suggestion = 16000 if 16000 in caps.sample_rates else caps.sample_rates[0]
        raise UnsupportedCapabilityError(
            "sample_rate", adapter.name,
            f"it runs at {caps.sample_rates} Hz; use sample_rate={suggestion}")
