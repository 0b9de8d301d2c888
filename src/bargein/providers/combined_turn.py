"""End of turn from the voice and the words together.

The audio model hears prosody (a falling pitch, a drawn-out last syllable) but not grammar;
it was trained on human speech, and synthetic voices fool it ("I'd like to book a table for"
in espeak-ng sounds finished to it, 0.95). The words know grammar but not intonation. The
rule of combination, applied to the audio probability ``a`` and the transcript's
:class:`~bargein.providers.text_turn.TextCue`:

============  ===============================================================
words lean    combined probability
============  ===============================================================
continues     ``min(a, 0.05)``: the words veto a "complete" from the voice
may_continue  log-odds sum of ``a`` and 0.25 (pulls towards "not yet")
neutral       ``a``: the voice decides
may_end       log-odds sum of ``a`` and 0.8 (pulls towards "done")
ends          ``max(a, 0.95)``: a whole short answer ("yes", "no thanks") ends the
              turn even when the voice sounds unfinished
============  ===============================================================

Without a transcript the result is the voice alone; without audio, the words alone.
"""

from __future__ import annotations

import math

from bargein.audio.frame import AudioFrame
from bargein.providers.text_turn import LEAN_PROBABILITY, Lean, TextTurnDetector
from bargein.providers.turn_detector import (
    DEFAULT_THRESHOLD,
    TurnDetector,
    TurnPrediction,
    check_probability,
)

__all__ = ["CombinedTurnDetector", "combine"]

_EPS = 1e-6
#: With ``trust_punctuation``: a sentence written to its end is at least this likely done.
SENTENCE_END_PROBABILITY = 0.9


def _logit(p: float) -> float:
    p = min(1.0 - _EPS, max(_EPS, p))
    return math.log(p / (1.0 - p))


def combine(audio_probability: float, lean: Lean) -> float:
    """The combined probability for the voice's ``audio_probability`` and the words' lean."""
    a = check_probability("audio_probability", audio_probability)
    t = LEAN_PROBABILITY[lean]
    if lean is Lean.CONTINUES:
        return min(a, t)
    if lean is Lean.ENDS:
        return max(a, t)
    if lean is Lean.NEUTRAL:
        return a
    return 1.0 / (1.0 + math.exp(-(_logit(a) + _logit(t))))


class CombinedTurnDetector:
    """The voice (an audio :class:`TurnDetector`) and the words (:class:`TextTurnDetector`).

    Args:
        audio: the audio detector; ``SmartTurnDetector()`` when None (needs extra ``turn``).
        text: the words detector; ``TextTurnDetector()`` when None.
        threshold: probability at or above which the combined answer is "complete".
        trust_punctuation: the transcript's sentence punctuation follows what the speaker
            said (the oracle recognizer in simulation, which knows the written text): a
            sentence that ends with ``.``, ``?`` or ``!`` and whose words do not lean towards
            going on ends the turn (``max(a, 0.9)``). Leave it off for real recognizers:
            Whisper ends fragments with a full stop of its own ("...a table for it.").
    """

    needs_audio = True

    def __init__(
        self,
        audio: TurnDetector | None = None,
        text: TextTurnDetector | None = None,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        trust_punctuation: bool = False,
    ) -> None:
        if not isinstance(trust_punctuation, bool):
            raise TypeError(f"trust_punctuation must be True or False, got {trust_punctuation!r}")
        self.trust_punctuation = trust_punctuation
        if audio is None:
            from bargein.providers.smart_turn import SmartTurnDetector

            audio = SmartTurnDetector()
        self.audio = audio
        self.text = text if text is not None else TextTurnDetector()
        self._threshold = check_probability("threshold", threshold)

    @property
    def threshold(self) -> float:
        """Probability at or above which a turn is complete."""
        return self._threshold

    def __repr__(self) -> str:
        return f"CombinedTurnDetector(audio={self.audio!r}, text={self.text!r})"

    def predict(self, audio: AudioFrame | None, transcript: str | None = None) -> TurnPrediction:
        """Voice and words combined by the module's rule (see the module docstring)."""
        if audio is None and transcript is None:
            raise ValueError("a turn detector needs the turn's audio, its transcript, or both")
        if audio is None:
            return self._done(self.text.predict(None, transcript))
        heard = self.audio.predict(audio, None)
        a = heard.audio_probability if heard.audio_probability is not None else heard.probability
        if transcript is None:
            return self._done(heard)
        cue = self.text.cue(transcript)
        p = combine(a, cue.lean)
        if cue.lean is Lean.NEUTRAL:
            reason = f"voice {a:.2f}; words have no cue"
        else:
            reason = f"voice {a:.2f}; words {cue.lean.value}: {cue.reason}"
        if self.trust_punctuation and cue.lean in (Lean.NEUTRAL, Lean.MAY_END) \
                and transcript.rstrip().rstrip("\"')]»”’").endswith((".", "?", "!")):
            p = max(p, SENTENCE_END_PROBABILITY)
            reason += "; the sentence is written to its end"
        return TurnPrediction(
            probability=p,
            complete=p >= self._threshold,
            audio_probability=a,
            text_probability=cue.probability,
            reason=reason,
        )

    def _done(self, part: TurnPrediction) -> TurnPrediction:
        """A part's answer, judged against this detector's threshold."""
        return TurnPrediction(
            probability=part.probability,
            complete=part.probability >= self._threshold,
            audio_probability=part.audio_probability,
            text_probability=part.text_probability,
            reason=part.reason,
        )
