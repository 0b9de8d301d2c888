"""Agent files: a Python file that says how to build an agent and its session.

``bargein console PATH`` and ``bargein serve PATH`` load an agent from a file. The file
defines (the examples in ``examples/agents/`` follow it):

- ``build_session(providers) -> AgentSession`` (required): the session with its options.
  ``providers`` has ``vad``, ``stt``, ``llm`` and ``tts`` attributes.
- the agent: ``build_agent() -> Agent`` if the file defines it, else the one
  :class:`~bargein.agent.Agent` subclass defined in the file (instantiated without
  arguments);
- ``build_llm() -> LLM`` (optional): the LLM to put into ``providers``; by default the
  rule-based support responder (:class:`~bargein.providers.rule_based_llm.RuleBasedLLM`).

The file runs like a script run by ``python PATH``: its folder is put on ``sys.path`` first,
so sibling modules (such as the examples' ``_common.py``) import.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from bargein.agent import Agent, AgentSession
from bargein.errors import BargeinError
from bargein.providers.llm import LLM
from bargein.providers.local_stack import (
    AGENT_VOICE,
    STT_KINDS,
    LocalStack,
    local_stack,
    make_stt,
)

#: Voice of the agent (the examples' agent voice) and of the typed user's lines.
USER_VOICE = "en-us+m3"
#: ``local``: pocketsphinx interims + Whisper finals; ``whisper``: Whisper finals only
#: (lighter: what a busy server uses); ``oracle``: the words typed in the text console
#: (no recognition; text mode only).
STT_CHOICES = STT_KINDS


class AgentFileError(BargeinError):
    """An agent file is missing, fails to load, or does not follow the convention."""


#: The providers a session is built with (``build_session(providers)``): bargein's offline
#: stack (:class:`~bargein.providers.local_stack.LocalStack`).
LiveProviders = LocalStack


@dataclass
class AgentSpec:
    """How to build one live conversation: a session and its agent, from an agent file."""

    name: str
    build_session: Callable[[Any], AgentSession]
    build_agent: Callable[[], Agent]
    build_llm: Callable[[], LLM] | None = None
    source: str = ""

    def new(self, providers: LiveProviders) -> tuple[Agent, AgentSession]:
        """A fresh agent and session on ``providers`` (one per conversation)."""
        session = self.build_session(providers)
        if not isinstance(session, AgentSession):
            raise AgentFileError(f"{self.source}: build_session() returned "
                                 f"{type(session).__name__}, not an AgentSession")
        agent = self.build_agent()
        if not isinstance(agent, Agent):
            raise AgentFileError(f"{self.source}: the agent factory returned "
                                 f"{type(agent).__name__}, not an Agent")
        return agent, session

    def llm(self) -> LLM:
        """The LLM of this agent file (``build_llm()``) or the rule-based default."""
        if self.build_llm is not None:
            return self.build_llm()
        from bargein.providers.rule_based_llm import RuleBasedLLM

        return RuleBasedLLM()


def spec_from_module(module: ModuleType, *, source: str | None = None) -> AgentSpec:
    """The :class:`AgentSpec` of an already imported agent module."""
    where = source or getattr(module, "__file__", None) or module.__name__
    build_session = getattr(module, "build_session", None)
    if not callable(build_session):
        raise AgentFileError(
            f"{where}: an agent file must define build_session(providers) -> AgentSession "
            "(see docs/live.md, 'Agent files')")
    build_agent = getattr(module, "build_agent", None)
    if build_agent is None:
        own = [obj for obj in vars(module).values()
               if inspect.isclass(obj) and issubclass(obj, Agent) and obj is not Agent
               and obj.__module__ == module.__name__]
        if len(own) != 1:
            found = ", ".join(sorted(c.__name__ for c in own)) or "none"
            raise AgentFileError(
                f"{where}: define build_agent() -> Agent, or exactly one Agent subclass "
                f"(found: {found})")
        build_agent = own[0]
    if not callable(build_agent):
        raise AgentFileError(f"{where}: build_agent must be callable")
    build_llm = getattr(module, "build_llm", None)
    if build_llm is not None and not callable(build_llm):
        raise AgentFileError(f"{where}: build_llm must be callable")
    name = Path(where).stem if where.endswith(".py") else module.__name__
    return AgentSpec(name, build_session, build_agent, build_llm, where)


def load_agent_file(path: str | Path) -> AgentSpec:
    """Import the agent file at ``path`` (its folder first on ``sys.path``) and read it."""
    file = Path(path).expanduser().resolve()
    if file.is_dir():
        raise AgentFileError(f"{path}: is a folder; give the agent's .py file")
    if not file.is_file():
        raise AgentFileError(f"{path}: no such agent file")
    folder = str(file.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    module_name = f"bargein_agent_{file.stem}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise AgentFileError(f"{path}: cannot be imported as a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BargeinError:
        raise
    except SystemExit as exc:  # exiting while being imported would end the command silently
        del sys.modules[module_name]
        raise AgentFileError(f"{path}: the file called sys.exit({exc.code!r}) while being "
                             "loaded; an agent file only defines build_session() and the "
                             "agent (move script code under if __name__ == '__main__':)"
                             ) from None
    except Exception as exc:
        del sys.modules[module_name]
        raise AgentFileError(f"{path}: failed to load: {type(exc).__name__}: {exc}") from exc
    return spec_from_module(module, source=str(file))


def live_providers(spec: AgentSpec, *, stt: str = "local", truth: Any = None,
                   voice: str = AGENT_VOICE) -> LiveProviders:
    """Offline providers for a live run: the local stack (Silero VAD, espeak-ng ``voice``,
    the turn detector when installed) with the file's LLM and the STT named by ``stt`` (see
    :data:`STT_CHOICES`; ``oracle`` reads ``truth``)."""
    if stt == "oracle" and truth is None:
        make_stt(stt, truth)  # the same clear error as before: the oracle needs the truth
    return local_stack(stt, truth=truth, llm=spec.llm(), voice=voice)


async def warm_up(providers: LiveProviders) -> None:
    """Load the recognizer's model now, rather than when the user first stops talking."""
    loop = asyncio.get_running_loop()
    for stt in (providers.stt, getattr(providers.stt, "final", None)):
        load = getattr(stt, "load", None)
        if callable(load):
            await loop.run_in_executor(None, load)
