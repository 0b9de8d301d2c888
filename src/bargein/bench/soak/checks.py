"""What a soak scenario checks once its call is over, from the recording and what the adapter
reported (its ``agent_speech``, ``agent_words``, ``agent_message``, ``user_message``,
``user_transcript``, ``user_turn_exceeded`` and ``error`` events; docs/soak.md).

- **history mismatch**: every assistant message must hold exactly the words of its speech
  that were heard: the words the adapter reported as starting to play before the last
  audible sample of that speech on the recording. A speech heard without a message, or a
  message for a speech nobody heard, is a mismatch too; so is a history as it ended
  (reported when the agent closes) whose messages differ from those reported as it grew
  (a user message may only have its text updated, by a late transcript).
- **lost turn**: every utterance of the caller with real words must reach the history (with
  the oracle recognizer: a user message holding at least half of its words) and be answered
  (an agent speech heard after that message, or a turn-limit cut-in on it), unless a
  documented reason says otherwise: its words were said over uninterruptible speech that
  drops them (a cut-in and the reply that follows it make one protected span), an
  injected fault struck while it waited for its answer (until the caller's next
  utterance, or 4 s after its end or after the turn the agent took with it, whichever is
  latest), the agent's VAD
  never reported a short utterance (at most :data:`SHORT_UTTERANCE` s), the recognizer heard
  no real words in it (real recognition only), or the call ended first.
- **double answer**: two answers (``generate_reply`` speeches heard) to one user turn, or a
  user turn taken again when the caller had said nothing new.
- **unexpected error**: an ``error`` event from a provider no fault was injected into (and
  more than :data:`ERROR_FLOOD` from one that was).
"""

from __future__ import annotations

from dataclasses import dataclass

from bargein.bench.soak.caller import FINAL_SETTLE, CallerLine
from bargein.scenario.call import SimulatedCall
from bargein.scenario.timeline import TimelineEvent
from bargein.scenario.turns import AgentSpeech
from bargein.text import BACKCHANNEL_WORDS, normalize_words

__all__ = ["ERROR_FLOOD", "PROBLEM_KINDS", "CallFacts", "Problem", "check_call"]

#: Every kind of problem a soak reports, in report order.
PROBLEM_KINDS = ("hang", "exception", "lost_turn", "history_mismatch", "double_answer",
                 "unexpected_error")
#: More error events than this from one injected provider in one call is a flood.
ERROR_FLOOD = 12
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
_EPS = 1e-3
#: The agent's audio is looked for this long after a speech's reported end.
_TAIL = 0.05


@dataclass(frozen=True)
class Problem:
    """One thing that went wrong (``time``: seconds on the recording, when it applies)."""

    kind: str
    detail: str
    time: float | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        out: dict[str, object] = {"kind": self.kind, "detail": self.detail}
        if self.time is not None:
            out["time"] = round(self.time, 3)
        return out


@dataclass(frozen=True)
class CallFacts:
    """What the checks must know of the agent under test.

    - ``exact_words``: its recognizer is the oracle, so the history must hold the caller's
      very words;
    - ``discards_over_protected``: words said over uninterruptible speech are dropped (None:
      unknown, treated as dropped);
    - ``injected``: the ``error`` sources an injected fault may cause;
    - ``fault_until``: utterances that begin before this recording time are excused by the
      fault (a provider down from the start), or None.
    """

    exact_words: bool = True
    discards_over_protected: bool | None = True
    injected: frozenset[str] = frozenset()
    fault_until: float | None = None


@dataclass
class TurnStats:
    """How the caller's utterances with real words fared: each one was answered, excused
    by a documented reason (counted by name), or lost (a problem)."""

    utterances: int = 0
    answered: int = 0
    excused: dict[str, int] | None = None

    def excuse(self, reason: str) -> None:
        """Count one utterance excused for ``reason``."""
        self.excused = self.excused or {}
        self.excused[reason] = self.excused.get(reason, 0) + 1


def check_call(call: SimulatedCall, lines: list[CallerLine], facts: CallFacts, *,
               turns: bool = True) -> tuple[list[Problem], TurnStats]:
    """All checks on a finished call. ``turns=False`` skips lost turns (in a call that did
    not finish, the last ones had no chance to be answered)."""
    view = _View(call)
    problems = history_mismatches(view) + unexpected_errors(view, facts)
    problems += double_answers(view, lines)
    stats = TurnStats()
    if turns:
        problems += lost_turns(view, lines, facts, stats)
    return problems, stats


