"""Settings of an agent session: interruption policy, turn limits and endpointing."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bargein.text import BACKCHANNEL_WORDS

#: Words that acknowledge without taking the floor. They never count towards ``min_words``.
DEFAULT_BACKCHANNELS = BACKCHANNEL_WORDS


@dataclass(frozen=True)
class InterruptionOptions:
    """How the user may barge in on the agent.

    - ``min_duration``: seconds of user speech (VAD) before it can count as a barge-in; the
      user must still be voicing at that moment.
    - ``min_words``: with ``> 0``, the barge-in also needs that many transcribed words that are
      not backchannels; with ``0`` the VAD alone decides (and the agent pauses first when
      ``resume_false_interruption`` is on).
    - ``backchannels``: words that never count ("uh-huh", "yeah", "right", ...).
    - ``false_interruption_timeout``: after the user stops (or after the pause began, when
      the sound goes on without words), seconds to wait for real words before a pause is
      judged a false interruption; only backchannel words end the pause at once.
    - ``resume_false_interruption``: resume the paused speech after a false interruption
      (from the start of the word that was playing); otherwise it stays interrupted.
    - ``discard_audio_if_uninterruptible``: user speech heard while uninterruptible speech
      plays is dropped (True) or kept for the next turn (False).
    """

    min_duration: float = 0.5
    min_words: int = 0
    backchannels: frozenset[str] = field(default=DEFAULT_BACKCHANNELS)
    false_interruption_timeout: float = 2.0
    resume_false_interruption: bool = True
    discard_audio_if_uninterruptible: bool = True

    def __post_init__(self) -> None:
        if not self.min_duration >= 0:
            raise ValueError(f"min_duration must be >= 0 s, got {self.min_duration!r}")
        if not (isinstance(self.min_words, int) and self.min_words >= 0):
            raise ValueError(f"min_words must be an integer >= 0, got {self.min_words!r}")
        if not self.false_interruption_timeout > 0:
            raise ValueError(
                f"false_interruption_timeout must be > 0 s, got {self.false_interruption_timeout!r}"
            )
        object.__setattr__(
            self, "backchannels", frozenset(w.lower() for w in self.backchannels)
        )


@dataclass(frozen=True)
class UserTurnLimit:
    """When a user turn is too long. Any limit reached ends the user's monologue.

    Sentences and words are counted on the running transcript (interim results included);
    duration is checked on a timer from the turn's first speech. A turn *reaches* the limit
    when its count equals the maximum (``max_sentences=3`` fires on the third sentence).
    """

    max_sentences: int | None = None
    max_words: int | None = None
    max_duration: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_sentences", "max_words"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name} must be an integer >= 1 or None, got {value!r}")
        if self.max_duration is not None and not self.max_duration > 0:
            raise ValueError(f"max_duration must be > 0 s or None, got {self.max_duration!r}")
        if self.max_sentences is None and self.max_words is None and self.max_duration is None:
            raise ValueError("UserTurnLimit needs at least one of max_sentences, max_words, "
                             "max_duration")


@dataclass(frozen=True)
class EndpointingOptions:
    """When a user turn is complete (the rules: ``bargein.agent.endpointing``).

    - ``min_delay``: seconds of silence after the end of the user's speech (the VAD's offset,
      measured on the audio, so it does not move with the VAD's analysis windows) that end
      the utterance when the turn sounds complete, or always without a turn detector. When
      the VAD decides later than ``offset + min_delay`` (its own silence wait: 0.4-0.51 s
      for the default Silero settings), the utterance ends at that decision instead.
    - ``max_delay``: the same when the session's turn detector hears an unfinished turn
      ("a table for ...").
    - ``max_wait``: how long the session waits for the final transcript after the
      utterance ended before it takes the latest interim.
    - ``preemptive_generation``: with a turn detector, start preparing the reply (LLM and
      TTS, nothing played) at the user's first pause; it is used if the turn ended with the
      same words and history, and dropped without a sound if the user goes on.
    """

    min_delay: float = 0.4
    max_wait: float = 3.0
    max_delay: float = 2.5
    preemptive_generation: bool = True

    def __post_init__(self) -> None:
        for name in ("min_delay", "max_wait", "max_delay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")
        if not self.max_wait > 0:
            raise ValueError(f"max_wait must be > 0 s, got {self.max_wait!r}")
        if self.max_delay < self.min_delay:
            raise ValueError(f"max_delay ({self.max_delay!r} s) must not be below min_delay "
                             f"({self.min_delay!r} s)")
        if not isinstance(self.preemptive_generation, bool):
            raise ValueError(f"preemptive_generation must be True or False, got "
                             f"{self.preemptive_generation!r}")
