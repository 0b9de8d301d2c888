"""The Pipecat adapter: a user's Pipecat pipeline under test, in-process, offline.

:class:`PipecatAdapter` builds a Pipecat ``PipelineWorker`` with a factory that receives a
:class:`PipecatContext`: the scenario's sample rate and ground truth, and a
:class:`~bargein.pipecat.RoomTransport` whose input is the scenario room's microphone and
whose output is the room's speaker. The pipeline runs in the same event loop as the scenario,
with Pipecat's own machinery unchanged:

- barge-in is Pipecat's: its VAD and user-turn start strategies decide when the user
  interrupts, and its ``InterruptionFrame`` stops the output (the room's buffer is cleared
  within a frame, as a phone serializer's ``clear`` does); the native cancel signal is
  Pipecat's ``InterruptionWorkerFrame``, which respects uninterruptible frames;
- playout is the room's: the output waits while the room's speaker buffer is full, and the
  words reported as heard (``agent_words``) are Pipecat's word frames placed in the audio and
  reported when their first sample plays;
- Pipecat's own record of what it said (``on_assistant_turn_stopped`` of its assistant
  aggregators, with ``interrupted``) is reported as ``agent_message``, so the metrics compare
  it with what was heard.

Time: Pipecat reads the wall clock (the time module's ``time()``, ``monotonic()``...) in many
places. While an adapter runs on bargein's virtual-time loop, those reads inside ``pipecat.*``
modules (and the timestamps its frames stamp at creation) follow the loop clock, so a
pipeline runs in virtual time, deterministic and faster than real time. On an ordinary loop
nothing changes.

Needs the extra ``pipecat``: ``pip install 'bargein[pipecat]'``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from bargein._extras import require
from bargein.adapters.base import AdapterLink, AgentAdapter, Capabilities
from bargein.adapters.inprocess import BuildContext
from bargein.adapters.loop_clock import REAL_TIME, LoopClockPatch, loop_wall_time
from bargein.errors import BargeinError, UnsupportedCapabilityError

require("pipecat", extra="pipecat", feature="the Pipecat adapter")

from pipecat.frames.frames import (  # noqa: E402
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    ErrorFrame,
    InterimTranscriptionFrame,
    InterruptionWorkerFrame,
    LLMFullResponseStartFrame,
    TranscriptionFrame,
    UserStoppedSpeakingFrame,
)
from pipecat.observers.base_observer import BaseObserver, FramePushed  # noqa: E402
from pipecat.pipeline.worker import PipelineWorker  # noqa: E402
from pipecat.processors.aggregators.llm_response_universal import (  # noqa: E402
    LLMAssistantAggregator,
)
from pipecat.processors.frame_processor import FrameProcessor  # noqa: E402
from pipecat.workers.runner import WorkerRunner  # noqa: E402

from bargein.pipecat import STT, TTS  # noqa: E402
from bargein.pipecat.transport import RoomTransport  # noqa: E402

__all__ = ["PipecatAdapter", "PipecatContext", "PipecatFactory", "loop_clock"]


@dataclass(frozen=True)
class PipecatContext(BuildContext):
    """What the factory of :class:`PipecatAdapter` gets: the scenario's rate and truth, and
    ``transport``, the room transport to put at both ends of the pipeline."""

    transport: RoomTransport | None = None


#: ``factory(context) -> PipelineWorker``: a Pipecat worker, not yet running.
PipecatFactory = Callable[[PipecatContext], PipelineWorker]


# -- wall-clock reads on the loop clock (virtual time) -------------------------------------------

_patched_factories: list[tuple[Any, Any]] = []


def _patch_frame_timestamps(install: bool) -> None:
    """Pipecat frames stamp ``timestamp`` with the time module's ``time`` captured when the
    dataclass was made; its turn logic compares those stamps with a fresh reading of that
    clock. Point the captured factories at the loop clock too."""
    if not install:
        for cell, factory in _patched_factories:
            cell.cell_contents = factory
        _patched_factories.clear()
        return
    from pipecat.frames import frames

    for obj in vars(frames).values():
        init = getattr(obj, "__init__", None) if isinstance(obj, type) else None
        code = getattr(init, "__code__", None)
        if code is None or init.__closure__ is None:
            continue
        for name, cell in zip(code.co_freevars, init.__closure__, strict=False):
            if name.startswith("_dflt_") and cell.cell_contents is REAL_TIME:
                _patched_factories.append((cell, REAL_TIME))
                cell.cell_contents = loop_wall_time


_PATCH = LoopClockPatch("pipecat", extra=_patch_frame_timestamps)


def loop_clock() -> contextlib.AbstractContextManager[None]:
    """Within the block, Pipecat's wall-clock reads follow the event loop's clock when that
    loop is bargein's virtual-time loop (nothing changes on an ordinary loop). Nestable."""
    return _PATCH.active()