class _View:
    """The call's reports, sorted and indexed once."""

    def __init__(self, call: SimulatedCall) -> None:
        self.call = call
        timeline = call.timeline
        self.end = call.time
        sources = {e.data.get("id"): e.data.get("source") for e in timeline.of("agent_speech")}
        self.speeches = sorted((s for s in call.speeches.values() if s.end is not None),
                               key=lambda s: s.start)
        self.source = {s.id: sources.get(s.id) for s in self.speeches}
        self.heard_until = {s.id: self._heard_until(s) for s in self.speeches}
        self.words = timeline.of("agent_words")
        self.messages = list(call.agent_messages)
        self.user_messages = [(e.time, str(e.data.get("text", "")))
                              for e in timeline.of("user_message")]
        ended = timeline.of("history")  # the history as it ended: late finals updated it
        #: (role, text) of every message of the history as it ended (None: not reported)
        self.final: list[tuple[str, str]] | None = None
        if ended:
            self.final = [(str(m.get("role")), str(m.get("text", "")))
                          for m in ended[-1].data.get("messages", ())]
            texts = [text for role, text in self.final if role == "user"]
            if len(texts) == len(self.user_messages):
                self.user_messages = [(t, text) for (t, _), text in
                                      zip(self.user_messages, texts, strict=True)]
        self.errors = timeline.of("error")
        self.exceeded = [e.time for e in timeline.of("user_turn_exceeded")]
        self.finals = [e for e in timeline.of("user_transcript") if e.data.get("final")]
        self.voice = _voice_spans(timeline.of("user_state"), self.end)
        self.protected = self._protected_spans(timeline.of("agent_state"))

    def _heard_until(self, speech: AgentSpeech) -> float:
        """The end of the speech's last audible sample (its start if none was)."""
        assert speech.end is not None
        last = self.call.room.last_agent_sample_before(speech.end + _TAIL)
        return last if last is not None and last > speech.start else speech.start

    def heard(self, speech: AgentSpeech) -> bool:
        return self.heard_until[speech.id] > speech.start

    def answer_after(self, t: float) -> AgentSpeech | None:
        """The first heard speech that started at or after ``t``."""
        return next((s for s in self.speeches if s.start >= t - _EPS and self.heard(s)), None)

    def _protected_spans(self, states: list[TimelineEvent]) -> list[tuple[float, float]]:
        """Where protected speech played; back-to-back protected speeches (the agent not
        listening in between: a cut-in and its reply) make one span, gap included."""
        listening = [e.time for e in states if e.data.get("state") == "listening"]
        spans: list[tuple[float, float]] = []
        for s in self.speeches:
            if not s.protected:
                continue
            end = s.end if s.end is not None else self.end
            if spans and not any(spans[-1][1] - _EPS <= t < s.start - _EPS
                                 for t in listening):
                between = [p for p in self.speeches if not p.protected
                           and spans[-1][0] - _EPS < p.start < s.start - _EPS]
                if not between:
                    spans[-1] = (spans[-1][0], end)
                    continue
            spans.append((s.start, end))
        return spans

    def protected_at(self, t: float) -> bool:
        return any(a - _EPS <= t < b + _EPS for a, b in self.protected)


# -- history ------------------------------------------------------------------------------------

def history_mismatches(view: _View) -> list[Problem]:
    """Each assistant message against the words of its speech heard on the recording."""
    problems: list[Problem] = []
    unmatched = list(view.messages)
    for speech in view.speeches:
        until = view.heard_until[speech.id]
        heard = [e for e in view.words if speech.start - _EPS <= e.time < until - 1e-9]
        expected = str(heard[-1].data.get("text", "")) if heard else ""
        assert speech.end is not None
        mine = [m for m in unmatched if abs(m[0] - speech.end) < _EPS]
        for m in mine:
            unmatched.remove(m)
        said = " / ".join(text for _, text, _ in mine)
        if normalize_words(said) == normalize_words(expected):
            continue
        if not mine:
            detail = f'the speech at {speech.start:.2f} s was heard ("{_short(expected)}") ' \
                     "but the history has no message for it"
        elif not expected:
            detail = f'the history has "{_short(said)}" for the speech at ' \
                     f"{speech.start:.2f} s, of which nothing was heard"
        else:
            detail = f'the history has "{_short(said)}" for the speech at ' \
                     f'{speech.start:.2f} s, the recording has "{_short(expected)}"'
        problems.append(Problem("history_mismatch", detail, speech.start))
    for t, text, _ in unmatched:
        problems.append(Problem("history_mismatch", f'the history has "{_short(text)}" at '
                                f"{t:.2f} s, which no heard speech ended with", t))
    return problems + _final_history_mismatches(view)


def _final_history_mismatches(view: _View) -> list[Problem]:
    """The history as it ended against the messages reported as it grew."""
    if view.final is None:
        return []
    grew = [("user", text) for _, text in view.user_messages]
    grew += [("assistant", text) for _, text, _ in view.messages]
    ended = [(role, text) for role, text in view.final if role in ("user", "assistant")]
    if sorted(grew) == sorted(ended) and \
            [t for r, t in ended if r == "assistant"] == [t for _, t, _ in view.messages]:
        return []
    missing = [f"{r} \"{_short(t, 40)}\"" for r, t in grew if (r, t) not in ended]
    extra = [f"{r} \"{_short(t, 40)}\"" for r, t in ended if (r, t) not in grew]
    detail = "the history as the call ended differs from the messages reported as it grew"
    detail += f"; only reported: {', '.join(missing)}" if missing else ""
    detail += f"; only at the end: {', '.join(extra)}" if extra else ""
    return [Problem("history_mismatch", detail, view.end)]


