"""The adapter interface: how the test SDK drives a voice agent, ours or anyone's.

An adapter starts the system under test on the room's audio (user mouth in, agent playout
out), declares what it can do (:class:`Capabilities`), and reports what it knows (agent words
as they are heard, states, transcripts) through :class:`AdapterLink.report`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from bargein.errors import UnsupportedCapabilityError
from bargein.io import AudioInput, AudioOutput
from bargein.providers.oracle_stt import GroundTruth


@dataclass(frozen=True)
class Capabilities:
    """What an adapter can do. These columns make the capability matrix in the docs.

    - ``streaming_transcripts``: reports the agent's words as they become audible (needed by
      ``interrupt(after_words=...)`` and truncation metrics).
    - ``native_vad``: the agent detects the user's speech itself (VAD barge-in works).
    - ``interruption``: the agent has a cancel signal the test can send (native barge-in).
    - ``dtmf``: accepts keypad tones.
    - ``sample_rates``: audio rates it can run at.
    """

    streaming_transcripts: bool
    native_vad: bool
    interruption: bool
    dtmf: bool = False
    sample_rates: tuple[int, ...] = (8000, 16000, 24000)

    def as_row(self) -> dict[str, Any]:
        """The capabilities as a plain dict (for tables and JSON)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: The events an adapter may report, with the fields each carries (besides ``time``).
#: Every event is optional; the more an adapter reports, the more the test SDK can check:
#:
#: - ``agent_speech`` gives the boundaries of each agent speech, reported twice: with
#:   ``phase="started"`` at the time its first frame played and ``phase="ended"`` at the
#:   time its playout ended (``interrupted``: cut before its end). The metrics then keep a
#:   reply cut by a barge-in apart from the next reply however close they are, and leave
#:   barge-ins over ``protected`` (uninterruptible) speech out of the stop and yield
#:   figures; without it, agent turns follow the gap rule (docs/metrics.md). Both reports
#:   may be made at once, after the speech ended, with their own ``time``.
#: - ``user_state`` and ``user_turn_exceeded`` are what the agent made of the caller; they
#:   land on the timeline, where checks can read them.
#: - ``user_transcript`` with ``discarded=True`` (a final one) says the agent dropped those
#:   words on purpose (said over uninterruptible speech, with the agent's option to discard
#:   them): the script then treats the caller's turn as answered by design instead of
#:   waiting for a reply that is not meant to come.
#: - ``user_message`` and ``agent_message`` together are the agent's history as it grew, and
#:   ``history`` (reported once, when the agent closes) as it ended (a late transcript may
#:   update a message): ``bargein soak`` checks that no caller turn is lost or answered
#:   twice with them.
ADAPTER_EVENTS = {
    "agent_words": "words (tuple of str) that started playing; text heard so far",
    "agent_state": "state: listening | thinking | speaking",
    "agent_speech": "id (str), phase: started | ended, protected (bool: may not be "
                    "interrupted), interrupted (bool, when ended), source (optional: say | "
                    "generate_reply: a scripted line or an answer)",
    "user_transcript": "text, final (bool), discarded (optional bool: the agent dropped "
                       "these words, said over uninterruptible speech)",
    "user_message": "text of a user turn as it entered the agent's history",
    "history": "messages (list of {role, text, interrupted}): the history as the call ended",
    "user_state": "state: listening | speaking (the agent's view of the caller, e.g. its VAD)",
    "user_turn_exceeded": "reason: sentences | words | duration, transcript",
    "agent_message": "text of a finished agent message, interrupted (bool)",
    "agent_interrupted": "reason",
    "agent_false_interruption": "resumed (bool)",
    "error": "source, message",
}


@dataclass
class AdapterLink:
    """What the test SDK hands an adapter when the scenario starts.

    ``report(kind, time=..., **fields)`` records an event (see :data:`ADAPTER_EVENTS`);
    ``time`` is seconds on the recording timeline (``now()`` gives the current one), or
    omitted for "now".
    """

    sample_rate: int
    audio_input: AudioInput
    audio_output: AudioOutput
    report: Callable[..., None]
    now: Callable[[], float]
    truth: GroundTruth | None = None


class AgentAdapter(ABC):
    """Base class of adapters. Subclasses set :attr:`name` and :attr:`capabilities`."""

    name: str = "adapter"
    capabilities: Capabilities = Capabilities(False, False, False)

    @abstractmethod
    async def start(self, link: AdapterLink) -> None:
        """Start the system under test on ``link``'s audio."""

    async def interrupt(self) -> None:
        """Send the native cancel signal (stop speaking now)."""
        raise UnsupportedCapabilityError(
            "interruption", self.name,
            "use VAD barge-in (interrupt mode 'vad'): the user's overlapping audio alone "
            "must stop the agent")

    async def send_dtmf(self, digits: str) -> None:
        """Send keypad tones."""
        raise UnsupportedCapabilityError("dtmf", self.name, "say the digits instead")

    @abstractmethod
    async def close(self) -> None:
        """Stop the system under test."""
