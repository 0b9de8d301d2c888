"""How text is cut into pieces for synthesis: sentences, and run-on text capped in length."""

from bargein.providers.espeak_tts import _sentences
from bargein.text import MAX_SPEECH_UNIT, unit_end


def test_a_finished_sentence_is_a_unit() -> None:
    assert unit_end("Hello there. How") == len("Hello there.")
    assert unit_end("Hello there") is None  # may go on


def test_run_on_text_is_cut_at_a_clause_break_then_at_a_space() -> None:
    clauses = "first part, second part, " * 20
    cut = unit_end(clauses)
    assert cut is not None and cut <= MAX_SPEECH_UNIT and clauses[cut - 1] == ","
    plain = "word " * 100
    cut = unit_end(plain)
    assert cut is not None and cut <= MAX_SPEECH_UNIT and plain[cut - 1] == " "
    assert unit_end("x" * 400) == MAX_SPEECH_UNIT  # one endless word: cut anyway


def test_a_sentence_beyond_the_cap_is_not_waited_for() -> None:
    text = "word " * 60 + "end. Next"
    assert unit_end(text) <= MAX_SPEECH_UNIT


def test_espeak_pieces_cover_a_run_on_text_in_capped_units() -> None:
    text = " ".join(f"word{i % 10}" for i in range(3000))
    spans = _sentences(text)
    assert all(end - start <= MAX_SPEECH_UNIT for start, end in spans)
    assert " ".join(text[a:b] for a, b in spans).split() == text.split()
    assert _sentences("Hello there. How are you?") == [(0, 12), (13, 25)]
