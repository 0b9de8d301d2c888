"""Session events and the small emitter that delivers them.

Subscribe with ``session.on("user_input_transcribed", callback)`` or as a decorator
``@session.on("agent_state_changed")``. Times in events are seconds on the session's audio
timeline (loop time since the session started).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from bargein.providers.llm import ChatMessage

_log = logging.getLogger("bargein.agent")

AgentState = Literal["initializing", "listening", "thinking", "speaking"]
UserState = Literal["listening", "speaking"]


@dataclass(frozen=True)
class UserInputTranscribed:
    """An interim or final transcript of the user."""

    transcript: str
    is_final: bool
    time: float
    discarded: bool = False


@dataclass(frozen=True)
class AgentStateChanged:
    """The agent moved between initializing / listening / thinking / speaking."""

    old_state: AgentState
    new_state: AgentState
    time: float


@dataclass(frozen=True)
class UserStateChanged:
    """The user started or stopped speaking (VAD); ``time`` is the audio boundary."""

    old_state: UserState
    new_state: UserState
    time: float


@dataclass(frozen=True)
class SpeechCreated:
    """A speech was scheduled: ``source`` is "say", "generate_reply" or "turn_limit"."""

    speech: Any
    source: str
    user_initiated: bool
    time: float


@dataclass(frozen=True)
class AgentFalseInterruption:
    """The user's speech did not turn out to be a barge-in; ``resumed`` if speech went on."""

    resumed: bool
    time: float


@dataclass(frozen=True)
class AgentInterrupted:
    """The agent's speech was cut: ``reason`` is "barge_in", "forced" or "replaced"."""

    speech: Any
    reason: str
    heard_text: str
    time: float


@dataclass(frozen=True)
class AgentWordsHeard:
    """Words of the agent's speech started playing (needs an output that reports frames).

    ``heard_text`` is the speech's text up to the last of them; ``time`` is when they
    became audible.
    """

    speech_id: str
    words: tuple[str, ...]
    heard_text: str
    time: float


@dataclass(frozen=True)
class ConversationItemAdded:
    """A message entered the chat history."""

    item: ChatMessage
    time: float


@dataclass(frozen=True)
class UserTurnExceeded:
    """The user's turn reached its :class:`~bargein.agent.options.UserTurnLimit`."""

    transcript: str
    reason: Literal["sentences", "words", "duration"]
    sentences: int
    words: int
    duration: float
    time: float


@dataclass(frozen=True)
class MetricsCollected:
    """A measurement: ``name`` (e.g. "stop_latency"), value in seconds, and details."""

    name: str
    value: float
    time: float
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ErrorEvent:
    """A provider failed (``source``: "vad", "stt", "llm", "tts", "input" for the audio
    input, or the hook that raised); with ``recoverable`` the session recovered and keeps
    listening, without it the session can no longer hear the caller (its audio input broke).
    """

    source: str
    error: BaseException
    recoverable: bool
    time: float


EVENT_TYPES: dict[str, type] = {
    "user_input_transcribed": UserInputTranscribed,
    "agent_state_changed": AgentStateChanged,
    "user_state_changed": UserStateChanged,
    "speech_created": SpeechCreated,
    "agent_false_interruption": AgentFalseInterruption,
    "agent_interrupted": AgentInterrupted,
    "agent_words_heard": AgentWordsHeard,
    "conversation_item_added": ConversationItemAdded,
    "user_turn_exceeded": UserTurnExceeded,
    "metrics": MetricsCollected,
    "error": ErrorEvent,
}


class EventEmitter:
    """Named events with plain or async callbacks; unknown names are refused."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Callable[[Any], Any]]] = {n: [] for n in EVENT_TYPES}
        self._tasks: set[asyncio.Task[Any]] = set()

    def on(self, name: str, callback: Callable[[Any], Any] | None = None) -> Any:
        """Subscribe ``callback`` to ``name``; without a callback, works as a decorator."""
        if name not in self._handlers:
            known = ", ".join(sorted(self._handlers))
            raise ValueError(f"unknown event {name!r}; events are: {known}")

        def register(cb: Callable[[Any], Any]) -> Callable[[Any], Any]:
            self._handlers[name].append(cb)
            return cb

        return register if callback is None else register(callback)

    def off(self, name: str, callback: Callable[[Any], Any]) -> None:
        """Unsubscribe."""
        self._handlers[name].remove(callback)

    def emit(self, name: str, event: Any) -> None:
        """Call every subscriber; a failing subscriber is logged, never breaks the session."""
        for cb in list(self._handlers[name]):
            try:
                result = cb(event)
                if asyncio.iscoroutine(result):
                    task = asyncio.get_running_loop().create_task(result)
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
            except Exception:
                _log.exception("handler of %r failed", name)
