"""What the agent says: the queue of speeches, and the LLM + tool loop that writes replies.

:class:`SpeechQueue` plays scheduled speeches one at a time through a
:class:`~bargein.agent.player.SpeechPlayer` and tells a :class:`SpeechListener` (the session)
when a speech starts (thinking), becomes audible, has words heard, and ends.
:func:`llm_reply_text` streams the text of a reply, running the agent's tools between model
rounds.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bargein.agent.agent import FunctionTool
from bargein.agent.player import SpeechPlayer, with_timeout
from bargein.agent.speech import SpeechHandle
from bargein.errors import ProviderError
from bargein.io import AudioOutput
from bargein.providers.llm import LLM, ChatMessage, LLMChunk, ToolCall
from bargein.providers.tts import TTS
from bargein.providers.types import WordTiming

__all__ = ["MAX_TOOL_ROUNDS", "SpeechListener", "SpeechQueue", "TextSource", "llm_reply_text"]

#: Model rounds a reply may spend calling tools before it must answer.
MAX_TOOL_ROUNDS = 4

#: Makes the text of one speech: a whole string for ``say``, LLM deltas for a reply.
TextSource = Callable[[], AsyncIterator[str]]


class SpeechListener(Protocol):
    """What the queue tells the session about the speech in progress."""

    def speech_started(self, handle: SpeechHandle) -> None:
        """``handle`` became current: its text and audio are being prepared."""

    def speech_audible(self, handle: SpeechHandle) -> None:
        """The first audio of ``handle`` went to the output."""

    def speech_words(self, handle: SpeechHandle, player: SpeechPlayer,
                     words: list[WordTiming], at: float) -> None:
        """``words`` of ``handle`` started playing at loop time ``at``."""

    def speech_finished(self, handle: SpeechHandle, player: SpeechPlayer, *,
                        interrupted: bool, add_to_chat: bool) -> None:
        """``handle`` ended (played out, interrupted or failed)."""


@dataclass
class _Plan:
    source: TextSource
    add_to_chat: bool
    #: a preemptive reply: prepared, not played, and unknown to the listener until released
    released: asyncio.Event | None = None
    dropped: bool = False


class SpeechQueue:
    """Speeches in order, one playing at a time (see the module docstring)."""

    def __init__(self, listener: SpeechListener, *, tts: TTS, output: AudioOutput,
                 sample_rate: int, frame_duration: float, provider_timeout: float,
                 report_error: Callable[[str, BaseException], None]) -> None:
        self._listener = listener
        self._tts, self._output = tts, output
        self._rate, self._frame_duration = sample_rate, frame_duration
        self._timeout = provider_timeout
        self._report_error = report_error
        self._queue: list[SpeechHandle] = []
        self._plans: dict[SpeechHandle, _Plan] = {}
        self._changed = asyncio.Event()
        self.current: SpeechHandle | None = None
        self.player: SpeechPlayer | None = None
        #: a preemptive reply being prepared (see :meth:`prepare`), not yet released
        self.held: SpeechHandle | None = None
        self._preparing_plan: _Plan | None = None

    @property
    def queued(self) -> tuple[SpeechHandle, ...]:
        """Speeches waiting their turn, first to play first."""
        return tuple(self._queue)

    @property
    def idle(self) -> bool:
        """True when nothing plays, nothing waits and nothing is being prepared."""
        return self.current is None and not self._queue and self.held is None

    def schedule(self, handle: SpeechHandle, source: TextSource, *, add_to_chat: bool) -> None:
        """Play ``handle`` after what is already scheduled (a reply being prepared is
        dropped: what comes now was not foreseen by it)."""
        self.cancel_held()
        self._plans[handle] = _Plan(source, add_to_chat)
        self._queue.append(handle)
        self._changed.set()

    def prepare(self, handle: SpeechHandle, source: TextSource) -> None:
        """Start making ``handle`` (LLM, TTS) without playing it; the listener hears of it
        only once :meth:`release` lets it play. Only when idle."""
        if not self.idle:
            raise RuntimeError("a reply can only be prepared while nothing else is scheduled")
        self.held = handle
        self._plans[handle] = _Plan(source, add_to_chat=True, released=asyncio.Event())
        self._queue.append(handle)
        self._changed.set()

    def release(self, handle: SpeechHandle) -> None:
        """Let the prepared ``handle`` play (from its first sample)."""
        plan = self._plans.get(handle) or self._preparing_plan
        if handle is self.held:
            self.held = None
        if plan is not None and plan.released is not None:
            plan.released.set()

    def cancel_held(self) -> None:
        """Drop the reply being prepared, without a sound or a word to the listener."""
        handle, self.held = self.held, None
        if handle is None:
            return
        plan = self._plans.get(handle) or self._preparing_plan
        if plan is not None and plan.released is not None:
            plan.dropped = True
            plan.released.set()  # wakes _play, which stops it
        self.drop(handle)

    def drop(self, handle: SpeechHandle) -> None:
        """Remove a queued speech; it ends as interrupted without a sound."""
        if handle in self._queue:
            self._queue.remove(handle)
            self._plans.pop(handle, None)
        if handle is not self.current:
            handle._mark_done(interrupted=True)

    def drop_queued(self, *, force: bool = False) -> None:
        """Drop queued speeches (uninterruptible ones only with ``force``)."""
        self.cancel_held()
        for handle in list(self._queue):
            if handle.allow_interruptions or force:
                self.drop(handle)

    def stop_current(self) -> bool:
        """Cut the speech in progress now; False if none was playing."""
        if self.current is None or self.player is None or self.current.done():
            return False
        self.player.interrupt()
        return True

    async def run(self) -> None:
        """Play speeches as they are scheduled, until cancelled."""
        while True:
            while not self._queue:
                self._changed.clear()
                await self._changed.wait()
            handle = self._queue.pop(0)
            if handle.done():
                continue
            await self._play(handle, self._plans.pop(handle))

    def close(self) -> None:
        """Drop everything and cut the current speech."""
        self.drop_queued(force=True)
        self.stop_current()

    async def _play(self, handle: SpeechHandle, plan: _Plan) -> None:
        listener = self._listener
        audible = False

        def on_audio() -> None:
            nonlocal audible
            audible = True
            if plan.released is None or plan.released.is_set():
                listener.speech_audible(handle)

        def on_words(new: list[WordTiming], at: float) -> None:
            listener.speech_words(handle, player, new, at)

        player = SpeechPlayer(
            plan.source(), tts=self._tts, output=self._output, sample_rate=self._rate,
            frame_duration=self._frame_duration, provider_timeout=self._timeout,
            on_audio=on_audio, on_words=on_words,
        )
        self.player = player
        run = asyncio.ensure_future(player.run())
        if plan.released is not None:  # prepared ahead: held until released (or dropped)
            self._preparing_plan = plan
            player.pause()
            try:
                await plan.released.wait()
            finally:
                self._preparing_plan = None
            if plan.dropped:  # never heard: stop the work, tell nobody
                player.interrupt()
                await asyncio.gather(run, return_exceptions=True)
                self.player = None
                handle._mark_done(interrupted=True)
                return
        self.current = handle
        listener.speech_started(handle)
        if plan.released is not None:
            if audible:
                listener.speech_audible(handle)
            player.resume(from_word=False)
        try:
            interrupted = await run
        except Exception as exc:  # an output failure: report, recover
            interrupted = True
            self._report_error("audio_output", exc)
        finally:
            self.current, self.player = None, None
        listener.speech_finished(handle, player, interrupted=interrupted,
                                 add_to_chat=plan.add_to_chat)


async def llm_reply_text(llm: LLM, messages: list[ChatMessage], *,
                         tools: Sequence[FunctionTool], provider_timeout: float,
                         report_error: Callable[[str, BaseException], None]
                         ) -> AsyncIterator[str]:
    """Stream the text of a reply to ``messages``, calling ``tools`` when the model asks."""
    for _round in range(MAX_TOOL_ROUNDS):
        calls: list[ToolCall] = []
        stream = llm.chat(messages, tools=list(tools) or None)
        async for chunk in with_timeout(_closing(stream), provider_timeout, "the LLM"):
            if not isinstance(chunk, LLMChunk) or not isinstance(chunk.text, str):
                text = getattr(chunk, "text", chunk)
                raise ProviderError(f"the LLM streamed {type(text).__name__} "
                                    f"{str(text)[:40]!r} where text was due")
            if chunk.text:
                yield chunk.text
            calls.extend(chunk.tool_calls)
        if not calls:
            return
        messages.append(ChatMessage("assistant", "", tool_calls=tuple(calls)))
        for call in calls:
            result = await _run_tool(tools, call, report_error)
            messages.append(ChatMessage("tool", result, tool_call_id=call.id))


async def _run_tool(tools: Sequence[FunctionTool], call: ToolCall,
                    report_error: Callable[[str, BaseException], None]) -> str:
    for tool in tools:
        if tool.name == call.name:
            try:
                return await tool.call(call.arguments)
            except Exception as exc:
                report_error(f"tool:{call.name}", exc)
                return f"error: {exc}"
    return f"error: no tool named {call.name!r}"


async def _closing(stream: AsyncIterator[LLMChunk]) -> AsyncIterator[LLMChunk]:
    async with contextlib.aclosing(stream):  # type: ignore[type-var]
        async for chunk in stream:
            yield chunk
