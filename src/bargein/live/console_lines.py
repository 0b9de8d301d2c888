"""The console's lines: one per session event, printed as it arrives, in time order.

Each line is ``time  who  what``; the time is seconds on the session's timeline::

       5.85  agent    [1] INTERRUPTED (barge_in), heard: 'Hello, and thanks'
       6.93  user     stopped speaking (at 6.52)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TextIO

from bargein.live.events import Record


def format_record(record: Record, shown_at: float | None = None) -> str | None:
    """One console line for a :class:`~bargein.live.events.SessionLog` record (or None).

    ``shown_at``: the time to print in the time column when it differs from the record's
    own (which is then added at the end of the line).
    """
    e = record["event"]
    who, what = "", ""
    if e == "agent_words_heard":
        who, what = "agent", f"[{record['speech']}] " + " ".join(record["words"])
    elif e == "agent_state_changed":
        who, what = "agent", f"state {record['old']} -> {record['new']}"
    elif e == "user_state_changed":
        who, what = "user", "speaking" if record["new"] == "speaking" else "stopped speaking"
    elif e == "user_input_transcribed":
        kind = "final" if record["is_final"] else "interim"
        flag = " (DISCARDED: said over uninterruptible speech)" if record["discarded"] else ""
        who, what = "stt", f"{kind}: {record['transcript']!r}{flag}"
    elif e == "speech_created":
        mode = "" if record["allow_interruptions"] else ", uninterruptible"
        who, what = "agent", f"[{record['speech']}] scheduled ({record['source']}{mode})"
    elif e == "agent_interrupted":
        who, what = "agent", (f"[{record['speech']}] INTERRUPTED ({record['reason']}), "
                              f"heard: {record['heard_text']!r}")
    elif e == "speech_done":
        if record["started_at"] is None:
            who, what = "agent", f"[{record['speech']}] dropped"
        else:
            how = "interrupted" if record["interrupted"] else "played to the end"
            who, what = "agent", f"[{record['speech']}] done ({how})"
    elif e == "agent_false_interruption":
        who, what = "agent", f"false interruption (resumed={record['resumed']})"
    elif e == "conversation_item_added":
        flag = " [interrupted]" if record["interrupted"] else ""
        who, what = "history", f"{record['role']}: {record['content']!r}{flag}"
    elif e == "user_turn_exceeded":
        who, what = "agent", f"USER TURN EXCEEDED ({record['reason']})"
    elif e == "error":
        who, what = "ERROR", f"{record['source']}: {record['error']}"
    elif e == "typed":
        who, what = "you", f"typed: {record['text']}"
    elif e == "saying":
        who, what = "you", f"saying {record['duration']:.2f} s of audio"
    elif e == "notice":
        who, what = "console", record["text"]
    else:
        return None
    if shown_at is not None and f"{shown_at:.2f}" != f"{record['t']:.2f}":
        return f"{shown_at:7.2f}  {who:<8} {what} (at {record['t']:.2f})"
    return f"{record['t']:7.2f}  {who:<8} {what}"


class ConsolePrinter:
    """Prints records as lines, flushed at once (a terminal or a pipe reads them live).

    The time column never goes back. Some events are known only after the moment they mark
    (the user "stopped speaking" is stamped at the end of the voice, which the VAD confirms
    after its silence window): such a line is printed when it arrives, with the time it
    became known, and says when it happened: ``6.93  user  stopped speaking (at 6.52)``.
    """

    def __init__(self, out: TextIO, clock: Callable[[], float]) -> None:
        self.out = out
        self.clock = clock
        self._last_interim = ""
        self._last_shown = float("-inf")

    def __call__(self, record: Record) -> None:
        if record["event"] == "user_input_transcribed" and not record["is_final"]:
            if record["transcript"] == self._last_interim:
                return
            self._last_interim = record["transcript"]
        shown_at = record["t"]
        if shown_at < self._last_shown:
            shown_at = max(self._last_shown, round(self.clock(), 3))
        line = format_record(record, shown_at)
        if line is not None:
            self._last_shown = shown_at
            self.out.write(line + "\n")
            self.out.flush()


def session_clock(session: Any) -> Callable[[], float]:
    """``session.time`` as a function, 0.0 before the session starts."""

    def now() -> float:
        try:
            return float(session.time)
        except RuntimeError:  # not started yet
            return 0.0

    return now
