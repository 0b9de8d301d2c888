"""The barge-in policy: when the user's voice or words interrupt the agent.

A pure state machine. The session feeds it typed events with explicit times (seconds on the
session's audio timeline) and carries out the decisions it returns; when it needs to look again
at a later time, :attr:`InterruptionPolicy.deadline` says when, and the session feeds a
:class:`Tick` then. Nothing here waits, reads a clock or touches audio, so a table of timelines
tests every rule in milliseconds (``tests/unit/test_interruption_policy.py``).

The rules, in the order they are checked (``docs/agents.md``, "How a barge-in is decided"):

1. Only interruptible agent speech can be interrupted: while the agent is silent, or plays
   protected (uninterruptible) speech, the user's voice is never a barge-in.
2. An *episode* opens when the user's voice starts while the agent is thinking (a reply is
   on its way but not audible yet) or speaking, or when the agent starts while the user's
   voice is already on. Its onset is the start of that voice on the audio.
3. While the agent is **thinking**, the pending reply is held (``PAUSE``) as soon as the user's
   voice starts: an agent does not start talking over a user who has just started talking.
4. **Words** decide: once the episode has at least ``max(1, min_words)`` recognized words that
   are not backchannels, and ``min_duration`` has passed since the onset, the agent stops
   (``STOP``), paused or not. Words that arrive after the voice ended still count, until the
   episode closes.
5. **Voice alone** (``min_words == 0``): at ``min_duration`` after the onset of the current
   voice, if the user is voicing right now, the agent pauses (``PAUSE``, when
   ``resume_false_interruption``) or stops (``STOP``); if the user is not voicing at that
   instant, the first voiced frame of the same voice decides.
6. A pause ends in one of three ways: words make it a ``STOP`` (rule 4); once the voice has
   ended, a transcript of backchannels only ("uh-huh") resumes at once (``RESUME``); otherwise
   it resumes when ``false_interruption_timeout`` has passed since the end of the voice with no
   words. **It never resumes while the user's voice is on**: a new voice cancels the wait.
7. An episode that is not paused (or resumed after backchannels) closes
   ``false_interruption_timeout`` after the voice ended: until then, late words (a recognizer
   that only gives final transcripts) can still stop the agent. It also closes when the
   agent's speech ends.

A ``STOP`` that follows a pause reports the pause time as the moment the agent's audio
stopped (:attr:`Decision.audio_stopped_at`): the listener heard nothing after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from bargein.agent.options import InterruptionOptions
from bargein.text import normalize_words

__all__ = [
    "Action",
    "AgentActivity",
    "AgentActivityChanged",
    "Decision",
    "InterruptionPolicy",
    "PolicyEvent",
    "Tick",
    "VoiceEnded",
    "VoiceStarted",
    "Voicing",
    "WordsHeard",
]

#: What the agent is doing, as far as barge-in is concerned.
AgentActivity = Literal["silent", "thinking", "speaking"]

_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class VoiceStarted:
    """The VAD found the start of the user's voice at ``onset`` (decided at ``time``)."""

    time: float
    onset: float


@dataclass(frozen=True, slots=True)
class Voicing:
    """One input frame while the user's voice is on: ``active`` if it is voiced right now."""

    time: float
    active: bool


@dataclass(frozen=True, slots=True)
class VoiceEnded:
    """The VAD found the end of the user's voice at ``offset`` (decided at ``time``)."""

    time: float
    offset: float


@dataclass(frozen=True, slots=True)
class WordsHeard:
    """A transcript of the user's words in the current episode (interim or final).

    An interim replaces the previous interim; a final adds to the finals before it, as a
    recognizer's results do.
    """

    time: float
    words: tuple[str, ...]
    final: bool


@dataclass(frozen=True, slots=True)
class AgentActivityChanged:
    """The agent became silent, started thinking about a reply, or became audible.

    ``protected`` is True for speech that may not be interrupted.
    """

    time: float
    activity: AgentActivity
    protected: bool = False


@dataclass(frozen=True, slots=True)
class Tick:
    """Time has reached the policy's :attr:`~InterruptionPolicy.deadline`."""

    time: float


PolicyEvent = VoiceStarted | Voicing | VoiceEnded | WordsHeard | AgentActivityChanged | Tick


