"""The console prints its lines in time order (issue 18 item 8): an event known only after
the moment it marks is printed when it arrives and says when it happened."""

from __future__ import annotations

import io

from bargein.live.console_lines import ConsolePrinter, format_record


def records() -> list[dict]:
    # what a session emits around a barge-in, in arrival order: "stopped speaking" is
    # stamped at the end of the voice (6.14) but known when the VAD's silence window ends
    return [
        {"t": 5.85, "event": "agent_state_changed", "old": "speaking", "new": "listening"},
        {"t": 6.24, "event": "user_input_transcribed", "transcript": "What are your business",
         "is_final": False, "discarded": False},
        {"t": 6.63, "event": "user_input_transcribed",
         "transcript": "What are your business hours?", "is_final": False, "discarded": False},
        {"t": 6.14, "event": "user_state_changed", "old": "speaking", "new": "listening"},
        {"t": 7.32, "event": "user_input_transcribed",
         "transcript": "What are your business hours?", "is_final": True, "discarded": False},
    ]


def test_times_never_go_back_and_late_events_say_when_they_happened():
    out = io.StringIO()
    now = iter([6.71]).__next__  # the session clock when the late record arrives
    printer = ConsolePrinter(out, now)
    for record in records():
        printer(record)
    lines = out.getvalue().splitlines()
    times = [float(line.split()[0]) for line in lines]
    assert times == sorted(times)
    assert lines[3] == "   6.71  user     stopped speaking (at 6.14)"
    assert lines[4].startswith("   7.32  stt      final:")


def test_a_line_in_order_has_no_note():
    record = {"t": 5.85, "event": "agent_state_changed", "old": "speaking", "new": "listening"}
    assert format_record(record) == "   5.85  agent    state speaking -> listening"
    assert format_record(record, 5.851) == "   5.85  agent    state speaking -> listening"
