"""Script steps: what the simulated user and the test do, in order.

Build a script with the functions below (``user``, ``agent``, ``interrupt``, ``silence``,
``sleep``, ``succeed``, ``fail``, and the ``expect_*`` checks). Each returns a small frozen
step object; :func:`validate` checks a whole script before anything runs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bargein.audio.frame import AudioFrame
from bargein.errors import ScenarioError
from bargein.providers.types import WordTiming
from bargein.scenario.simulator import InterruptionConfig

#: A string that is a single audio file name (``user("clip.wav")``) is read as that file.
AUDIO_PATH = re.compile(r"\S+\.(wav|flac|ogg|mp3|aiff?)", re.IGNORECASE)

InterruptMode = Literal["auto", "native", "vad"]


class Step:
    """Base of every script step."""

    kind = "step"

    def describe(self) -> str:
        """One line for timelines and error messages."""
        return self.kind


@dataclass(frozen=True)
class UserStep(Step):
    """The simulated user says ``content``: text (spoken by the local TTS), a path to an audio
    file, raw audio-file bytes, or an AudioFrame. After ``agent(wait=False)`` it is a barge-in
    that starts at the agent's first audible audio."""

    content: str | Path | bytes | AudioFrame
    transcript: str | None = None  # what recorded audio says, for the oracle STT and metrics
    yield_after: float | None = None  # stop talking once the agent was heard this long
    words: tuple[WordTiming | tuple[str, float, float], ...] | None = None  # recorded audio
    kind = "user"

    def describe(self) -> str:
        return f"user({_short(self.content)})"


@dataclass(frozen=True)
class AgentStep(Step):
    """Wait for the agent's reply (``wait=True``) or let it start in the background."""

    wait: bool = True
    timeout: float = 30.0
    kind = "agent"

    def describe(self) -> str:
        return "agent()" if self.wait else "agent(wait=False)"


@dataclass(frozen=True)
class InterruptStep(Step):
    """Barge in on the agent's reply with ``content``.

    Trigger: ``after`` seconds of audible agent speech, or ``after_words`` agent words heard,
    or ``when="thinking"`` (the agent took the turn but is not audible yet), or ``at``
    seconds on the recording, or (none of them) the first audible agent audio. ``mode``:
    "native" sends the adapter's cancel signal with the audio, "vad" only the audio, "auto"
    native when the adapter has it.
    """

    content: str | Path | bytes | AudioFrame
    after: float | None = None
    after_words: int | None = None
    mode: InterruptMode = "auto"
    transcript: str | None = None
    timeout: float = 30.0
    at: float | None = None
    when: Literal["thinking"] | None = None
    words: tuple[WordTiming | tuple[str, float, float], ...] | None = None
    kind = "interrupt"

    @property
    def trigger(self) -> str:
        """"after", "after_words", "thinking", "at" or "first_audio"."""
        if self.after is not None:
            return "after"
        if self.after_words is not None:
            return "after_words"
        if self.when is not None:
            return self.when
        if self.at is not None:
            return "at"
        return "first_audio"

    def describe(self) -> str:
        extra = ""
        if self.after is not None:
            extra = f", after={self.after:g}"
        elif self.after_words is not None:
            extra = f", after_words={self.after_words}"
        elif self.when is not None:
            extra = f", when={self.when!r}"
        elif self.at is not None:
            extra = f", at={self.at:g}"
        return f"interrupt({_short(self.content)}{extra})"


@dataclass(frozen=True)
class SilenceStep(Step):
    """The user stays silent for ``seconds`` (the microphone keeps streaming silence)."""

    seconds: float
    kind = "silence"

    def describe(self) -> str:
        return f"silence({self.seconds:g})"


@dataclass(frozen=True)
class SleepStep(Step):
    """The script waits ``seconds`` before its next step, whatever is happening."""

    seconds: float
    kind = "sleep"

    def describe(self) -> str:
        return f"sleep({self.seconds:g})"


@dataclass(frozen=True)
class ProceedStep(Step):
    """Let the simulated user lead ``turns`` exchanges (a line, then the agent's reply),
    barging in at random per ``interruptions`` (or the user simulator's probability)."""

    turns: int
    interruptions: InterruptionConfig | None = None
    kind = "proceed"

    def describe(self) -> str:
        return f"proceed(turns={self.turns})"


@dataclass(frozen=True)
class VerdictStep(Step):
    """End the scenario now with a verdict (``succeed()`` or ``fail()``)."""

    success: bool
    reasoning: str = ""

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "succeed" if self.success else "fail"

    def describe(self) -> str:
        return f"{self.kind}({self.reasoning!r})" if self.reasoning else f"{self.kind}()"


def user(content: str | Path | bytes | AudioFrame, *, transcript: str | None = None,
         yield_after: float | None = None,
         words: Sequence[WordTiming | tuple[str, float, float]] | None = None) -> UserStep:
    """The simulated user speaks ``content`` (text, audio file path, audio bytes or frame).

    ``transcript`` says what recorded audio contains; its words are timed from the recording
    (cached next to the file), or by ``words``: ``(text, start, end)`` seconds from the
    clip's start. ``yield_after``: a polite caller stops talking once it has heard the agent
    for that many seconds (e.g. when the agent cuts in).
    """
    if yield_after is not None and not yield_after >= 0:
        raise ScenarioError(f"user(yield_after=...) must be >= 0 s, got {yield_after!r}")
    return UserStep(content, transcript, yield_after, _words(words, content))


