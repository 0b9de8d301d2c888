"""What a soak check reports: a :class:`Problem`, the :class:`CallFacts` the checks need to
know of the agent under test, and the :class:`TurnStats` of the caller's utterances."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PROBLEM_KINDS", "CallFacts", "Problem", "TurnStats", "shorten"]


#: Every kind of problem a soak reports, in report order.
PROBLEM_KINDS = ("hang", "exception", "lost_turn", "history_mismatch", "double_answer",
                 "unexpected_error")


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


def shorten(text: str, limit: int = 90) -> str:
    """``text`` on one line, cut to ``limit`` characters with "..." (for a problem's detail)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."
