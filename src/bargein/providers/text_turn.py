"""End of turn from the words: does the transcript so far read like a finished turn?

Pure Python, no model. The last words of a transcript often say that more is coming: a
conjunction ("...and"), a preposition ("a table for"), a determiner ("my"), a copula or
auxiliary after a noun ("my number is"), a subject pronoun ("when I"), a clause opener ("I
think that", "..., which"), a filler ("um"), a trailing comma or ellipsis, a short group of
digits after "number". Others say the turn is over: a question mark, a closing word
("thanks", "please", "bye"), or a whole turn that is a short answer ("yes", "no thanks").
Anything else carries no opinion and leaves the decision to the voice.

A final full stop is not a cue: recognizers such as Whisper put one after fragments too.

Each transcript gets one :class:`TextCue` with a :class:`Lean` and the probability it stands
for (see :data:`LEAN_PROBABILITY`); :class:`TextTurnDetector` turns that into a
:class:`~bargein.providers.turn_detector.TurnPrediction`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bargein.audio.frame import AudioFrame
from bargein.providers.turn_detector import DEFAULT_THRESHOLD, TurnPrediction, check_probability
from bargein.text import BACKCHANNEL_WORDS, normalize_words

__all__ = ["LEAN_PROBABILITY", "Lean", "TextCue", "TextTurnDetector", "text_cue"]


class Lean(StrEnum):
    """Which way, and how firmly, the words point."""

    CONTINUES = "continues"  # the words cannot end here ("...a table for")
    MAY_CONTINUE = "may_continue"  # they rarely end here ("...I mean", trailing comma)
    NEUTRAL = "neutral"  # no opinion: the voice decides
    MAY_END = "may_end"  # a question mark, a closing word ("...please")
    ENDS = "ends"  # the whole turn is a closed short answer ("yes", "no thanks")


#: The probability of a finished turn that each lean stands for.
LEAN_PROBABILITY = {
    Lean.CONTINUES: 0.05,
    Lean.MAY_CONTINUE: 0.25,
    Lean.NEUTRAL: 0.6,
    Lean.MAY_END: 0.8,
    Lean.ENDS: 0.95,
}


@dataclass(frozen=True, slots=True)
class TextCue:
    """What the words say about the end of the turn, and why (``reason``)."""

    lean: Lean
    reason: str

    @property
    def probability(self) -> float:
        """The probability of a finished turn this cue stands for."""
        return LEAN_PROBABILITY[self.lean]


_CONJUNCTIONS = frozenset(
    "and but or nor because cause cuz cos if when whenever while whilst although though "
    "unless until till since whereas whether than as once plus".split()
)
_PREPOSITIONS = frozenset(
    "for to of with from at by into onto about like between through during without within "
    "towards toward per via including regarding except upon across against among amongst "
    "beside besides despite unlike".split()
)
_DETERMINERS = frozenset("the a an my your our their its his every each another".split())
_AUXILIARIES = frozenset(
    "is are was were am be been being has have had do does did will would can could should "
    "shall may might must gonna wanna gotta".split()
)
_SUBJECTS = frozenset("i we they he she you it there that this who what which".split())
_FILLERS = frozenset("um uh er erm uhm umm uhh ehm".split())
#: Words after which "that" opens a clause ("I think that", "the fact that", "something that").
_THAT_CLAUSE = frozenset(
    "think thought said say says know knew mean meant hope believe sure fact guess told tell "
    "feel felt is was so realise realize seems something anything everything someone anyone "
    "one thing things way time place reason".split()
)
_RELATIVES = frozenset("which who whom whose".split())
_WH = frozenset("what where when who whom whose which why how".split())
_CLOSING = frozenset("thanks please bye goodbye cheers".split())
_CLOSING_PAIRS = frozenset({("thank", "you"), ("that's", "all"), ("that's", "it")})
#: Turns that are complete on their own when they are the whole transcript: backchannels
#: ("uh-huh", "yeah") and short answers.
_SHORT_ANSWERS = BACKCHANNEL_WORDS | frozenset(
    "no nope nah thanks hello hi hey bye goodbye correct exactly perfect great fine "
    "fantastic absolutely definitely please".split()
)
_SHORT_ANSWER_FILLERS = frozenset("oh um uh well no thanks thank you not really".split())
_DIGITS = frozenset(
    "zero oh one two three four five six seven eight nine ten double triple".split()
)
_NUMBER_KEYWORDS = frozenset(
    "number phone mobile code pin digits card account zip postcode reference".split()
)
_THINK_VERBS = frozenset("think hope guess believe suppose said say do not".split())


def _is_wh_question(tokens: list[str], text: str) -> bool:
    """Ends in "?" or starts with a wh-word: a question that may strand a preposition
    ("what is it for", "who am I talking to")."""
    return text.endswith("?") or (bool(tokens) and tokens[0].split("'")[0] in _WH)


def _trailing_digits(tokens: list[str]) -> int:
    count = 0
    for token in reversed(tokens):
        if token in _DIGITS or token.isdigit():
            count += len(token) if token.isdigit() else 1
        else:
            break
    return count


def text_cue(transcript: str) -> TextCue:
    """Read the end of ``transcript`` (any casing and punctuation) for end-of-turn cues."""
    if not isinstance(transcript, str):
        raise TypeError(f"transcript must be a str, got {type(transcript).__name__}")
    text = transcript.strip().rstrip("\"')]»”’ ")
    tokens = normalize_words(text)
    if not tokens:
        return TextCue(Lean.NEUTRAL, "no words")
    last = tokens[-1]
    before = tokens[-2] if len(tokens) > 1 else ""
    question = _is_wh_question(tokens, text)

    if text.endswith(("...", "…", ",", ";", ":", "-", "—", "–")):
        return TextCue(Lean.MAY_CONTINUE, f"ends with {text[-1]!r}")
    if last in _FILLERS:
        return TextCue(Lean.CONTINUES, f"ends with the filler {last!r}")
    if all(t in _SHORT_ANSWERS or t in _SHORT_ANSWER_FILLERS for t in tokens) and len(tokens) <= 3:
        return TextCue(Lean.ENDS, "a short answer")
    if last in _CLOSING or (before, last) in _CLOSING_PAIRS:
        return TextCue(Lean.MAY_END, f"ends with the closing {last!r}")
    if last == "so":
        if before in _THINK_VERBS or before in {"i", "do", "not"}:
            return TextCue(Lean.NEUTRAL, "'so' closes the phrase")
        return TextCue(Lean.CONTINUES, "ends with 'so'")
    if last in _CONJUNCTIONS:
        return TextCue(Lean.CONTINUES, f"ends with the conjunction {last!r}")
    if last in _PREPOSITIONS:
        if question:
            return TextCue(Lean.NEUTRAL, f"a question may end with {last!r}")
        return TextCue(Lean.CONTINUES, f"ends with the preposition {last!r}")
    if last in _DETERMINERS:
        return TextCue(Lean.CONTINUES, f"ends with the determiner {last!r}")
    if last.endswith(("'s", "'re", "'ve", "'ll", "'d", "'m")) and last not in {"let's"}:
        return TextCue(Lean.CONTINUES, f"ends with the contraction {last!r}")
    if last in _AUXILIARIES:
        if len(tokens) == 1 or before in {"not", "so", "too", "also"}:
            return TextCue(Lean.NEUTRAL, f"{before} {last!r} can close a short answer")
        if before in _SUBJECTS:
            if len(tokens) <= 4:  # "yes I can", "I think it is"
                return TextCue(Lean.NEUTRAL, f"'{before} {last}' can close a short answer")
            return TextCue(Lean.MAY_CONTINUE, f"'{before} {last}' usually needs a verb")
        return TextCue(Lean.CONTINUES, f"ends with the verb {last!r} after {before!r}")
    if last in {"i", "we", "they", "he", "she"} and before not in _AUXILIARIES:
        return TextCue(Lean.CONTINUES, f"ends with the subject {last!r}")
    digits = _trailing_digits(tokens)
    if 0 < digits <= 3 and any(t in _NUMBER_KEYWORDS for t in tokens[:-digits]):
        return TextCue(Lean.MAY_CONTINUE, f"only {digits} digit(s) of a number so far")
    if last == "that" and before in _THAT_CLAUSE:
        return TextCue(Lean.CONTINUES, f"'{before} that' opens a clause")
    if last in _RELATIVES and not question and len(tokens) > 1:
        return TextCue(Lean.CONTINUES, f"ends with the relative {last!r}")
    if text.endswith("?"):
        return TextCue(Lean.MAY_END, "a question")
    return TextCue(Lean.NEUTRAL, "no cue in the last words")


class TextTurnDetector:
    """End of turn from the transcript alone (a :class:`TurnDetector` that ignores audio).

    The probability is the one of the transcript's :class:`Lean` (:data:`LEAN_PROBABILITY`);
    without a transcript it is the neutral one. Costs microseconds.
    """

    needs_audio = False

    def __init__(self, *, threshold: float = DEFAULT_THRESHOLD) -> None:
        self._threshold = check_probability("threshold", threshold)

    @property
    def threshold(self) -> float:
        """Probability at or above which a turn is complete."""
        return self._threshold

    def __repr__(self) -> str:
        return f"TextTurnDetector(threshold={self._threshold})"

    def cue(self, transcript: str | None) -> TextCue:
        """The cue of ``transcript`` (neutral for None)."""
        if transcript is None:
            return TextCue(Lean.NEUTRAL, "no transcript")
        return text_cue(transcript)

    def predict(self, audio: AudioFrame | None, transcript: str | None = None) -> TurnPrediction:
        """Probability from the words alone (``audio`` is not used)."""
        cue = self.cue(transcript)
        p = cue.probability
        return TurnPrediction(
            probability=p,
            complete=p >= self._threshold,
            text_probability=p,
            reason=f"words: {cue.reason}",
        )
