"""Agent: instructions, tools, interruption setting, and the hooks a session calls."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bargein.providers.llm import ChatMessage, ToolSpec

if TYPE_CHECKING:
    from bargein.agent.chat import ChatContext
    from bargein.agent.events import UserTurnExceeded
    from bargein.agent.session import AgentSession

#: What the agent says when it cuts in on a user who talks too long (the default hook).
DEFAULT_CUT_IN_PHRASE = "Sorry, can I pause you there?"

#: Instruction for the reply after the cut-in: acknowledge, then refocus.
DEFAULT_REFOCUS_INSTRUCTIONS = (
    "The user has been speaking for a long time. Acknowledge and redirect: briefly "
    "acknowledge what they said so far, then refocus on their main question."
)


class StopResponse(Exception):
    """Raise in ``on_user_turn_completed`` to take the user's turn without replying."""


@dataclass(frozen=True)
class FunctionTool:
    """A Python function the LLM may call. Build one with :func:`function_tool`."""

    fn: Callable[..., Any]
    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def tool_spec(self) -> ToolSpec:
        """The description sent to the LLM."""
        return ToolSpec(self.name, self.description, self.parameters)

    async def call(self, arguments: str) -> str:
        """Run the tool with JSON ``arguments``; the result as text for the LLM."""
        try:
            kwargs = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as exc:
            raise ValueError(f"tool {self.name!r} got arguments that are not JSON: "
                             f"{arguments!r}") from exc
        result = self.fn(**kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result if isinstance(result, str) else json.dumps(result)


_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}


def function_tool(fn: Callable[..., Any] | None = None, *, name: str | None = None,
                  description: str | None = None) -> Any:
    """Decorator turning a function into a :class:`FunctionTool` (parameters from its signature)."""

    def wrap(f: Callable[..., Any]) -> FunctionTool:
        props: dict[str, Any] = {}
        required = []
        for pname, param in inspect.signature(f).parameters.items():
            props[pname] = {"type": _JSON_TYPES.get(param.annotation, "string")}
            if param.default is inspect.Parameter.empty:
                required.append(pname)
        schema = {"type": "object", "properties": props, "required": required}
        doc = (description or inspect.getdoc(f) or "").strip()
        return FunctionTool(f, name or f.__name__, doc, schema)

    return wrap(fn) if fn is not None else wrap


class Agent:
    """What the agent is: its instructions, tools and whether it may be interrupted.

    ``allow_interruptions=None`` inherits the session's setting. Subclass and override the
    hooks to change behaviour:

    - :meth:`on_enter` when the session starts with this agent;
    - :meth:`on_user_turn_completed` before replying to a finished user turn;
    - :meth:`on_user_turn_exceeded` when a user turn reaches the session's ``turn_limit``.
    """

    def __init__(self, *, instructions: str = "", allow_interruptions: bool | None = None,
                 tools: Sequence[FunctionTool] = ()) -> None:
        self.instructions = instructions
        self.allow_interruptions = allow_interruptions
        self.tools = list(tools)
        self._session: AgentSession | None = None

    @property
    def session(self) -> AgentSession:
        """The session running this agent."""
        if self._session is None:
            raise RuntimeError("this agent is not running in a session yet")
        return self._session

    async def on_enter(self) -> None:
        """Called once the session has started. Default: nothing (wait for the user)."""

    async def on_user_turn_completed(self, turn_ctx: ChatContext, new_message: ChatMessage) -> None:
        """Called before the reply to ``new_message``; raise :class:`StopResponse` to skip it."""

    async def on_user_turn_exceeded(self, event: UserTurnExceeded) -> None:
        """The user talked past the turn limit. Default: cut in, then acknowledge and refocus.

        Both speeches are uninterruptible so the user cannot talk over the cut-in. When no
        word of the turn was transcribed yet (``event.transcript`` is empty: a recognizer
        without interim results), there is nothing to refocus on: the agent only cuts in,
        and the turn is answered as usual once its words arrive.
        """
        self.session.say(DEFAULT_CUT_IN_PHRASE, allow_interruptions=False)
        if not event.transcript:
            return
        self.session.generate_reply(
            user_input=event.transcript,
            instructions=DEFAULT_REFOCUS_INSTRUCTIONS,
            allow_interruptions=False,
        )
