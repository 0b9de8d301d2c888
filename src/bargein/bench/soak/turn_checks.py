"""The soak checks on the caller's turns: **lost turns** (an utterance with real words that
reached neither the history nor an answer, without a documented reason) and **double
answers** (two answers to one turn, or a turn taken again with nothing new said)."""

from __future__ import annotations

from bargein.bench.soak.call_view import EPS, CallView
from bargein.bench.soak.caller import FINAL_SETTLE, CallerLine
from bargein.bench.soak.problems import CallFacts, Problem, TurnStats, shorten
from bargein.text import BACKCHANNEL_WORDS, normalize_words

__all__ = [
    "CUT_IN_LAG",
    "RECOGNITION_WINDOW",
    "SHORT_UTTERANCE",
    "WORD_SHARE",
    "double_answers",
    "lost_turns",
]

#: A user message holding at least this share of an utterance's words took it.
WORD_SHARE = 0.5
#: Seconds after an utterance the recognizer has to report its words, and after a turn was
#: taken the agent has to be heard answering it (a fault in them may have killed either).
RECOGNITION_WINDOW = 4.0
#: A word begun less than this before a turn-limit cut-in was decided was not in the
#: transcript the cut-in took (the word was not over, or its transcript not in yet): it is
#: answered by the cut-in, as the runtime counts every word said until the cut-in is heard
#: as part of the monologue it cuts off.
CUT_IN_LAG = 0.3
#: An utterance this short (seconds of speech) that the agent's VAD never reported (no
#: ``user_state`` speaking over it) was not heard: a perception miss, not a lost turn. A
#: longer one is counted lost: a deaf agent must not pass for a hard of hearing one.
SHORT_UTTERANCE = 1.2


def _content(words: list[str]) -> set[str]:
    return {w for w in normalize_words(" ".join(words)) if w not in BACKCHANNEL_WORDS}


def lost_turns(view: CallView, lines: list[CallerLine], facts: CallFacts,
               stats: TurnStats) -> list[Problem]:
    """Utterances with real words that reached neither the history nor an answer, without a
    documented reason."""
    problems: list[Problem] = []
    wordy = [line for line in lines if line.wordy]
    for i, line in enumerate(wordy):
        u = line.utterance
        discard = facts.discards_over_protected is not False
        kept = [(t, w) for t, w in line.words if not (discard and view.protected_at(t))]
        content = _content([w for _, w in kept])
        stats.utterances += 1
        if not content:
            stats.excuse("said over protected speech")
            continue
        first = kept[0][0]
        due = wordy[i + 1].utterance.onset if i + 1 < len(wordy) else view.end
        if _answered(view, line, kept, content, facts.exact_words):
            stats.answered += 1
            continue
        reason = _excuse(view, line, facts, due)
        if reason is not None:
            stats.excuse(reason)
            continue
        taken = _taken_at(view, first, content, facts.exact_words)
        what = "never reached the history" if taken is None else \
            f"was taken at {taken:.2f} s but never answered"
        problems.append(Problem("lost_turn", f'"{shorten(line.text)}" ({u.onset:.2f}-'
                                f"{u.end:.2f} s) {what}", u.onset))
    return problems


def _taken_at(view: CallView, first: float, content: set[str], exact: bool) -> float | None:
    """When a user message that holds the utterance entered the history."""
    for t, text in view.user_messages:
        if t < first - EPS:
            continue
        if not exact or len(content & set(normalize_words(text))) >= WORD_SHARE * len(content):
            return t
    return None


def _answered(view: CallView, line: CallerLine, kept: list[tuple[float, str]],
              content: set[str], exact: bool) -> bool:
    u = line.utterance
    first = kept[0][0]
    cut_in = next((t for t in view.exceeded if u.onset - EPS <= t <= u.end + 1.0), None)
    if cut_in is not None:
        # the agent cut in on it (turn limit): the words said until then must be in the
        # history (the refocus reply's turn), and answered after the cut-in
        said = _content([w for t, w in kept if t < cut_in - CUT_IN_LAG])
        if not said:
            return view.answer_after(cut_in) is not None
        taken = _taken_at(view, first, said, exact)
        return taken is not None and view.answer_after(min(taken, cut_in)) is not None
    taken = _taken_at(view, first, content, exact)
    return taken is not None and view.answer_after(taken) is not None


def _excuse(view: CallView, line: CallerLine, facts: CallFacts, due: float) -> str | None:
    u = line.utterance
    if facts.fault_until is not None and u.onset < facts.fault_until:
        return "injected fault"
    # it waits for its answer until the caller's next utterance, or the next turn the agent
    # takes (a sentence with a pause inside, or a slow endpointing, keeps its turn open
    # over later utterances): a fault of the injected provider then may have killed it
    taken = _last_unanswered_turn(view, u.onset)
    waits = max(due, max(u.end, taken or 0.0) + RECOGNITION_WINDOW)
    if any(u.onset - 0.5 <= e.time <= waits and e.data.get("source") in facts.injected
           for e in view.errors):
        return "injected fault"
    if u.end - u.onset <= SHORT_UTTERANCE and not any(
            a < u.end + 0.1 and b > u.onset - 0.1 for a, b in view.voice):
        return "not heard"
    if not facts.exact_words:
        recognized = [e for e in view.finals if u.onset <= e.time <= u.end + RECOGNITION_WINDOW]
        if not _content([str(e.data.get("text", "")) for e in recognized]):
            return "not recognized"
    if u.end > view.end - FINAL_SETTLE:
        return "call ended"
    return None


def _last_unanswered_turn(view: CallView, onset: float) -> float | None:
    """When the agent took the first turn after ``onset``, or a later one taken within
    :data:`RECOGNITION_WINDOW` s of it with no answer heard in between (the caller spoke on
    while the agent thought: the reply to the first was cancelled, and the answer to both
    is the later turn's)."""
    times = [t for t, _ in view.user_messages if t >= onset - EPS]
    if not times:
        return None
    last = times[0]
    for t in times[1:]:
        answer = view.answer_after(last)
        if t > last + RECOGNITION_WINDOW or (answer is not None and answer.start < t):
            break
        last = t
    return last


def double_answers(view: CallView, lines: list[CallerLine]) -> list[Problem]:
    """Two answers to one user turn, or a turn taken again with nothing new said."""
    problems: list[Problem] = []
    taken = [t for t, _ in view.user_messages]
    replies = [s for s in view.speeches
               if view.source.get(s.id) == "generate_reply" and view.heard(s)]
    for k, (t, text) in enumerate(view.user_messages):
        until = taken[k + 1] if k + 1 < len(taken) else float("inf")
        answers = [s for s in replies if t - EPS <= s.start < until - EPS]
        if len(answers) > 1:
            at = ", ".join(f"{s.start:.2f}" for s in answers)
            problems.append(Problem("double_answer", f'the turn "{shorten(text)}" (taken at '
                                    f"{t:.2f} s) was answered {len(answers)} times (at {at} s)",
                                    answers[1].start))
        if k and not _spoke_between(lines, taken[k - 1] - 0.5, t):
            problems.append(Problem("double_answer", f'the turn "{shorten(text)}" was taken at '
                                    f"{t:.2f} s with nothing said since the turn taken at "
                                    f"{taken[k - 1]:.2f} s", t))
    return problems


def _spoke_between(lines: list[CallerLine], a: float, b: float) -> bool:
    return any(s < b and e > a for line in lines for s, e in line.utterance.speech_spans())
