"""Produces and plays one agent speech: text or an LLM stream -> sentences -> TTS -> output.

Generation runs ahead of playout (sentence by sentence), playout is paced by the output, and
the player keeps the audio and word timings of the whole speech so it can pause, resume from
the word in progress, or stop and say exactly which words were heard.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import TypeVar

from bargein.agent.chat import heard_text
from bargein.audio.frame import AudioFrame
from bargein.audio.framing import FrameAssembler
from bargein.audio.resample import StreamResampler
from bargein.errors import ProviderError, ProviderTimeoutError
from bargein.io import AudioOutput
from bargein.providers.tts import TTS, TTSChunk
from bargein.providers.types import WordTiming
from bargein.text import unit_end

T = TypeVar("T")


async def with_timeout(source: AsyncIterable[T], seconds: float, what: str) -> AsyncIterator[T]:
    """Re-yield ``source``, raising ProviderTimeoutError if one item takes over ``seconds``."""
    iterator = aiter(source)
    deadline = _ItemDeadline(seconds)
    try:
        while True:
            deadline.start()
            try:
                item = await anext(iterator)
            except BaseException as exc:
                timed_out = deadline.stop()
                if isinstance(exc, StopAsyncIteration):
                    return
                if timed_out and isinstance(exc, asyncio.CancelledError):
                    raise ProviderTimeoutError(
                        f"{what} produced nothing for {seconds:g} s (provider_timeout)"
                    ) from None
                raise
            deadline.stop()
            yield item
    finally:
        deadline.close()
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()


class _ItemDeadline:
    """Cancels the waiting task when one wait (:meth:`start` to :meth:`stop`) lasts over
    ``seconds``, like ``asyncio.timeout`` around each wait, but with one loop timer for a
    whole stream: a stream yields an item per 20 ms frame, and a timer made and cancelled for
    each was a tenth of a simulation's per-frame work. The timer is set for the first wait's
    deadline; when it fires early (later waits started later), it is set again for the
    current wait's deadline, so a timeout fires exactly ``seconds`` after its wait began."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._loop = asyncio.get_running_loop()
        self._task: asyncio.Task[object] | None = None
        self._deadline: float | None = None  # of the wait in progress, None between waits
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._cancelling = 0  # the task's pending cancellations when the wait began
        self._expired = False

    def start(self) -> None:
        self._task = asyncio.current_task()
        assert self._task is not None, "with_timeout runs inside a task"
        self._cancelling = self._task.cancelling()
        self._deadline = self._loop.time() + self._seconds
        if self._timer is None:
            self._arm(self._deadline)

    def stop(self) -> bool:
        """End the wait; True if it timed out and nothing else cancelled the task meanwhile."""
        self._deadline = None
        if not self._expired:
            return False
        self._expired = False
        assert self._task is not None
        return self._task.uncancel() <= self._cancelling

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self, when: float) -> None:
        self._timer_at = when
        self._timer = self._loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._timer = None
        if self._deadline is None:  # between waits: the next start() sets the timer again
            return
        if self._deadline > self._timer_at:  # the wait in progress began after this was set
            self._arm(self._deadline)
            return
        assert self._task is not None
        self._expired = True
        self._task.cancel()


