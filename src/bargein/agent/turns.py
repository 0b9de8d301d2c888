"""User turns: what the user said since the last turn was taken, and what counts.

Pure bookkeeping, no clock and no I/O (times are session seconds given by the caller):

- the open :class:`UserTurn` (finals so far plus the latest interim);
- the spans during which uninterruptible (protected) speech played: words said then are
  dropped, or kept for the next turn (``discard_audio_if_uninterruptible``);
- words already answered by a turn-limit cut-in: they must not open a new turn, and a
  late final of them updates the turn that was cut off;
- the turns already taken, so a late final transcript updates the turn it belongs to instead
  of starting a new one;
- the :class:`~bargein.agent.options.UserTurnLimit` check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from bargein.agent.options import UserTurnLimit
from bargein.providers.llm import ChatMessage
from bargein.providers.stt import SpeechEvent
from bargein.providers.types import WordTiming
from bargein.text import count_sentences, words

__all__ = ["KeptWords", "LimitReached", "TakenTurn", "UserTurn", "UserTurns"]

_EPS = 1e-9


@dataclass(frozen=True)
class _Piece:
    """A transcript of the audio between ``start`` and ``end`` (session seconds)."""

    text: str
    start: float
    end: float


@dataclass
class UserTurn:
    """What the user said since the last turn was taken: the finals so far and the latest
    interim, each with the stretch of audio it transcribes, read in the order they were said
    (a slow recognizer's final may come after the interims of what followed)."""

    start: float
    finals: list[_Piece] = field(default_factory=list)
    interim: _Piece | None = None
    exceeded: bool = False

    def transcript(self) -> str:
        """Finals so far and the latest interim, in the order they were said."""
        pieces = [*self.finals, *([self.interim] if self.interim else [])]
        pieces.sort(key=lambda p: p.start)
        return " ".join(p.text for p in pieces if p.text).strip()

    def add(self, text: str, *, final: bool, start: float, end: float) -> None:
        """A transcript of the audio from ``start`` to ``end``: a final adds to the turn and
        ends the interim of the same speech; an interim replaces the previous interim. An
        interim that began after this final's audio ended transcribes later speech and stays
        (a final without a span, ``end <= start``, ends any interim)."""
        if not final:
            self.interim = _Piece(text, start, end)
            return
        if text:
            self.finals.append(_Piece(text, start, end))
        interim = self.interim
        if interim is None or end <= start or interim.start < end - _EPS:
            self.interim = None

    def keep_interim(self) -> None:
        """The interim becomes final (its recognizer lost the final: the interim is all
        there is)."""
        if self.interim is not None:
            self.finals.append(self.interim)
            self.interim = None


@dataclass
class TakenTurn:
    """A turn that was taken at ``taken_at``; ``message`` is its entry in the history.

    A turn cut off by the turn limit is taken too: ``cut_transcript`` is what it held when
    the cut-in answered it (the user message the cut-in's reply added, until it is linked).
    """

    turn: UserTurn
    taken_at: float
    message: ChatMessage | None = None
    #: the reply to it (a SpeechHandle), once scheduled
    reply: Any = None
    cut_transcript: str | None = None


@dataclass(frozen=True)
class LimitReached:
    """What :meth:`UserTurns.check_limit` found: the turn reached its limit."""

    transcript: str
    reason: Literal["sentences", "words", "duration"]
    sentences: int
    words: int
    duration: float


@dataclass(frozen=True)
class KeptWords:
    """The words of a transcript that count for the user's turn.

    ``starts`` gives each word's start (session seconds) when the recognizer timed its
    words, else it is empty; ``discarded`` is True if words said over protected speech were
    dropped. ``answered`` are the timed words said before a turn-limit cut-in, which belong
    to the turn it cut off (:attr:`UserTurns.cut`), not to the next one.
    """

    texts: list[str]
    starts: list[float]
    discarded: bool
    answered: tuple[WordTiming, ...] = ()

    def text(self, event: SpeechEvent) -> str:
        """The kept words as the turn's text (the event's own text when it has no timings)."""
        if event.words:
            return " ".join(self.texts)
        return event.text.strip() if self.texts else ""

    def said_since(self, t: float) -> list[str]:
        """Kept words that started at ``t`` or later (all of them without timings)."""
        if not self.starts:
            return list(self.texts)
        return [w for w, start in zip(self.texts, self.starts, strict=True) if start >= t]


@dataclass
class _Span:
    start: float
    end: float | None = None

    def contains(self, t: float) -> bool:
        return self.start <= t and (self.end is None or t < self.end)


class UserTurns:
    """The user-turn bookkeeping of a session (see the module docstring)."""

    def __init__(self, *, discard_if_protected: bool, limit: UserTurnLimit | None) -> None:
        self.discard_if_protected = discard_if_protected
        self.limit = limit
        self.current: UserTurn | None = None
        self.last_taken: TakenTurn | None = None
        self._spans: list[_Span] = []
        self._consumed_until = -1.0  # words said before this were already answered
        #: the last turn the turn limit cut off; words said before the cut-in was heard
        #: belong to it
        self.cut: TakenTurn | None = None
        self._consume_until_next_speech = False

    # -- protected speech ----------------------------------------------------------------------

    def protected_started(self, t: float) -> None:
        """Protected speech became audible at ``t`` (back-to-back ones make one span)."""
        if not self._spans or self._spans[-1].end is not None:
            self._spans.append(_Span(t))

    def protected_ended(self, t: float, *, more_follows: bool) -> None:
        """Protected speech ended at ``t``; with ``more_follows`` the span stays open (the
        gap between a cut-in and its protected reply belongs to it)."""
        if self._spans and self._spans[-1].end is None and not more_follows:
            self._spans[-1].end = t

    def agent_became_audible(self, t: float) -> None:
        """Words said until the cut-in was heard belonged to the cut-off monologue."""
        if self._consume_until_next_speech:
            self._consumed_until = t
            self._consume_until_next_speech = False

    # -- transcripts ---------------------------------------------------------------------------

    def kept_words(self, event: SpeechEvent) -> KeptWords:
        """Words of ``event`` (times in session seconds) that belong to the user's next turn."""
        if not event.words:
            return KeptWords(words(event.text), [], False)
        kept, starts, answered, discarded = [], [], [], False
        for w in event.words:
            if w.start < self._consumed_until:
                answered.append(w)
                continue
            if self.discard_if_protected and any(s.contains(w.start) for s in self._spans):
                discarded = True
                continue
            kept.append(w.text)
            starts.append(w.start)
        return KeptWords(kept, starts, discarded, tuple(answered))

    def late_for(self, event: SpeechEvent) -> TakenTurn | None:
        """The taken turn a final transcript belongs to, if it was said before that turn
        was taken (a slow recognizer); None if it starts something new."""
        taken = self.last_taken
        if taken is None:
            return None
        said = [w.start for w in event.words] or [event.start]
        if max(said) < taken.taken_at - _EPS and min(said) >= taken.turn.start - 1.0:
            return taken
        return None

    def add(self, text: str, *, final: bool, start: float, end: float) -> UserTurn:
        """Add a transcript of the audio from ``start`` to ``end`` to the open turn (opening
        one at ``start`` if needed)."""
        if self.current is None:
            self.current = UserTurn(start=start)
        self.current.add(text, final=final, start=start, end=end)
        return self.current

    def open(self, t: float) -> UserTurn:
        """The open turn, opened at ``t`` if there was none."""
        if self.current is None:
            self.current = UserTurn(start=t)
        return self.current

    def take(self, t: float) -> TakenTurn | None:
        """Close the open turn at ``t``; None if it holds no words."""
        turn, self.current = self.current, None
        if turn is None or not turn.transcript():
            return None
        self.last_taken = TakenTurn(turn, t)
        return self.last_taken

    def drop(self) -> None:
        """Forget the open turn (a backchannel, or words that were answered already)."""
        self.current = None

    # -- turn limit --------------------------------------------------------------------------

    def check_limit(self, now: float, *, user_speaking: bool) -> LimitReached | None:
        """The limit the open turn reached at ``now``, if any. A limit first reached after
        the user stopped is just a long turn. Words so far count as answered by the cut-in;
        words said until the cut-in is heard belong to the same monologue. A turn with no
        words transcribed yet (its ``transcript`` is empty) stays open for them."""
        limit, turn = self.limit, self.current
        if limit is None or turn is None or turn.exceeded or not user_speaking:
            return None
        transcript = turn.transcript()
        n_sentences = count_sentences(transcript)
        n_words = len(words(transcript))
        duration = now - turn.start
        reason: Literal["sentences", "words", "duration"] | None = None
        if limit.max_sentences is not None and n_sentences >= limit.max_sentences:
            reason = "sentences"
        elif limit.max_words is not None and n_words >= limit.max_words:
            reason = "words"
        elif limit.max_duration is not None and duration >= limit.max_duration - _EPS:
            reason = "duration"
        if reason is None:
            return None
        turn.exceeded = True
        if not transcript:
            # nothing transcribed yet (a recognizer without interim results): the words
            # come with the final, into this turn, which is taken as usual when it ends
            return LimitReached("", reason, 0, 0, duration)
        self._consumed_until = now
        self._consume_until_next_speech = True
        self.current = None
        self.cut = TakenTurn(turn, now, cut_transcript=transcript)
        return LimitReached(transcript, reason, n_sentences, n_words, duration)
