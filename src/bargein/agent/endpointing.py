"""End of the user's turn: when the silence after the user's voice means "your turn".

A pure state machine, like :mod:`bargein.agent.interruption`: fed the user's voice
boundaries, voiced/unvoiced frames, the recognizer's transcripts and the turn detector's
answers with explicit times (session seconds), it returns actions and says when it needs to
look again (:attr:`Endpointing.deadline`).

- **Probe.** With a turn detector, each pause is judged: once the voice has been unvoiced for
  :data:`PROBE_PAUSE` (or when the VAD says the voice ended, if no probe ran), ``PROBE`` asks
  the detector whether the turn sounds complete; its answer comes back through
  :meth:`Endpointing.predicted`. At the same moment ``PREEMPT`` lets the session prepare the
  reply (it is used only if the turn ends with the same words).
- **Delay.** The utterance is complete after ``min_delay`` seconds of silence after the
  voice's offset on the audio when the turn sounds complete (or when there is no detector),
  ``max_delay`` when it sounds unfinished. Then the recognizer is asked for its final
  transcript (``FLUSH``).
- **End.** The turn ends (``END_OF_TURN``) once every flushed utterance has its final
  transcript, or ``max_wait`` after the last flush. Recognizers that acknowledge every flush
  (``STTCapabilities.acknowledges_flush``) never make the turn wait for a transcript that
  will not come.
- **Preemption.** If the user's voice comes back before the turn ends, ``CANCEL_PREEMPT``
  drops the reply being prepared.
- **Blips.** A new voice holds the end of the turn while it lasts. A voice shorter than
  :data:`NOISE_BLIP` with no words recognized in it (a click, a knock, a breath) does not
  move the end of the turn: when it ends, the turn ends when it would have without it. Its
  audio is still flushed (so the recognizer's buffer starts clean), but its final is not
  waited for. Without acknowledgements, a final answers every flush before it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum

from bargein.agent.options import EndpointingOptions

__all__ = ["NOISE_BLIP", "PROBE_PAUSE", "EndpointAction", "EndpointDecision", "Endpointing"]

#: A voice shorter than this (seconds, onset to offset) with no words in it is a noise blip.
NOISE_BLIP = 0.2
#: Seconds of unvoiced frames inside the user's voice after which the turn detector is asked
#: (and the reply prepared).
PROBE_PAUSE = 0.06

_EPS = 1e-9


class EndpointAction(StrEnum):
    """What the session must do."""

    #: Ask the turn detector whether the turn sounds complete (answer with ``predicted``).
    PROBE = "probe"
    #: The turn sounds complete: the reply may be prepared (not played) already.
    PREEMPT = "preempt"
    #: The user goes on: drop the reply being prepared.
    CANCEL_PREEMPT = "cancel_preempt"
    #: The utterance ended: ask the recognizer for its final transcript.
    FLUSH = "flush"
    #: The user's turn is over: take it (if it holds words).
    END_OF_TURN = "end_of_turn"


@dataclass(frozen=True, slots=True)
class EndpointDecision:
    """One action and when it was decided."""

    action: EndpointAction
    time: float


@dataclass
class _Utterance:
    """The last utterance of the turn: when it ended and what became of its flush."""

    offset: float
    flush_due: float
    flushed_at: float | None = None
    complete: bool | None = None  # the detector's answer about the pause after it


class Endpointing:
    """The rules of :mod:`bargein.agent.endpointing`, fed one event at a time.

    ``detector``: a turn detector will answer ``PROBE`` (without one, every turn waits
    ``min_delay``).
    """

    def __init__(self, options: EndpointingOptions, *, acknowledged_flush: bool = False,
                 detector: bool = False) -> None:
        self.options = options
        self.acknowledged_flush = acknowledged_flush
        self.detector = detector
        self._voice_open = False
        self._voice_onset = 0.0
        self._words_in_voice = False
        self._utterance: _Utterance | None = None
        self._held: _Utterance | None = None  # the utterance a new voice may turn out to continue
        # flushes whose final is still to come, oldest first: True if the turn waits for it
        self._pending: deque[bool] = deque()
        # the pause being judged
        self._unvoiced_since: float | None = None
        self._probed = False
        self._complete: bool | None = None
        self._preempted = False

    # -- what the session reads ------------------------------------------------------------

    @property
    def deadline(self) -> float | None:
        """When :meth:`tick` must be called next (None: no timer needed)."""
        u = self._utterance
        if self._voice_open or u is None:
            return None
        if u.flushed_at is None:
            return u.flush_due
        if self._waiting:
            return u.flushed_at + self.options.max_wait
        return None

    @property
    def voice_open(self) -> bool:
        """True while the user's voice is on."""
        return self._voice_open

    @property
    def flush_pending(self) -> bool:
        """True between the end of an utterance's voice and its flush (the recognizer should
        still hear that silence)."""
        u = self._utterance
        return not self._voice_open and u is not None and u.flushed_at is None

    @property
    def preempted(self) -> bool:
        """True while a reply may be being prepared for the turn as it stands."""
        return self._preempted

    def forget_pending_finals(self) -> None:
        """The recognizer was replaced: finals of earlier flushes will never come."""
        self._pending.clear()

    # -- events ----------------------------------------------------------------------------

    def voice_started(self, now: float, onset: float) -> list[EndpointDecision]:
        """The user's voice began at ``onset``: the turn cannot end while it lasts."""
        self._voice_open, self._voice_onset, self._words_in_voice = True, onset, False
        if self._utterance is not None:
            self._held, self._utterance = self._utterance, None
        return self._new_pause(now)

    def voicing(self, now: float, active: bool) -> list[EndpointDecision]:
        """One input frame inside the voice: ``active`` if it is voiced."""
        if not self._voice_open:
            return []
        if active:
            return self._new_pause(now) if self._unvoiced_since is not None else []
        if self._unvoiced_since is None:
            self._unvoiced_since = now
        if self.detector and not self._probed and now - self._unvoiced_since >= PROBE_PAUSE:
            return self._probe(now)
        return []

    def voice_ended(self, now: float, offset: float) -> list[EndpointDecision]:
        """The user's voice ended at ``offset``."""
        self._voice_open = False
        blip = offset - self._voice_onset < NOISE_BLIP and not self._words_in_voice
        held, self._held = self._held, None
        if blip and held is not None:
            self._utterance = held
            self._probed, self._complete = True, held.complete
            decisions = []
            if self.detector and not self._preempted:
                self._preempted = True  # the blip dropped the reply being prepared
                decisions.append(EndpointDecision(EndpointAction.PREEMPT, now))
            if held.flushed_at is not None:  # else its coming flush takes the blip along
                decisions.append(self._flush(now, waited=False))
            return decisions + self.tick(now)
        self._utterance = _Utterance(offset, offset + self._delay(), complete=self._complete)
        decisions = self._probe(now) if self.detector and not self._probed else []
        return decisions + self.tick(now)

    def predicted(self, now: float, complete: bool) -> list[EndpointDecision]:
        """The turn detector's answer to the last ``PROBE``."""
        if not self._probed or self._complete is not None:
            return []  # an answer about a pause that is over
        self._complete = complete
        u = self._utterance
        if u is not None:
            u.complete = complete
            if u.flushed_at is None:
                u.flush_due = u.offset + self._delay()
        return self.tick(now)

    def transcript(self, now: float, *, final: bool, has_words: bool) -> list[EndpointDecision]:
        """A transcript arrived (``has_words``: it holds recognized words). Only an interim
        can be about the voice in progress: a final answers an earlier flush."""
        if has_words and not final and self._voice_open:
            self._words_in_voice = True
        if final and self.acknowledged_flush:
            if self._pending:
                self._pending.popleft()  # finals come in flush order, one per flush
        elif final:
            self._pending.clear()  # the newest final answers every flush before it
        return self.tick(now)

    def tick(self, now: float) -> list[EndpointDecision]:
        """Time has moved on to ``now``."""
        u = self._utterance
        if self._voice_open or u is None:
            return []
        decisions = []
        if u.flushed_at is None:
            if now < u.flush_due - _EPS:
                return []
            decisions.append(self._flush(now, waited=True))
            u.flushed_at = now
        if self._waiting and now < u.flushed_at + self.options.max_wait - _EPS:
            return decisions
        self._utterance = None
        if not self.acknowledged_flush:
            self._pending.clear()
        self._preempted = False  # the session takes the turn, with or without that reply
        decisions.append(EndpointDecision(EndpointAction.END_OF_TURN, now))
        return decisions

    # -- helpers ------------------------------------------------------------------------------

    @property
    def _waiting(self) -> bool:
        """True while a final the turn waits for has not arrived."""
        return any(self._pending)

    def _delay(self) -> float:
        """Silence needed after the voice: short unless the detector hears an unfinished turn."""
        if self.detector and self._complete is not True:
            return self.options.max_delay
        return self.options.min_delay

    def _probe(self, now: float) -> list[EndpointDecision]:
        """Ask the detector about this pause, and let the reply be prepared meanwhile: the
        detector's answer sets the delay, the words at the end decide whether the prepared
        reply is used."""
        self._probed = True
        decisions = [EndpointDecision(EndpointAction.PROBE, now)]
        if not self._preempted:
            self._preempted = True
            decisions.append(EndpointDecision(EndpointAction.PREEMPT, now))
        return decisions

    def _new_pause(self, now: float) -> list[EndpointDecision]:
        """The voice goes on: the pause being judged (and any reply prepared for it) is over."""
        self._unvoiced_since, self._probed, self._complete = None, False, None
        if self._preempted:
            self._preempted = False
            return [EndpointDecision(EndpointAction.CANCEL_PREEMPT, now)]
        return []

    def _flush(self, now: float, *, waited: bool) -> EndpointDecision:
        self._pending.append(waited)
        return EndpointDecision(EndpointAction.FLUSH, now)
