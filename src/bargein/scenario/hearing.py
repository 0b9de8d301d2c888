"""What the simulated user hears of the agent, and waiting for moments in it.

Every interrupt trigger is defined on this: seconds of agent audio heard, agent words heard
(from the adapter's streaming transcripts), the first audible frame, or a quiet agent. A
frame is audible by the definition of :mod:`bargein.audio.levels`, over the running noise
floor of the agent lane (:class:`~bargein.audio.levels.FloorTracker`): an agent that streams
hiss or comfort noise between its words is not "speaking" in it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bargein.audio.frame import AudioFrame
from bargein.audio.levels import FloorTracker


@dataclass
class _Waiter:
    future: asyncio.Future[float]
    since: float
    seconds: float | None = None
    words: int | None = None
    heard: float = 0.0
    word_count: int = 0
    started: bool = False  # an audible frame was heard since ``since``


@dataclass
class Hearing:
    """Follows agent frames reaching the user's ears and agent words reported as heard.

    Times are seconds on the recording timeline (``clock()`` gives "now" on it).
    """

    clock: object  # () -> float
    frames: list[tuple[float, float]] = field(default_factory=list)  # audible: (start, duration)
    words: list[tuple[float, str]] = field(default_factory=list)
    _waiters: list[_Waiter] = field(default_factory=list)
    _floor: FloorTracker = field(default_factory=FloorTracker)

    def now(self) -> float:
        return self.clock()  # type: ignore[operator]

    # -- feeding --------------------------------------------------------------------------

    def on_frame(self, frame: AudioFrame, at: float) -> None:
        """The user hears an agent frame starting at ``at``.

        Only audible frames count as heard; once one was, ``heard_seconds`` counts every
        frame that plays after it (a pause between the agent's sentences is part of what the
        user hears), never time with nothing playing."""
        levels = self._floor.add(frame.to_int16(), frame.sample_rate, at)
        audible = self._floor.audible(levels)
        if audible:
            self.frames.append((at, frame.duration))
        for w in list(self._waiters):
            if w.future.done() or at < w.since - 1e-9:
                continue
            w.started = w.started or audible
            if not w.started:
                continue
            if w.seconds is None and w.words is None:
                self._fire(w, at)  # first audible frame
            elif w.seconds is not None:
                if w.heard + frame.duration >= w.seconds - 1e-9:
                    self._fire(w, at + (w.seconds - w.heard))
                else:
                    w.heard += frame.duration

    def on_words(self, words: tuple[str, ...], at: float) -> None:
        """The adapter reports agent words whose audio started at ``at``."""
        for word in words:
            self.words.append((at, word))
            for w in list(self._waiters):
                if w.future.done() or w.words is None or at < w.since - 1e-9:
                    continue
                if w.word_count >= w.words:  # the word after the N-th: N are fully heard
                    self._fire(w, at)
                else:
                    w.word_count += 1

    def _fire(self, waiter: _Waiter, at: float) -> None:
        self._waiters.remove(waiter)
        if not waiter.future.done():
            waiter.future.set_result(at)

    # -- waiting --------------------------------------------------------------------------

    def _wait(self, since: float, **kw: object) -> asyncio.Future[float]:
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiters.append(_Waiter(fut, since, **kw))  # type: ignore[arg-type]
        return fut

    def first_audio(self, since: float) -> asyncio.Future[float]:
        """Resolves with the start time of the first agent frame heard at or after ``since``."""
        return self._wait(since)

    def heard_seconds(self, seconds: float, since: float) -> asyncio.Future[float]:
        """Resolves at the moment ``seconds`` of agent audio have been heard since ``since``."""
        if seconds <= 0:
            return self.first_audio(since)
        return self._wait(since, seconds=seconds)

    def heard_words(self, count: int, since: float) -> asyncio.Future[float]:
        """Resolves when ``count`` agent words have been heard whole since ``since`` (at the
        start of the next word)."""
        return self._wait(since, words=count)

    def cancel(self, future: asyncio.Future[float]) -> None:
        """Stop waiting."""
        self._waiters = [w for w in self._waiters if w.future is not future]
        future.cancel()

    def last_heard_end(self) -> float | None:
        """End time of the last audible agent frame heard."""
        if not self.frames:
            return None
        start, duration = self.frames[-1]
        return start + duration

    def speaking(self) -> bool:
        """True if an audible agent frame is playing right now."""
        end = self.last_heard_end()
        return end is not None and end >= self.now() - 1e-9

    def words_heard_before(self, t: float, since: float = 0.0) -> list[str]:
        """Agent words whose audio started in [since, t)."""
        return [w for at, w in self.words if since - 1e-9 <= at < t - 1e-9]