# -- what the pipeline does, as adapter events ---------------------------------------------------


class _Reporter(BaseObserver):
    """Turns the frames Pipecat pushes into adapter events (states, transcripts, errors)."""

    def __init__(self, link: AdapterLink) -> None:
        super().__init__()
        self._link = link
        self._seen: set[int] = set()
        self._state = "listening"

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self._link.report("agent_state", state=state)

    async def on_push_frame(self, data: FramePushed) -> None:
        frame = data.frame
        if frame.id in self._seen:
            return  # a frame is pushed once per hop; report it once
        if isinstance(frame, BotStartedSpeakingFrame):
            self._set_state("speaking")
        elif isinstance(frame, BotStoppedSpeakingFrame):
            self._set_state("listening")
        elif isinstance(frame, (UserStoppedSpeakingFrame, LLMFullResponseStartFrame)):
            if self._state != "speaking":
                self._set_state("thinking")
        elif isinstance(frame, (TranscriptionFrame, InterimTranscriptionFrame)):
            self._link.report("user_transcript", text=frame.text,
                              final=isinstance(frame, TranscriptionFrame))
        elif isinstance(frame, ErrorFrame):
            self._link.report("error", source=type(data.source).__name__, message=frame.error)
        else:
            return
        self._seen.add(frame.id)


def processors(root: Any) -> Iterator[FrameProcessor]:
    """Every processor of a pipeline (or worker), nested pipelines included."""
    stack = [root.pipeline if isinstance(root, PipelineWorker) else root]
    seen: set[int] = set()
    while stack:
        proc = stack.pop()
        if id(proc) in seen:
            continue
        seen.add(id(proc))
        if isinstance(proc, FrameProcessor):
            yield proc
        stack.extend(getattr(proc, "processors", None) or ())
        stack.extend(getattr(proc, "_processors", None) or ())


# -- the adapter ---------------------------------------------------------------------------------


