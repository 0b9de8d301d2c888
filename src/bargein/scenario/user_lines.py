"""What the simulated caller says, written offline by rules.

Two kinds of text:

- **lines**: the caller's next turn. Its goals come first, in order; then follow-ups that
  react to the agent's last message (a yes/no question gets a yes, a request for
  information gets a plain "I don't have that", a statement gets a question about what the
  agent just talked about).
- **interjections**: what the caller says when it barges in. ``contextual_interjection``
  steers towards the caller's next goal or asks about what it has just heard;
  ``pick_phrase`` chooses, from a phrase pool, the phrase that fits what was heard.

Everything is a pure function of its inputs (and of the seeded ``random.Random`` passed in),
so the same conversation gives the same text. The LLM-written counterparts are in
:mod:`bargein.scenario.user_llm`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bargein.scenario.wording import NOT_CONTENT, content_words
from bargein.text import normalize_words, words

#: Built-in interjections for the "random_phrase" strategy.
DEFAULT_PHRASES: tuple[str, ...] = (
    "Sorry, can I stop you there?",
    "Wait, hold on a second.",
    "Hang on, that's not what I asked.",
    "Sorry to cut in, but I'm in a hurry.",
    "Can you get to the point?",
    "Hold on, I have a question.",
    "Sorry, could you slow down?",
    "Wait, go back to the first part.",
)

_DETERMINERS = frozenset("the a an our your my this that these those their its".split())
# Whose thing it is, seen from the caller's side of the line.
_PERSPECTIVE = {"our": "your", "your": "my", "my": "your", "a": "the", "an": "the"}

_YES_NO = re.compile(r"^(do|does|did|would|will|shall|should|can|could|is|are|was|may|have|"
                     r"has|want|need)\b", re.IGNORECASE)
_SENTENCE = re.compile(r"[^.!?]*[.!?]?")


@dataclass(frozen=True)
class Turn:
    """One line of the conversation so far, as the caller lived it.

    ``cut_off`` marks an agent message cut short by a barge-in: ``text`` then holds only the
    words the caller heard.
    """

    speaker: Literal["user", "agent"]
    text: str
    cut_off: bool = False


def conversation_so_far(utterances: Sequence[object],
                        agent_messages: Sequence[tuple[float, str, bool]]) -> list[Turn]:
    """The conversation in spoken order, from the run's user utterances (objects with
    ``onset``, ``text`` and ``barge_in``) and agent messages ``(time, text, interrupted)``.

    An agent message is reported when it ends; one that a barge-in cut short is placed before
    the barge-in that cut it, where the caller heard it.
    """
    placed: list[tuple[float, int, Turn]] = []
    barge_onsets = sorted(float(u.onset) for u in utterances  # type: ignore[attr-defined]
                          if getattr(u, "barge_in", False))
    for u in utterances:
        text = str(u.text).strip()  # type: ignore[attr-defined]
        if text:
            placed.append((float(u.onset), 1, Turn("user", text)))  # type: ignore[attr-defined]
    for at, text, interrupted in agent_messages:
        if not text.strip():
            continue
        key = at
        if interrupted:
            earlier = [t for t in barge_onsets if t <= at + 1e-9]
            if earlier:
                key = earlier[-1]
        placed.append((key, 0, Turn("agent", text.strip(), bool(interrupted))))
    placed.sort(key=lambda p: (p[0], p[1]))
    return [turn for _, _, turn in placed]


# -- lines -------------------------------------------------------------------------------------

def follow_up(conversation: Sequence[Turn], asked: int) -> str:
    """The caller's next line once its goals are said, reacting to the agent's last message.

    ``asked`` counts the follow-ups said so far (they are not repeated).
    """
    last = next((t for t in reversed(conversation) if t.speaker == "agent"), None)
    question = _last_question(last.text) if last is not None and not last.cut_off else None
    if question is not None:
        if _YES_NO.match(question):
            return ("Yes, please.", "Yes, that would be great, thanks.",
                    "Yes, go ahead.")[asked % 3]
        return ("I don't have that to hand right now. Can we carry on without it?",
                "I'm not sure, to be honest. What would you suggest?",
                "I'd rather not say. Is that a problem?")[asked % 3]
    topic = topic_of(words(last.text)) if last is not None else None
    said = " ".join(t.text.lower() for t in conversation if t.speaker == "user")
    if topic is not None and topic.lower() not in said:
        return f"Okay. Can you tell me a bit more about {topic}?"
    generic = ("Okay, thanks. Is there anything else I should know?",
               "Got it. What do I need to do next?",
               "That helps. How long does that usually take?",
               "Thanks, that's everything I needed.")
    return generic[min(asked, len(generic) - 1)]


def _last_question(text: str) -> str | None:
    sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    if sentences and sentences[-1].endswith("?"):
        return sentences[-1]
    return None


# -- interjections -------------------------------------------------------------------------------

def topic_of(heard: Sequence[str]) -> str | None:
    """The latest noun phrase in the heard words, from the caller's side of the line
    ("our premium plan" -> "your premium plan", "a refund" -> "the refund"), or None.

    A noun phrase here is a determiner followed by one to three content words; politeness,
    fillers and function words ("sorry", "certainly", "that") never make one.
    """
    tokens = [w for w in heard if w]
    for i in range(len(tokens) - 1, -1, -1):
        det = tokens[i].lower()
        if det not in _DETERMINERS:
            continue
        phrase: list[str] = []
        for w in tokens[i + 1: i + 4]:
            norm = normalize_words(w)
            if len(norm) != 1 or norm[0] in NOT_CONTENT or norm[0] in _DETERMINERS \
                    or not norm[0].isalpha():
                break
            phrase.append(w.strip(".,;:!?\"'").lower())
            if w.rstrip("\"'")[-1:] in ".,;:!?":
                break  # the phrase ends with the clause
        if phrase and len(phrase[-1]) >= 3:
            return f"{_PERSPECTIVE.get(det, det)} {' '.join(phrase)}"
    return None


def contextual_interjection(heard: Sequence[str], goal: str | None,
                            rng: random.Random) -> str:
    """A barge-in that fits the moment: steer to ``goal`` (the caller's next unsaid goal) when
    there is one, else ask about the latest thing heard, else a built-in phrase."""
    topic = topic_of(heard)
    if goal:
        opener = rng.choice(("Sorry to cut in, but", "Sorry, before you go on,",
                             "Hang on,"))
        return f"{opener} {_as_clause(goal)}"
    if topic:
        template = rng.choice(("Sorry, can you go back to {t}?",
                               "Hang on, what exactly do you mean by {t}?",
                               "Wait, tell me more about {t} first."))
        return template.format(t=topic)
    return rng.choice(DEFAULT_PHRASES)


def pick_phrase(phrases: Sequence[str], heard: Sequence[str], goal: str | None,
                rng: random.Random) -> str:
    """The phrase of ``phrases`` that shares the most content words with what was heard and
    the caller's next goal; a seeded draw among the best (all of them when none shares any)."""
    context = content_words(" ".join([*heard, goal or ""]))
    scores = [len(context & content_words(p)) for p in phrases]
    best = max(scores)
    return rng.choice([p for p, s in zip(phrases, scores, strict=True) if s == best])


def _as_clause(sentence: str) -> str:
    """A sentence to follow "Sorry to cut in, but": first letter lowered unless it is "I" or
    looks like a name, and ending punctuation kept (a period if it had none)."""
    text = sentence.strip()
    first = text.split(" ", 1)[0]
    if first.lower() not in ("i", "i'm", "i'd", "i'll", "i've") and first[:1].isupper() \
            and first[1:].islower():
        text = text[0].lower() + text[1:]
    return text if text[-1:] in ".!?" else text + "."