class SpeechPlayer:
    """Plays one speech on ``output``; see the module docstring.

    ``text`` yields the speech text in pieces (a whole string for ``say``, deltas from an
    LLM for a reply). ``on_audio`` is called once, when the first frame goes to the output.
    """

    def __init__(self, text: AsyncIterable[str], *, tts: TTS, output: AudioOutput,
                 sample_rate: int, frame_duration: float = 0.02, provider_timeout: float = 10.0,
                 on_audio: Callable[[], None] | None = None,
                 on_words: Callable[[list[WordTiming], float], None] | None = None) -> None:
        """``on_words(words, at)`` reports words whose audio started, ``at`` being the loop
        time the first of them became audible (needs an output that reports frames)."""
        self._text = text
        self._tts = tts
        self._output = output
        self._rate = sample_rate
        self._fd = frame_duration
        self._timeout = provider_timeout
        self._on_audio = on_audio
        self._on_words = on_words
        self._announced = 0  # words reported as heard so far
        self.frames: list[AudioFrame] = []
        self.words: list[WordTiming] = []
        self.full_text = ""
        self.error: BaseException | None = None
        self.error_source: str | None = None  # "llm" or "tts": which stage failed
        self._stage = "llm"
        self._generated = asyncio.Event()
        self._new_frames = asyncio.Event()
        self._cursor = 0  # next frame to hand to the output
        self._segment_base = 0.0  # speech time at which the current output segment starts
        self._heard = 0.0  # furthest speech time played so far
        self._interrupted = False
        self._rewinding = False
        self._paused = False
        self._pusher: asyncio.Task[None] | None = None
        self._generator: asyncio.Task[None] | None = None

    # -- state --------------------------------------------------------------------------

    @property
    def position(self) -> float:
        """Seconds of this speech played so far (the furthest point, across a rewind)."""
        return max(self._heard, self._segment_base + self._output.played)

    @property
    def paused(self) -> bool:
        """True between :meth:`pause` and :meth:`resume`."""
        return self._paused

    @property
    def audible(self) -> bool:
        """True once audio was handed to the output and while it is not paused."""
        return self._cursor > 0 and not self._paused and not self._interrupted

    @property
    def text(self) -> str:
        """Everything generated for this speech so far."""
        return self.full_text.strip()

    def heard_text(self) -> str:
        """The words the listener heard so far."""
        return heard_text(self.full_text, self.words, self.position)

    # -- control ------------------------------------------------------------------------

    def pause(self) -> None:
        """Hold playout at the current frame (a possible false interruption)."""
        if not self._paused and not self._interrupted:
            self._paused = True
            self._output.pause()

    def resume(self, *, from_word: bool = True) -> None:
        """Continue after :meth:`pause`; with ``from_word``, from the start of the word in
        progress so the listener hears it whole."""
        if not self._paused or self._interrupted:
            return
        self._paused = False
        position = self.position
        self._heard = position
        target = 0.0
        for word in self.words:
            if word.start <= position:
                target = word.start
        if not from_word or self._pusher is None:
            self._output.resume()
            return
        self._rewinding = True
        self._pusher.cancel()
        self._output.clear_buffer()
        self._cursor = min(int(target / self._fd + 1e-9), len(self.frames))
        self._segment_base = self._cursor * self._fd
        self._output.resume()

    def interrupt(self) -> None:
        """Stop now: drop unplayed audio and cancel the generation work."""
        if self._interrupted:
            return
        self._heard = self.position
        self._interrupted = True
        self._paused = False
        for task in (self._generator, self._pusher):
            if task is not None:
                task.cancel()
        self._output.clear_buffer()

    # -- running ------------------------------------------------------------------------

    def _frame_played(self, frame: AudioFrame, at: float) -> None:
        if self._on_words is None:
            return
        position = self.position
        new = []
        while self._announced < len(self.words) and \
                self.words[self._announced].start < position - 1e-9:
            new.append(self.words[self._announced])
            self._announced += 1
        if new:
            frame_start = position - frame.duration  # speech time at which this frame began
            self._on_words(new, at + max(0.0, new[0].start - frame_start))

    async def run(self) -> bool:
        """Generate and play the speech; returns True if it was interrupted."""
        self._generator = asyncio.create_task(self._generate(), name="bargein-speech-gen")
        self._output.add_listener(self._frame_played)
        try:
            while not self._interrupted:
                self._pusher = asyncio.create_task(self._push(), name="bargein-speech-push")
                await asyncio.wait([self._pusher])
                if not self._rewinding and not self._interrupted:
                    if self._pusher.exception() is not None:
                        raise self._pusher.exception()  # type: ignore[misc]
                    result = await self._output.wait_for_playout()
                    if not self._rewinding and not self._interrupted:
                        self._heard = max(self._heard, self._segment_base + result.position)
                        break
                self._rewinding = False
        finally:
            self._output.remove_listener(self._frame_played)
            # _generate() keeps its own errors in self.error; only cancellation gets here.
            self._generator.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._generator
        return self._interrupted

    async def _push(self) -> None:
        while True:
            if self._cursor < len(self.frames):
                frame = self.frames[self._cursor]
                await self._output.capture_frame(frame)
                if self._cursor == 0 and self._on_audio is not None:
                    self._on_audio()
                self._cursor += 1
                continue
            if self._generated.is_set():
                self._output.flush()
                return
            self._new_frames.clear()
            await self._new_frames.wait()

    async def _generate(self) -> None:
        try:
            pending = ""
            async for delta in with_timeout(self._text, self._timeout, "the LLM"):
                pending += delta
                while (cut := unit_end(pending)) is not None:
                    await self._speak(pending[:cut])
                    pending = pending[cut:]
            if pending.strip():
                await self._speak(pending)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # reported by the session; what was made still plays
            self.error, self.error_source = exc, self._stage
        finally:
            self._generated.set()
            self._new_frames.set()

    async def _speak(self, sentence: str) -> None:
        base_char = len(self.full_text) + (len(sentence) - len(sentence.lstrip()))
        self.full_text += sentence
        spoken = sentence.strip()
        if not spoken:
            return
        offset = len(self.frames) * self._fd
        assembler = FrameAssembler(self._rate, self._fd)
        resampler: StreamResampler | None = None
        if self._tts.sample_rate != self._rate:
            resampler = StreamResampler(self._tts.sample_rate, self._rate)

        def add(frames: list[AudioFrame]) -> None:
            if frames:
                self.frames.extend(frames)
                self._new_frames.set()

        self._stage = "tts"
        async for chunk in with_timeout(self._tts.stream(spoken), self._timeout, "the TTS"):
            _check_chunk(chunk, self._tts.sample_rate)
            for w in chunk.words:
                self.words.append(WordTiming(
                    w.text, offset + w.start, offset + w.end, w.confidence,
                    None if w.char_start is None else base_char + w.char_start,
                    None if w.char_end is None else base_char + w.char_end,
                ))
            frame = chunk.frame if resampler is None else resampler.push(chunk.frame)
            if frame is not None:
                add(assembler.push(frame))
        if resampler is not None and (tail := resampler.flush()) is not None:
            add(assembler.push(tail))
        if (last := assembler.flush()) is not None:
            add([last])
        self._stage = "llm"


def _check_chunk(chunk: object, rate: int) -> None:
    """Refuse what a TTS must not yield (the speech is cut there, and the error reported)."""
    if not isinstance(chunk, TTSChunk) or not isinstance(chunk.frame, AudioFrame):
        raise ProviderError(f"the TTS yielded {type(chunk).__name__}, not a TTSChunk with an "
                            "AudioFrame")
    if chunk.frame.sample_rate != rate:
        raise ProviderError(f"the TTS declared {rate} Hz audio but yielded a "
                            f"{chunk.frame.sample_rate} Hz chunk")