class PipecatAdapter(AgentAdapter):
    """Runs a Pipecat pipeline built by ``factory(context) -> PipelineWorker``.

    Put ``context.transport.input()`` first and ``context.transport.output()`` after the TTS
    in the pipeline. Declared capabilities:

    - ``native_vad``: yes, Pipecat's own VAD and user-turn strategies interrupt the bot;
    - ``interruption``: yes, the cancel signal is Pipecat's ``InterruptionWorkerFrame``
      (uninterruptible frames survive it, as they survive a barge-in);
    - ``streaming_transcripts``: words as they are heard, from the word timestamps of a TTS
      that gives them (:class:`bargein.pipecat.TTS` does). With another TTS pass
      ``streaming_transcripts=False``; starting one without it raises a clear error.

    An :class:`bargein.pipecat.STT` oracle is bound to the scenario's truth when the pipeline
    starts. ``start_timeout`` (seconds on the loop clock) bounds the pipeline's start.
    """

    def __init__(self, factory: PipecatFactory, *, name: str = "pipecat",
                 streaming_transcripts: bool = True, start_timeout: float = 30.0) -> None:
        if not callable(factory):
            raise TypeError(f"factory must be callable, got {type(factory).__name__}")
        if not start_timeout > 0:
            raise ValueError(f"start_timeout must be > 0 s, got {start_timeout!r}")
        self.factory = factory
        self.name = name
        self.start_timeout = float(start_timeout)
        self.capabilities = Capabilities(streaming_transcripts=streaming_transcripts,
                                         native_vad=True, interruption=True)
        self.worker: PipelineWorker | None = None
        self.messages: list[dict[str, Any]] = []
        """Every assistant turn Pipecat recorded: ``text``, ``interrupted``, ``time``."""
        self._runner: WorkerRunner | None = None
        self._task: asyncio.Task[None] | None = None
        self._clock: contextlib.ExitStack | None = None
        self._forced = False

    async def start(self, link: AdapterLink) -> None:
        self._clock = contextlib.ExitStack()
        self._clock.enter_context(loop_clock())

        def word(text: str, delay: float) -> None:
            link.report("agent_words", time=link.now() + delay, words=(text,))

        def interrupted() -> None:
            link.report("agent_interrupted", reason="forced" if self._forced else "barge_in")
            self._forced = False

        transport = RoomTransport(
            link.audio_input, link.audio_output,
            on_word=word if self.capabilities.streaming_transcripts else None,
            on_interrupted=interrupted)
        worker = self.factory(PipecatContext(link.sample_rate, link.truth, transport))
        if not isinstance(worker, PipelineWorker):
            raise TypeError("the factory of PipecatAdapter must return a pipecat "
                            f"PipelineWorker, got {type(worker).__name__}")
        self.worker = worker
        found = list(processors(worker))
        if transport.input() not in found or transport.output() not in found:
            raise BargeinError("the Pipecat pipeline must hold context.transport.input() and "
                               "context.transport.output(): the room is its audio")
        self._bind_oracles(found, link)
        if self.capabilities.streaming_transcripts and not any(isinstance(p, TTS)
                                                               for p in found):
            raise UnsupportedCapabilityError(
                "streaming_transcripts", self.name,
                "heard words come from the word timestamps of bargein.pipecat.TTS; with "
                "another TTS build the adapter with streaming_transcripts=False "
                "(interrupt(after=<seconds>) still works)")
        self._watch_assistant_turns(found, link)
        worker.add_observer(_Reporter(link))
        started = asyncio.get_running_loop().create_future()

        @worker.event_handler("on_pipeline_started")
        async def on_started(_worker: Any, _frame: Any) -> None:
            if not started.done():
                started.set_result(None)

        self._runner = WorkerRunner(handle_sigint=False, check_dangling_tasks=False)
        await self._runner.add_workers(worker)
        self._task = asyncio.get_running_loop().create_task(self._runner.run(),
                                                            name="bargein-pipecat")
        self._task.add_done_callback(lambda t: started.done() or started.set_exception(
            BargeinError("the Pipecat pipeline stopped before it started")))
        try:
            await asyncio.wait_for(asyncio.shield(started), self.start_timeout)
        except TimeoutError:
            raise BargeinError(f"the Pipecat pipeline did not start within "
                               f"{self.start_timeout:g} s") from None
        _PATCH.patch_new_modules()  # modules Pipecat imported while starting

    def _bind_oracles(self, found: list[FrameProcessor], link: AdapterLink) -> None:
        for proc in found:
            if isinstance(proc, STT) and proc.needs_truth:
                if link.truth is None:
                    raise BargeinError("bargein.pipecat.STT.oracle() needs the scenario's "
                                       "ground truth, and this run provides none")
                proc.bind(link.truth)

    def _watch_assistant_turns(self, found: list[FrameProcessor], link: AdapterLink) -> None:
        for proc in found:
            if not isinstance(proc, LLMAssistantAggregator):
                continue

            @proc.event_handler("on_assistant_turn_stopped")
            async def on_turn(_aggregator: Any, message: Any) -> None:
                text = (message.content or "").strip()
                if not text:
                    return
                interrupted = bool(message.interrupted)
                self.messages.append({"time": link.now(), "text": text,
                                      "interrupted": interrupted})
                link.report("agent_message", text=text, interrupted=interrupted)

    async def interrupt(self) -> None:
        if self.worker is None:
            await super().interrupt()
            return
        self._forced = True
        await self.worker.queue_frame(InterruptionWorkerFrame())

    async def close(self) -> None:
        try:
            if self.worker is not None and self._task is not None and not self._task.done():
                await self.worker.cancel(reason="scenario finished")
                if self._runner is not None:
                    await self._runner.cancel()
                await asyncio.gather(self._task, return_exceptions=True)
        finally:
            if self._clock is not None:
                self._clock.close()
                self._clock = None