def agent(*, wait: bool = True, timeout: float = 30.0) -> AgentStep:
    """Wait for the agent to reply and finish (``wait=False``: let it start, go on)."""
    if not timeout > 0:
        raise ScenarioError(f"agent(timeout=...) must be > 0 s, got {timeout!r}")
    return AgentStep(wait, timeout)


def interrupt(content: str | Path | bytes | AudioFrame, *, after: float | None = None,
              after_words: int | None = None, mode: InterruptMode = "auto",
              transcript: str | None = None, timeout: float = 30.0,
              at: float | None = None, when: Literal["thinking"] | None = None,
              words: Sequence[WordTiming | tuple[str, float, float]] | None = None,
              ) -> InterruptStep:
    """Barge in on the agent's reply; see :class:`InterruptStep`."""
    given = [n for n, v in (("after", after), ("after_words", after_words), ("at", at),
                            ("when", when)) if v is not None]
    if len(given) > 1:
        both = "not both" if len(given) == 2 else "only one of them"
        raise ScenarioError(f"interrupt() takes {' or '.join(g + '=' for g in given)}, {both}")
    if when is not None and when != "thinking":
        raise ScenarioError(f"interrupt(when=...) must be 'thinking', got {when!r}")
    if at is not None and not (isinstance(at, (int, float)) and math.isfinite(at) and at >= 0):
        raise ScenarioError(f"interrupt(at=...) must be a finite number of seconds >= 0, "
                            f"got {at!r}")
    if after is not None and not after >= 0:
        raise ScenarioError(f"interrupt(after=...) must be >= 0 s, got {after!r}")
    if after_words is not None and not (isinstance(after_words, int) and after_words >= 1):
        raise ScenarioError(f"interrupt(after_words=...) must be an integer >= 1, "
                            f"got {after_words!r}")
    if mode not in ("auto", "native", "vad"):
        raise ScenarioError(f"interrupt(mode=...) must be 'auto', 'native' or 'vad', "
                            f"got {mode!r}")
    return InterruptStep(content, after, after_words, mode, transcript, timeout, at, when,
                         _words(words, content))


def silence(seconds: float) -> SilenceStep:
    """The user says nothing for ``seconds``."""
    if not seconds >= 0:
        raise ScenarioError(f"silence() needs seconds >= 0, got {seconds!r}")
    return SilenceStep(seconds)


def sleep(seconds: float) -> SleepStep:
    """The script waits ``seconds``."""
    if not seconds >= 0:
        raise ScenarioError(f"sleep() needs seconds >= 0, got {seconds!r}")
    return SleepStep(seconds)


def proceed(turns: int = 1, *, interruptions: InterruptionConfig | None = None) -> ProceedStep:
    """The simulated user leads ``turns`` exchanges; see :class:`ProceedStep`."""
    if isinstance(turns, bool) or not isinstance(turns, int) or turns < 1:
        raise ScenarioError(f"proceed(turns=...) must be an integer >= 1, got {turns!r}")
    if interruptions is not None and not isinstance(interruptions, InterruptionConfig):
        raise ScenarioError("proceed(interruptions=...) takes an InterruptionConfig")
    return ProceedStep(turns, interruptions)


def succeed(reasoning: str = "") -> VerdictStep:
    """End the scenario as a success."""
    return VerdictStep(True, reasoning)


def fail(reasoning: str = "") -> VerdictStep:
    """End the scenario as a failure."""
    return VerdictStep(False, reasoning)


def validate(script: Sequence[object]) -> list[Step]:
    """Check a script before it runs: every item a step, nothing after a verdict."""
    if isinstance(script, (str, bytes)) or not isinstance(script, Sequence):
        raise ScenarioError("script must be a list of steps, e.g. [user('hi'), agent()]")
    steps: list[Step] = []
    for i, item in enumerate(script, 1):
        if not isinstance(item, Step):
            hint = " (did you forget to call it?)" if callable(item) else ""
            raise ScenarioError(
                f"step {i} is {item!r}, which is not a scenario step{hint}; steps are "
                "user(), agent(), interrupt(), proceed(), silence(), sleep(), judge(), "
                "succeed(), fail() and the expect_*() checks")
        if steps and isinstance(steps[-1], VerdictStep):
            raise ScenarioError(
                f"step {i} ({item.describe()}) comes after {steps[-1].describe()}, which ends "
                "the scenario; move it before the verdict or remove it")
        steps.append(item)
    if not steps:
        raise ScenarioError("the script is empty")
    return steps


def _words(words: Sequence[WordTiming | tuple[str, float, float]] | None,
           content: object) -> tuple[WordTiming | tuple[str, float, float], ...] | None:
    if words is None:
        return None
    if isinstance(content, str) and not _is_audio_path(content):
        raise ScenarioError("words= times the words of recorded audio; text lines are timed "
                            "by the synthesizer")
    if isinstance(words, (str, bytes)) or not isinstance(words, Sequence):
        raise ScenarioError("words= takes a list of (text, start, end) tuples")
    return tuple(words)


def _is_audio_path(text: str) -> bool:
    return AUDIO_PATH.fullmatch(text.strip()) is not None


def _short(content: object) -> str:
    if isinstance(content, str):
        return repr(content if len(content) <= 40 else content[:37] + "...")
    if isinstance(content, Path):
        return f"file {str(content)!r}"
    if isinstance(content, bytes):
        return f"<{len(content)} bytes of audio>"
    return repr(content)
