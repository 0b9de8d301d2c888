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
  never reported a short utterance (at most
  :data:`~bargein.bench.soak.turn_checks.SHORT_UTTERANCE` s), the recognizer heard
  no real words in it (real recognition only), or the call ended first
  (:mod:`bargein.bench.soak.turn_checks`).
- **double answer**: two answers (``generate_reply`` speeches heard) to one user turn, or a
  user turn taken again when the caller had said nothing new.
- **unexpected error**: an ``error`` event from a provider no fault was injected into (and
  more than :data:`ERROR_FLOOD` from one that was).
"""

from __future__ import annotations

from bargein.bench.soak.call_view import EPS, CallView
from bargein.bench.soak.caller import CallerLine
from bargein.bench.soak.problems import PROBLEM_KINDS, CallFacts, Problem, TurnStats, shorten
from bargein.bench.soak.turn_checks import double_answers, lost_turns
from bargein.scenario.call import SimulatedCall
from bargein.scenario.timeline import TimelineEvent
from bargein.text import normalize_words

__all__ = [
    "ERROR_FLOOD",
    "PROBLEM_KINDS",
    "CallFacts",
    "Problem",
    "TurnStats",
    "check_call",
    "history_mismatches",
    "unexpected_errors",
]

#: More error events than this from one injected provider in one call is a flood.
ERROR_FLOOD = 12


def check_call(call: SimulatedCall, lines: list[CallerLine], facts: CallFacts, *,
               turns: bool = True) -> tuple[list[Problem], TurnStats]:
    """All checks on a finished call. ``turns=False`` skips lost turns (in a call that did
    not finish, the last ones had no chance to be answered)."""
    view = CallView(call)
    problems = history_mismatches(view) + unexpected_errors(view, facts)
    problems += double_answers(view, lines)
    stats = TurnStats()
    if turns:
        problems += lost_turns(view, lines, facts, stats)
    return problems, stats


# -- history ------------------------------------------------------------------------------------

def history_mismatches(view: CallView) -> list[Problem]:
    """Each assistant message against the words of its speech heard on the recording."""
    problems: list[Problem] = []
    unmatched = list(view.messages)
    for speech in view.speeches:
        until = view.heard_until[speech.id]
        heard = [e for e in view.words if speech.start - EPS <= e.time < until - 1e-9]
        expected = str(heard[-1].data.get("text", "")) if heard else ""
        assert speech.end is not None
        mine = [m for m in unmatched if abs(m[0] - speech.end) < EPS]
        for m in mine:
            unmatched.remove(m)
        said = " / ".join(text for _, text, _ in mine)
        if normalize_words(said) == normalize_words(expected):
            continue
        if not mine:
            detail = f'the speech at {speech.start:.2f} s was heard ("{shorten(expected)}") ' \
                     "but the history has no message for it"
        elif not expected:
            detail = f'the history has "{shorten(said)}" for the speech at ' \
                     f"{speech.start:.2f} s, of which nothing was heard"
        else:
            detail = f'the history has "{shorten(said)}" for the speech at ' \
                     f'{speech.start:.2f} s, the recording has "{shorten(expected)}"'
        problems.append(Problem("history_mismatch", detail, speech.start))
    for t, text, _ in unmatched:
        problems.append(Problem("history_mismatch", f'the history has "{shorten(text)}" at '
                                f"{t:.2f} s, which no heard speech ended with", t))
    return problems + _final_history_mismatches(view)


def _final_history_mismatches(view: CallView) -> list[Problem]:
    """The history as it ended against the messages reported as it grew."""
    if view.final is None:
        return []
    grew = [("user", text) for _, text in view.user_messages]
    grew += [("assistant", text) for _, text, _ in view.messages]
    ended = [(role, text) for role, text in view.final if role in ("user", "assistant")]
    if sorted(grew) == sorted(ended) and \
            [t for r, t in ended if r == "assistant"] == [t for _, t, _ in view.messages]:
        return []
    missing = [f"{r} \"{shorten(t, 40)}\"" for r, t in grew if (r, t) not in ended]
    extra = [f"{r} \"{shorten(t, 40)}\"" for r, t in ended if (r, t) not in grew]
    detail = "the history as the call ended differs from the messages reported as it grew"
    detail += f"; only reported: {', '.join(missing)}" if missing else ""
    detail += f"; only at the end: {', '.join(extra)}" if extra else ""
    return [Problem("history_mismatch", detail, view.end)]


# -- errors ---------------------------------------------------------------------------------------

def unexpected_errors(view: CallView, facts: CallFacts) -> list[Problem]:
    """Error events no injected fault explains, and floods of those it does."""
    problems: list[Problem] = []
    per_source: dict[str, list[TimelineEvent]] = {}
    for e in view.errors:
        source = str(e.data.get("source"))
        per_source.setdefault(source, []).append(e)
        if source not in facts.injected:
            problems.append(Problem("unexpected_error", f"{source}: "
                                    f"{shorten(str(e.data.get('message', '')), 160)}", e.time))
    for source, events in per_source.items():
        if source in facts.injected and len(events) > ERROR_FLOOD:
            problems.append(Problem("unexpected_error", f"{len(events)} error events from "
                                    f"the faulty {source} (one fault, one error expected)",
                                    events[0].time))
    return problems
