"""The words signal for end of turn, and how it combines with the voice."""

import math

import pytest

from bargein.audio.frame import AudioFrame
from bargein.providers.combined_turn import CombinedTurnDetector, combine
from bargein.providers.text_turn import LEAN_PROBABILITY, Lean, TextTurnDetector, text_cue
from bargein.providers.turn_detector import TurnPrediction

CONTINUES = [
    "I'd like to book a table for",  # preposition
    "My account number is",  # copula after a noun
    "So what I was wondering is whether",  # conjunction
    "I moved house in March and",
    "I tried to pay with my",  # determiner
    "Please transfer me to",
    "Could you send the invoice to",  # a yes/no question does not strand a preposition
    "The problem started when I",  # subject pronoun
    "I need to, um",  # filler
    "Um, so",
    "My name's",  # contraction
    "What I really want to know is",
    "I think that",  # a clause opener
    "a level of thought, which",
    "I'm looking for something that",
    "The heating has been broken since",
]
MAY_CONTINUE = [
    "Well, the thing is,",  # trailing comma
    "I was going to say...",
    "my phone number is five five five",  # a short group of digits after "number"
    "I was hoping that you could",  # a long turn ending "subject + auxiliary"
]
NEUTRAL = [
    "I'd like to book a table for four people on Friday evening.",
    "My order never arrived",
    "I think so",
    "yes I can",  # auxiliary after a subject pronoun closes a short answer
    "What is it for?",  # a wh-question may strand a preposition
    "Who am I talking to",
    "my phone number is five five five one two three four",
    "I'll take some of those",
    "Up.",  # a one-word turn
    "what was happening outside.",
    "",
]
MAY_END = ["Can you send it to me please", "That's all, thank you", "Is it open on Sunday?"]
ENDS = ["Yes.", "No thanks", "okay", "Bye!", "Oh, yes please", "Uh-huh.", "Mm-hmm, okay."]


@pytest.mark.parametrize(
    ("lean", "texts"),
    [
        (Lean.CONTINUES, CONTINUES),
        (Lean.MAY_CONTINUE, MAY_CONTINUE),
        (Lean.NEUTRAL, NEUTRAL),
        (Lean.MAY_END, MAY_END),
        (Lean.ENDS, ENDS),
    ],
)
def test_text_cue_table(lean, texts):
    got = {t: text_cue(t).lean for t in texts}
    assert got == dict.fromkeys(texts, lean)


def test_stranded_like_in_a_wh_question_is_no_cue():
    assert text_cue("What's the weather like").lean is Lean.NEUTRAL
    assert text_cue("I would like").lean is Lean.CONTINUES


def test_cue_reads_punctuation_and_casing_the_same():
    assert text_cue("MY ACCOUNT NUMBER IS").lean is text_cue("my account number is").lean
    assert text_cue("I’d like to book a table for").lean is Lean.CONTINUES  # curly apostrophe


def test_reason_names_the_word():
    assert "for" in text_cue("a table for").reason


@pytest.mark.parametrize("bad", [None, 3, b"bytes"])
def test_text_cue_refuses_non_text(bad):
    with pytest.raises(TypeError):
        text_cue(bad)


def test_text_detector_probabilities_follow_the_lean():
    detector = TextTurnDetector()
    assert detector.needs_audio is False
    p = detector.predict(None, "a table for")
    assert isinstance(p, TurnPrediction)
    assert p.probability == LEAN_PROBABILITY[Lean.CONTINUES] and not p.complete
    assert detector.predict(None, "Yes.").complete
    assert detector.predict(None, None).probability == LEAN_PROBABILITY[Lean.NEUTRAL]


@pytest.mark.parametrize("bad", [-0.1, 1.5, math.nan, math.inf, "0.5", True])
def test_threshold_must_be_a_probability(bad):
    with pytest.raises((ValueError, TypeError)):
        TextTurnDetector(threshold=bad)


# -- combination rule -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("audio", "lean", "expected"),
    [
        (0.95, Lean.CONTINUES, 0.05),  # the words veto "complete"
        (0.02, Lean.CONTINUES, 0.02),
        (0.30, Lean.NEUTRAL, 0.30),  # the voice decides
        (0.10, Lean.ENDS, 0.95),  # a whole short answer overrides "unfinished"
        (0.99, Lean.ENDS, 0.99),
        (0.50, Lean.MAY_CONTINUE, 0.25),  # log-odds sum
        (0.50, Lean.MAY_END, 0.80),
    ],
)
def test_combine_rule(audio, lean, expected):
    assert combine(audio, lean) == pytest.approx(expected, abs=1e-9)


def test_leaning_cues_move_the_voice_the_right_way():
    for a in (0.1, 0.4, 0.6, 0.9):
        assert combine(a, Lean.MAY_CONTINUE) < a < combine(a, Lean.MAY_END)


@pytest.mark.parametrize("bad", [-0.01, 1.01, math.nan])
def test_combine_refuses_bad_probabilities(bad):
    with pytest.raises(ValueError):
        combine(bad, Lean.NEUTRAL)


class _Voice:
    """A scripted audio detector: the timing-free stand-in for smart-turn in unit tests."""

    needs_audio = True
    threshold = 0.5

    def __init__(self, probability: float) -> None:
        self.p = probability
        self.calls = 0

    def predict(self, audio, transcript=None):
        self.calls += 1
        return TurnPrediction(self.p, self.p >= 0.5, audio_probability=self.p)


AUDIO = AudioFrame.silence(0.5, 16000)


def test_combined_detector_applies_the_rule_and_explains():
    detector = CombinedTurnDetector(audio=_Voice(0.95))
    p = detector.predict(AUDIO, "I'd like to book a table for")
    assert not p.complete and p.probability == pytest.approx(0.05)
    assert p.audio_probability == 0.95 and p.text_probability == 0.05
    assert "for" in p.reason


def test_combined_detector_uses_each_part_alone():
    voice = _Voice(0.2)
    detector = CombinedTurnDetector(audio=voice)
    assert detector.predict(AUDIO, None).probability == 0.2  # no recognizer: voice only
    words_only = detector.predict(None, "Yes.")  # no audio: words only
    assert words_only.complete and voice.calls == 1
    with pytest.raises(ValueError):
        detector.predict(None, None)


def test_trusted_punctuation_ends_a_written_sentence() -> None:
    """The oracle's transcript is what the caller wrote: a full sentence ends the turn even
    when the (synthetic) voice sounds unfinished; a sentence cut before its end does not."""
    from bargein.providers.combined_turn import CombinedTurnDetector
    from bargein.providers.turn_detector import TurnPrediction

    class Unsure:
        needs_audio = True
        threshold = 0.5

        def predict(self, audio, transcript=None):
            return TurnPrediction(0.05, False, audio_probability=0.05)

    audio = AudioFrame.silence(1.0, 16000)
    trusted = CombinedTurnDetector(Unsure(), trust_punctuation=True)
    plain = CombinedTurnDetector(Unsure())
    assert trusted.predict(audio, "What are your business hours?").complete
    assert not plain.predict(audio, "What are your business hours?").complete
    assert not trusted.predict(audio, "I'd like to book a table for").complete
    assert not trusted.predict(audio, "I'd like to book a table for.").complete  # veto stays
    assert not trusted.predict(audio, "Can you check whether my order").complete
