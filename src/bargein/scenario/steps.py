"""Script steps: what the simulated user and the test do, in order.

Build a script with the functions below (``user``, ``agent``, ``interrupt``, ``silence``,
``sleep``, ``succeed``, ``fail``, and the ``expect_*`` checks). Each returns a small frozen
step object; :func:`validate` checks a whole script before anything runs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bargein.audio.frame import AudioFrame
from bargein.errors import AudioFormatError, ScenarioError
from bargein.providers.types import WordTiming
from bargein.scenario import validation as check
from bargein.scenario.simulator import InterruptionConfig

#: A string that is a single audio file name (``user("clip.wav")``) is read as that file.
AUDIO_PATH = re.compile(r"\S+\.(wav|flac|ogg|mp3|aiff?)", re.IGNORECASE)

InterruptMode = Literal["auto", "native", "vad"]
INTERRUPT_MODES = ("auto", "native", "vad")

Content = str | Path | bytes | AudioFrame


def as_audio_or_text(content: Content) -> Content:
    """``content`` as the simulated user says it: a str naming an audio file (one word
    ending in .wav, .flac, .ogg, .mp3, .aif or .aiff) becomes a Path, anything else is
    unchanged."""
    if isinstance(content, str) and AUDIO_PATH.fullmatch(content.strip()):
        return Path(content.strip())
    return content


def check_content(content: object, what: str) -> None:
    """Refuse what the simulated user cannot say: text without words, a missing, corrupt
    or stereo audio file, bytes that are not an audio file, or another type."""
    from bargein.audio.wav import read_wav

    source = as_audio_or_text(content)  # type: ignore[arg-type]
    if isinstance(source, AudioFrame):
        return
    if isinstance(source, str):
        check.speakable(source, what)
        return
    if not isinstance(source, (Path, bytes, bytearray)):
        raise ScenarioError(f"{what} takes text, a path to an audio file, audio-file bytes "
                            f"or an AudioFrame, got {type(content).__name__} {content!r}")
    try:
        read_wav(source)
    except (FileNotFoundError, AudioFormatError) as exc:
        raise ScenarioError(f"{what}: {exc}") from None


class StepFailed(Exception):
    """A step could not do what it says while the scenario ran: the run stops, and the
    result fails with this message (a script that cannot work is a ScenarioError instead,
    raised before anything runs)."""


class Step:
    """Base of every script step."""

    kind = "step"

    @property
    def ends_script(self) -> bool:
        """True if the scenario ends with this step (no step may follow it)."""
        return False

    def describe(self) -> str:
        """One line for timelines and error messages."""
        return self.kind


@dataclass(frozen=True)
class UserStep(Step):
    """The simulated user says ``content``: text (spoken by the local TTS), a path to an audio
    file, raw audio-file bytes, or an AudioFrame. After ``agent(wait=False)`` it is a barge-in
    that starts at the agent's first audible audio."""

    content: Content
    transcript: str | None = None  # what recorded audio says, for the oracle STT and metrics
    yield_after: float | None = None  # stop talking once the agent was heard this long
    words: tuple[WordTiming | tuple[str, float, float], ...] | None = None  # recorded audio
    kind = "user"

    def __post_init__(self) -> None:
        check_content(self.content, "user()")
        check.text(self.transcript, "user(transcript=...)", optional=True)
        if self.yield_after is not None:
            check.seconds(self.yield_after, "user(yield_after=...)")

    def describe(self) -> str:
        return f"user({_short(self.content)})"


