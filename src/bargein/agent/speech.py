"""SpeechHandle: one thing the agent says, from scheduling to the end of its playout."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

from bargein.providers.types import WordTiming

_ids = itertools.count(1)


class SpeechHandle:
    """A scheduled, playing or finished agent speech.

    ``await handle`` (or ``await handle.wait_for_playout()``) returns when it has played out,
    was interrupted or failed. ``interrupted`` tells which; ``heard_text`` holds the words the
    user actually heard.
    """

    def __init__(self, *, allow_interruptions: bool, source: str,
                 interrupt_callback: Callable[[SpeechHandle, str], None]) -> None:
        self.id = f"speech_{next(_ids)}"
        self.allow_interruptions = allow_interruptions
        self.source = source
        self.text = ""
        self.heard_text = ""
        #: Word timings on the speech's own timeline (seconds from its first sample).
        self.words: tuple[WordTiming, ...] = ()
        self.error: BaseException | None = None
        self._interrupted = False
        self._done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._interrupt_callback = interrupt_callback
        self.started_at: float | None = None  # session time of its first audible frame
        self.ended_at: float | None = None  # session time its playout ended
        #: Seconds of audio generated for it, and seconds of that which played.
        self.duration = 0.0
        self.played = 0.0

    @property
    def interrupted(self) -> bool:
        """True if the speech was cut before its end (barge-in, interrupt(), or dropped)."""
        return self._interrupted

    def done(self) -> bool:
        """True once the speech has finished for any reason."""
        return self._done.done()

    def interrupt(self, *, force: bool = False) -> None:
        """Stop this speech now (or drop it if still queued).

        An uninterruptible speech refuses unless ``force=True``.
        """
        if self.done():
            return
        if not self.allow_interruptions and not force:
            raise RuntimeError(
                f"{self.id} was created with allow_interruptions=False; "
                "pass force=True to stop it anyway"
            )
        self._interrupt_callback(self, "forced")

    async def wait_for_playout(self) -> None:
        """Wait until the speech has finished (played out, interrupted or failed)."""
        await asyncio.shield(self._done)

    def add_done_callback(self, callback: Callable[[SpeechHandle], Any]) -> None:
        """Call ``callback(handle)`` when the speech finishes."""
        self._done.add_done_callback(lambda _: callback(self))

    def __await__(self):  # type: ignore[no-untyped-def]
        return self.wait_for_playout().__await__()

    def _mark_done(self, *, interrupted: bool) -> None:
        if self._done.done():
            return
        self._interrupted = interrupted
        self._done.set_result(None)

    def __repr__(self) -> str:
        state = "done" if self.done() else "pending"
        return (f"SpeechHandle({self.id}, {self.source}, {state}, "
                f"interrupted={self._interrupted}, allow_interruptions={self.allow_interruptions})")