# -- turns ----------------------------------------------------------------------------------------

def _content(words: list[str]) -> set[str]:
    return {w for w in normalize_words(" ".join(words)) if w not in BACKCHANNEL_WORDS}


def lost_turns(view: _View, lines: list[CallerLine], facts: CallFacts,
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
        problems.append(Problem("lost_turn", f'"{_short(line.text)}" ({u.onset:.2f}-'
                                f"{u.end:.2f} s) {what}", u.onset))
    return problems


def _taken_at(view: _View, first: float, content: set[str], exact: bool) -> float | None:
    """When a user message that holds the utterance entered the history."""
    for t, text in view.user_messages:
        if t < first - _EPS:
            continue
        if not exact or len(content & set(normalize_words(text))) >= WORD_SHARE * len(content):
            return t
    return None


def _answered(view: _View, line: CallerLine, kept: list[tuple[float, str]],
              content: set[str], exact: bool) -> bool:
    u = line.utterance
    first = kept[0][0]
    cut_in = next((t for t in view.exceeded if u.onset - _EPS <= t <= u.end + 1.0), None)
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


def _excuse(view: _View, line: CallerLine, facts: CallFacts, due: float) -> str | None:
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


def _last_unanswered_turn(view: _View, onset: float) -> float | None:
    """When the agent took the first turn after ``onset``, or a later one taken within
    :data:`RECOGNITION_WINDOW` s of it with no answer heard in between (the caller spoke on
    while the agent thought: the reply to the first was cancelled, and the answer to both
    is the later turn's)."""
    times = [t for t, _ in view.user_messages if t >= onset - _EPS]
    if not times:
        return None
    last = times[0]
    for t in times[1:]:
        answer = view.answer_after(last)
        if t > last + RECOGNITION_WINDOW or (answer is not None and answer.start < t):
            break
        last = t
    return last


def double_answers(view: _View, lines: list[CallerLine]) -> list[Problem]:
    """Two answers to one user turn, or a turn taken again with nothing new said."""
    problems: list[Problem] = []
    taken = [t for t, _ in view.user_messages]
    replies = [s for s in view.speeches
               if view.source.get(s.id) == "generate_reply" and view.heard(s)]
    for k, (t, text) in enumerate(view.user_messages):
        until = taken[k + 1] if k + 1 < len(taken) else float("inf")
        answers = [s for s in replies if t - _EPS <= s.start < until - _EPS]
        if len(answers) > 1:
            at = ", ".join(f"{s.start:.2f}" for s in answers)
            problems.append(Problem("double_answer", f'the turn "{_short(text)}" (taken at '
                                    f"{t:.2f} s) was answered {len(answers)} times (at {at} s)",
                                    answers[1].start))
        if k and not _spoke_between(lines, taken[k - 1] - 0.5, t):
            problems.append(Problem("double_answer", f'the turn "{_short(text)}" was taken at '
                                    f"{t:.2f} s with nothing said since the turn taken at "
                                    f"{taken[k - 1]:.2f} s", t))
    return problems


def _spoke_between(lines: list[CallerLine], a: float, b: float) -> bool:
    return any(s < b and e > a for line in lines for s, e in line.utterance.speech_spans())


# -- errors ---------------------------------------------------------------------------------------

def unexpected_errors(view: _View, facts: CallFacts) -> list[Problem]:
    """Error events no injected fault explains, and floods of those it does."""
    problems: list[Problem] = []
    per_source: dict[str, list[TimelineEvent]] = {}
    for e in view.errors:
        source = str(e.data.get("source"))
        per_source.setdefault(source, []).append(e)
        if source not in facts.injected:
            problems.append(Problem("unexpected_error", f"{source}: "
                                    f"{_short(str(e.data.get('message', '')), 160)}", e.time))
    for source, events in per_source.items():
        if source in facts.injected and len(events) > ERROR_FLOOD:
            problems.append(Problem("unexpected_error", f"{len(events)} error events from "
                                    f"the faulty {source} (one fault, one error expected)",
                                    events[0].time))
    return problems


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _voice_spans(states: list[TimelineEvent], end: float) -> list[tuple[float, float]]:
    """Where the agent's VAD said the caller was speaking (its ``user_state`` reports)."""
    spans: list[tuple[float, float]] = []
    since: float | None = None
    for e in states:
        if e.data.get("state") == "speaking" and since is None:
            since = e.time
        elif e.data.get("state") != "speaking" and since is not None:
            spans.append((since, e.time))
            since = None
    if since is not None:
        spans.append((since, end))
    return spans