@dataclass(frozen=True)
class AgentStep(Step):
    """Wait for the agent's reply (``wait=True``) or let it start in the background."""

    wait: bool = True
    timeout: float = 30.0
    kind = "agent"

    def __post_init__(self) -> None:
        check.flag(self.wait, "agent(wait=...)")
        check.seconds(self.timeout, "agent(timeout=...)", positive=True)

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

    content: Content
    after: float | None = None
    after_words: int | None = None
    mode: InterruptMode = "auto"
    transcript: str | None = None
    timeout: float = 30.0
    at: float | None = None
    when: Literal["thinking"] | None = None
    words: tuple[WordTiming | tuple[str, float, float], ...] | None = None
    kind = "interrupt"

    def __post_init__(self) -> None:
        check_content(self.content, "interrupt()")
        given = [n for n, v in (("after", self.after), ("after_words", self.after_words),
                                ("at", self.at), ("when", self.when)) if v is not None]
        if len(given) > 1:
            both = "not both" if len(given) == 2 else "only one of them"
            raise ScenarioError(f"interrupt() takes {' or '.join(g + '=' for g in given)}, "
                                f"{both}")
        if self.when is not None and self.when != "thinking":
            raise ScenarioError(f"interrupt(when=...) must be 'thinking', got {self.when!r}")
        if self.at is not None:
            check.seconds(self.at, "interrupt(at=...)")
        if self.after is not None:
            check.seconds(self.after, "interrupt(after=...)")
        if self.after_words is not None:
            check.whole(self.after_words, "interrupt(after_words=...)")
        check.one_of(self.mode, "interrupt(mode=...)", INTERRUPT_MODES)
        check.text(self.transcript, "interrupt(transcript=...)", optional=True)
        check.seconds(self.timeout, "interrupt(timeout=...)", positive=True)

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

    def __post_init__(self) -> None:
        check.seconds(self.seconds, "silence(seconds)")

    def describe(self) -> str:
        return f"silence({self.seconds:g})"


@dataclass(frozen=True)
class SleepStep(Step):
    """The script waits ``seconds`` before its next step, whatever is happening."""

    seconds: float
    kind = "sleep"

    def __post_init__(self) -> None:
        check.seconds(self.seconds, "sleep(seconds)")

    def describe(self) -> str:
        return f"sleep({self.seconds:g})"


@dataclass(frozen=True)
class ProceedStep(Step):
    """Let the simulated user lead ``turns`` exchanges (a line, then the agent's reply),
    barging in at random per ``interruptions`` (or the user simulator's probability).

    It continues where the script left off: if the caller's last line (or barge-in) has not
    been answered yet, the agent answers it first. With ``turns=None`` it goes on until the
    scenario's own criteria are all met (the judge decides: the scenario ends as a success)
    or the conversation holds ``max_turns`` caller turns (a run option).
    """

    turns: int | None = None
    interruptions: InterruptionConfig | None = None
    kind = "proceed"

    def __post_init__(self) -> None:
        if self.turns is not None:
            check.whole(self.turns, "proceed(turns=...)")
        if self.interruptions is not None and not isinstance(self.interruptions,
                                                             InterruptionConfig):
            raise ScenarioError(f"proceed(interruptions=...) takes an InterruptionConfig, got "
                                f"{type(self.interruptions).__name__}")

    def describe(self) -> str:
        return "proceed()" if self.turns is None else f"proceed(turns={self.turns})"


@dataclass(frozen=True)
class VerdictStep(Step):
    """End the scenario now with a verdict (``succeed()`` or ``fail()``)."""

    success: bool
    reasoning: str = ""

    def __post_init__(self) -> None:
        check.flag(self.success, "the verdict")
        check.text(self.reasoning, f"{self.kind}(reasoning)")

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "succeed" if self.success else "fail"

    @property
    def ends_script(self) -> bool:
        return True

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
    return UserStep(content, transcript, yield_after, _words(words, content))


def agent(*, wait: bool = True, timeout: float = 30.0) -> AgentStep:
    """Wait for the agent to reply and finish (``wait=False``: let it start, go on)."""
    return AgentStep(wait, timeout)


def interrupt(content: str | Path | bytes | AudioFrame, *, after: float | None = None,
              after_words: int | None = None, mode: InterruptMode = "auto",
              transcript: str | None = None, timeout: float = 30.0,
              at: float | None = None, when: Literal["thinking"] | None = None,
              words: Sequence[WordTiming | tuple[str, float, float]] | None = None,
              ) -> InterruptStep:
    """Barge in on the agent's reply; see :class:`InterruptStep`."""
    return InterruptStep(content, after, after_words, mode, transcript, timeout, at, when,
                         _words(words, content))


def silence(seconds: float) -> SilenceStep:
    """The user says nothing for ``seconds``."""
    return SilenceStep(seconds)


def sleep(seconds: float) -> SleepStep:
    """The script waits ``seconds`` (counted from this step, whatever the agent is doing;
    to let a reply play for a while, use ``interrupt(..., after=seconds)``)."""
    return SleepStep(seconds)


def proceed(turns: int | None = None, *,
            interruptions: InterruptionConfig | None = None) -> ProceedStep:
    """The simulated user leads ``turns`` exchanges (``None``: until the judge decides or
    ``max_turns``); see :class:`ProceedStep`."""
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
        if steps and steps[-1].ends_script:
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
