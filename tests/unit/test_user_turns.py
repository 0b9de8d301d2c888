"""The user's turn, as a table of transcripts with their times (no models, no event loop).

Each row feeds :class:`~bargein.agent.turns.UserTurn` the recognizer's transcripts in the
order they arrive, each with the stretch of audio it transcribes, and checks what the turn
reads. Recognizers that are slow to finalize (Whisper behind pocketsphinx, a late final)
send the interims of what the user said next before the final of what came first.
"""

from __future__ import annotations

import pytest

from bargein.agent.options import UserTurnLimit
from bargein.agent.turns import UserTurn, UserTurns
from bargein.providers.stt import SpeechEvent, SpeechEventType
from bargein.providers.types import WordTiming

# (kind, text, start, end)
ROWS = {
    "an interim then its final": (
        [("interim", "could you", 1.0, 1.5), ("final", "could you send it", 1.0, 2.0)],
        "could you send it"),
    "two finals in a row": (
        [("final", "hello", 1.0, 1.4), ("final", "how are you", 2.0, 2.8)],
        "hello how are you"),
    "the final of the first speech after the interim of the next": (
        [("final", "could you send the invoice to", 4.5, 6.0),
         ("interim", "I always paid", 8.0, 9.0),
         ("final", "my work email address?", 6.2, 7.6)],
        "could you send the invoice to my work email address? I always paid"),
    "then the final of the next speech ends its interim": (
        [("interim", "I always paid", 8.0, 9.0), ("final", "earlier words", 6.2, 7.6),
         ("final", "I always paid on time", 8.0, 9.5)],
        "earlier words I always paid on time"),
    "an interim that started inside the final's audio is the same speech": (
        [("interim", "send the", 1.2, 1.6), ("final", "could you send the invoice", 1.0, 2.0)],
        "could you send the invoice"),
    "a final without a span ends any interim (as before spans were known)": (
        [("interim", "could you", 0.0, 0.0), ("final", "could you send it", 0.0, 0.0)],
        "could you send it"),
    "an empty final ends the interim of its speech": (
        [("interim", "fall off", 1.0, 1.3), ("final", "", 1.0, 1.4)],
        ""),
}


@pytest.mark.parametrize("name", list(ROWS))
def test_the_turn_reads_its_words_in_the_order_they_were_said(name):
    feed, expected = ROWS[name]
    turn = UserTurn(start=0.0)
    for kind, text, start, end in feed:
        turn.add(text, final=kind == "final", start=start, end=end)
    assert turn.transcript() == expected


def test_an_interim_the_recognizer_never_finalized_can_be_kept():
    turn = UserTurn(start=0.0)
    turn.add("could you", final=False, start=1.0, end=1.5)
    turn.keep_interim()
    turn.add("later", final=False, start=3.0, end=3.2)
    assert turn.transcript() == "could you later"
    assert turn.interim is not None and turn.interim.text == "later"


def _final(*words: tuple[str, float, float]) -> SpeechEvent:
    timed = tuple(WordTiming(w, s, e) for w, s, e in words)
    return SpeechEvent(SpeechEventType.FINAL, " ".join(w for w, _, _ in words),
                       timed[0].start, timed[-1].end, timed)


def test_words_said_before_a_turn_limit_cut_in_belong_to_the_cut_turn():
    turns = UserTurns(discard_if_protected=False, limit=UserTurnLimit(max_duration=5.0))
    turns.open(1.0)
    turns.add("could you send the invoice to", final=True, start=1.0, end=2.6)
    turns.add("I always paid", final=False, start=4.0, end=5.5)
    assert turns.check_limit(5.9, user_speaking=True) is None
    reached = turns.check_limit(6.0, user_speaking=True)
    assert reached is not None and reached.reason == "duration"
    cut = turns.cut
    assert cut is not None and cut.cut_transcript == "could you send the invoice to I always paid"
    assert turns.current is None
    turns.agent_became_audible(6.3)  # words until the cut-in is heard: the same monologue
    late = _final(("I", 4.0, 4.1), ("always", 4.1, 4.5), ("paid", 4.5, 4.9),
                  ("on", 5.9, 6.0), ("time", 6.1, 6.4), ("so", 6.6, 6.8))
    kept = turns.kept_words(late)
    assert [w.text for w in kept.answered] == ["I", "always", "paid", "on", "time"]
    assert kept.texts == ["so"] and kept.starts == [6.6]


def test_without_a_cut_in_no_word_counts_as_answered():
    turns = UserTurns(discard_if_protected=False, limit=None)
    kept = turns.kept_words(_final(("hello", 1.0, 1.4)))
    assert kept.answered == () and kept.texts == ["hello"]
    assert turns.cut is None
