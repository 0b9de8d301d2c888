"""Text helpers shared across layers: word splitting, normalisation, word error rate."""

from __future__ import annotations

import re

_WORD = re.compile(r"[\w']+", re.UNICODE)

#: Words that acknowledge without taking the floor ("uh-huh", "yeah", "right", ...), as
#: normalised words ("uh-huh" normalises to "uh", "huh").
BACKCHANNEL_WORDS = frozenset(
    {
        "uh-huh", "uh", "huh", "uhhuh", "mhm", "mm-hmm", "mmhmm", "mm", "hmm", "mmm", "hm",
        "um", "yeah", "yep", "yes", "yup", "right", "okay", "ok", "sure", "alright", "ah",
        "oh", "aha",
    }
)  # fmt: skip


def is_backchannel(text: str, vocabulary: frozenset[str] = BACKCHANNEL_WORDS) -> bool:
    """True if ``text`` has words and every one is a backchannel ("Uh-huh, yeah.").

    The one definition of a backchannel utterance: the scenario metrics, the benchmark and
    the agent's default :class:`~bargein.agent.options.InterruptionOptions` share
    :data:`BACKCHANNEL_WORDS`; pass the agent's own ``vocabulary`` when it differs.
    """
    said = normalize_words(text)
    return bool(said) and all(w in vocabulary for w in said)


_NUMBER_WORDS = {
    "0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five",
    "6": "six", "7": "seven", "8": "eight", "9": "nine", "10": "ten",
}  # fmt: skip


def words(text: str) -> list[str]:
    """Split text into words as written (punctuation dropped, apostrophes kept)."""
    return _WORD.findall(text)


def unspeakable(text: object) -> str | None:
    """Why ``text`` cannot be spoken by a TTS, or None if it can.

    Speakable text is a ``str`` with at least one word (letters or digits: "😀" alone has
    none), without control characters other than tab and newline (a NUL would end the text
    early inside a C library) and without unpaired surrogates (they cannot be encoded).
    """
    if not isinstance(text, str):
        return f"it is not text ({type(text).__name__})"
    if not text.strip():
        return "it is empty or only whitespace"
    bad = next((c for c in text if (c < " " and c not in "\t\n\r") or c == "\x7f"), None)
    if bad is not None:
        return f"it holds the control character {bad!r}"
    if any("\ud800" <= c <= "\udfff" for c in text):
        return "it holds an unpaired surrogate (not valid Unicode text)"
    if not words(text):
        return "it has no words to speak (only symbols, punctuation or emoji)"
    return None


def normalize_words(text: str) -> list[str]:
    """Lower-case words for comparison: punctuation dropped, single digits spelled out."""
    out = []
    for w in words(text.lower().replace("’", "'")):
        out.append(_NUMBER_WORDS.get(w, w))
    return out


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, on normalised words.

    An empty reference gives 0.0 for an empty hypothesis and 1.0 otherwise.
    """
    ref = normalize_words(reference)
    hyp = normalize_words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)


def edit_distance(a: list[str], b: list[str]) -> int:
    """Levenshtein distance between two word sequences."""
    prev = list(range(len(b) + 1))
    for i, wa in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, wb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (wa != wb))
        prev = cur
    return prev[-1]


_SENTENCE = re.compile(r"[^.!?]+[.!?]+(?=\s|$)")


def count_sentences(text: str) -> int:
    """Number of finished sentences (ending in . ! or ? before a space or the end)."""
    return len(_SENTENCE.findall(text))


#: The longest piece of text synthesized in one go (about 40 words, 12 s of speech): a
#: sentence without punctuation is cut at a clause break or a space before this.
MAX_SPEECH_UNIT = 250


def unit_end(text: str, max_chars: int = MAX_SPEECH_UNIT) -> int | None:
    """Where the first piece of ``text`` worth synthesizing ends: after its first finished
    sentence, or, for text that runs on past ``max_chars`` without one, after the last clause
    break (``,;:``) or space before that; None while neither is known yet."""
    end = sentence_end(text[: max_chars + 1])  # only the head: the rest may be huge
    if end is not None:
        return end
    if len(text) <= max_chars:
        return None
    head = text[:max_chars]
    for marks in (",;:", " \t\n"):
        cut = max(head.rfind(m) for m in marks)
        if cut > 0 and head[:cut].strip():
            return cut + 1
    return max_chars  # one word longer than a unit: cut it


def sentence_end(text: str) -> int | None:
    """Index just past the first finished sentence of ``text`` followed by a space, or None.

    A sentence at the very end of the text is not yet known to be finished (more text may
    follow in a stream), so it is not reported.
    """
    for i in range(len(text) - 1):
        if text[i] in ".!?" and text[i + 1].isspace() and text[: i + 1].strip(".!? "):
            return i + 1
    return None
