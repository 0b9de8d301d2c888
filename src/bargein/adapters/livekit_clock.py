"""LiveKit's wall-clock reads answered from the loop clock while bargein's virtual-time loop runs.

LiveKit reads the time module besides the event loop (``time()``, ``perf_counter()``), and
its pydantic models stamp ``created_at`` with a default factory captured at import.
:func:`loop_clock` points both at the running loop's clock for as long as it is entered, so a
LiveKit session runs in virtual time; on an ordinary loop nothing changes.
"""

from __future__ import annotations

import contextlib
from typing import Any

from bargein.adapters.loop_clock import REAL_TIME, LoopClockPatch, loop_wall_time

__all__ = ["loop_clock"]


def _patch_pydantic_defaults(install: bool) -> None:
    """pydantic models stamp ``created_at`` with ``time.time`` captured at import: point those
    default factories at the loop clock too, so chat items keep a consistent order."""
    if not install:
        rebuilt = set()
        for model, field_name, factory in _patched_fields:
            model.model_fields[field_name].default_factory = factory
            rebuilt.add(model)
        _patched_fields.clear()
        for model in rebuilt:
            model.model_rebuild(force=True)
        return
    from livekit.agents.llm import chat_context
    from livekit.agents.voice import events
    from pydantic import BaseModel

    for module in (events, chat_context):
        for obj in vars(module).values():
            if not (isinstance(obj, type) and issubclass(obj, BaseModel)):
                continue
            changed = False
            for field_name, info in obj.model_fields.items():
                if info.default_factory is REAL_TIME:
                    _patched_fields.append((obj, field_name, info.default_factory))
                    info.default_factory = loop_wall_time
                    changed = True
            if changed:
                obj.model_rebuild(force=True)


_patched_fields: list[tuple[Any, str, Any]] = []
_PATCH = LoopClockPatch("livekit", extra=_patch_pydantic_defaults)


def loop_clock() -> contextlib.AbstractContextManager[None]:
    """Within the block, LiveKit's wall-clock reads follow the event loop's clock when that
    loop is bargein's virtual-time loop (nothing changes on an ordinary loop). Nestable;
    the adapter enters it for as long as a session runs."""
    return _PATCH.active()