class Action(StrEnum):
    """What the session must do with the current agent speech."""

    #: Hold the agent's audio where it is (a reply not yet audible stays unheard).
    PAUSE = "pause"
    #: Barge-in: stop the speech for good and drop queued interruptible speech.
    STOP = "stop"
    #: A false interruption: continue the paused speech.
    RESUME = "resume"


@dataclass(frozen=True, slots=True)
class Decision:
    """One action, when it was decided, and why.

    ``onset`` is where the user's voice that caused it began; ``audio_stopped_at`` is when the
    agent's audio stopped (for ``STOP``: the pause time if it followed a pause, else ``time``).
    ``reason`` is one of ``voice``, ``words``, ``hold`` (user voice while thinking),
    ``backchannel`` and ``no_words``.
    """

    action: Action
    time: float
    onset: float
    reason: str
    audio_stopped_at: float | None = None


class InterruptionPolicy:
    """The barge-in rules of :mod:`bargein.agent.interruption`, fed one event at a time."""

    def __init__(self, options: InterruptionOptions) -> None:
        self.options = options
        self._activity: AgentActivity = "silent"
        self._protected = False
        # the user's voice
        self._voice_open = False
        self._voice_onset = 0.0
        self._voicing = False
        # the episode: a possible barge-in on the current speech
        self._episode_onset: float | None = None
        self._paused_at: float | None = None
        self._duration_due: float | None = None  # onset of this voice + min_duration
        self._awaiting_voice = False  # min_duration passed in an unvoiced frame
        self._words_until: float | None = None  # end of voice + false_interruption_timeout
        self._final_words: list[str] = []
        self._interim_words: tuple[str, ...] = ()

    # -- what the session reads ------------------------------------------------------------

    @property
    def deadline(self) -> float | None:
        """When the policy must be fed a :class:`Tick` next (None: no timer needed)."""
        due = [t for t in (self._duration_due, self._words_until) if t is not None]
        return min(due) if due else None

    @property
    def paused(self) -> bool:
        """True while the agent's speech is held for a possible false interruption."""
        return self._paused_at is not None

    @property
    def episode_onset(self) -> float | None:
        """Onset of the user's voice in the open episode (None when there is none)."""
        return self._episode_onset

    def real_words(self, words: tuple[str, ...] | list[str]) -> int:
        """How many of ``words`` are not backchannels (``"uh-huh."`` counts as none)."""
        backchannels = self.options.backchannels
        return sum(1 for w in normalize_words(" ".join(words)) if w not in backchannels)

    # -- feeding -----------------------------------------------------------------------------

    def feed(self, event: PolicyEvent) -> list[Decision]:
        """Apply one event; returns the decisions it leads to (empty: nothing to do)."""
        if isinstance(event, AgentActivityChanged):
            return self._on_activity(event)
        if isinstance(event, VoiceStarted):
            return self._on_voice_started(event)
        if isinstance(event, Voicing):
            return self._on_voicing(event)
        if isinstance(event, VoiceEnded):
            return self._on_voice_ended(event)
        if isinstance(event, WordsHeard):
            return self._on_words(event)
        if isinstance(event, Tick):
            return self._on_tick(event.time)
        raise TypeError(f"not a policy event: {event!r}")

    # -- events ------------------------------------------------------------------------------

    def _on_activity(self, event: AgentActivityChanged) -> list[Decision]:
        was_interruptible = self._interruptible
        self._activity, self._protected = event.activity, event.protected
        if not self._interruptible:
            self._close_episode()
            return []
        if self._episode_onset is None and self._voice_open:
            # the agent starts over a user who is already talking (rule 2)
            self._open_episode(self._voice_onset)
        if self._episode_onset is None:
            return []
        if event.activity == "thinking" and not self.paused and self._voice_open:
            return [self._pause(event.time, "hold")]
        if not was_interruptible:
            return self._check_duration(event.time)
        return []

    def _on_voice_started(self, event: VoiceStarted) -> list[Decision]:
        self._voice_open, self._voice_onset, self._voicing = True, event.onset, True
        self._words_until = None  # never resume while the user's voice is on (rule 6)
        if not self._interruptible:
            return []
        if self._episode_onset is None:
            self._open_episode(event.onset)
        if self._activity == "thinking" and not self.paused:
            return [self._pause(event.time, "hold")]
        self._duration_due = event.onset + self.options.min_duration
        return self._check_duration(event.time)

    def _on_voicing(self, event: Voicing) -> list[Decision]:
        self._voicing = event.active
        if self._awaiting_voice and event.active and self._voice_open:
            return self._voice_decision(event.time)
        return []

    def _on_voice_ended(self, event: VoiceEnded) -> list[Decision]:
        self._voice_open, self._voicing = False, False
        self._awaiting_voice = False
        if self._episode_onset is None:
            return []
        self._words_until = event.offset + self.options.false_interruption_timeout
        if self.paused and self._only_backchannels():
            return [self._resume(event.time, "backchannel")]
        return self._on_tick(event.time)

    def _on_words(self, event: WordsHeard) -> list[Decision]:
        if self._episode_onset is None:
            return []
        if event.final:
            self._final_words.extend(event.words)
            self._interim_words = ()
        else:
            self._interim_words = event.words
        if self._enough_words():
            if event.time >= self._episode_onset + self.options.min_duration - _EPS:
                return [self._stop(event.time, "words")]
            self._duration_due = self._episode_onset + self.options.min_duration
            return []
        if self.paused and not self._voice_open and self._only_backchannels():
            return [self._resume(event.time, "backchannel")]
        return []

    def _on_tick(self, now: float) -> list[Decision]:
        if self._episode_onset is None:
            self._duration_due = self._words_until = None
            return []
        decisions = self._check_duration(now)
        if decisions:
            return decisions
        if self._words_until is not None and now >= self._words_until - _EPS:
            if self.paused:
                return [self._resume(now, "no_words")]
            self._close_episode()
        return []

    # -- rules -------------------------------------------------------------------------------

    @property
    def _interruptible(self) -> bool:
        return self._activity != "silent" and not self._protected

    def _check_duration(self, now: float) -> list[Decision]:
        """Rules 4 and 5 once ``min_duration`` has passed since the onset."""
        due = self._duration_due
        if due is None or now < due - _EPS:
            return []
        self._duration_due = None
        if self._enough_words():
            return [self._stop(now, "words")]
        if self.options.min_words > 0 or not self._voice_open:
            return []
        if not self._voicing:
            self._awaiting_voice = True  # the next voiced frame of this voice decides
            return []
        return self._voice_decision(now)

    def _voice_decision(self, now: float) -> list[Decision]:
        """Rule 5: enough voice, no words needed (a held reply stops too without resume)."""
        self._awaiting_voice = False
        if not self.options.resume_false_interruption:
            return [self._stop(now, "voice")]
        return [] if self.paused else [self._pause(now, "voice")]

    def _enough_words(self) -> bool:
        needed = max(1, self.options.min_words)
        return self.real_words([*self._final_words, *self._interim_words]) >= needed

    def _only_backchannels(self) -> bool:
        said = [*self._final_words, *self._interim_words]
        return bool(normalize_words(" ".join(said))) and self.real_words(said) == 0

    # -- decisions -----------------------------------------------------------------------------

    def _pause(self, now: float, reason: str) -> Decision:
        assert self._episode_onset is not None
        self._paused_at = now
        return Decision(Action.PAUSE, now, self._episode_onset, reason)

    def _resume(self, now: float, reason: str) -> Decision:
        assert self._episode_onset is not None
        decision = Decision(Action.RESUME, now, self._episode_onset, reason)
        if reason == "backchannel":
            self._paused_at = None  # later words of the same voice may still stop (rule 7)
        else:
            self._close_episode()
        return decision

    def _stop(self, now: float, reason: str) -> Decision:
        assert self._episode_onset is not None
        stopped_at = self._paused_at if self._paused_at is not None else now
        decision = Decision(Action.STOP, now, self._episode_onset, reason, stopped_at)
        self._close_episode()
        self._activity = "silent"  # until the session says what plays next
        return decision

    def _open_episode(self, onset: float) -> None:
        self._episode_onset = onset
        self._final_words, self._interim_words = [], ()
        self._duration_due = onset + self.options.min_duration

    def _close_episode(self) -> None:
        self._episode_onset = None
        self._paused_at = None
        self._duration_due = self._words_until = None
        self._awaiting_voice = False
        self._final_words, self._interim_words = [], ()
