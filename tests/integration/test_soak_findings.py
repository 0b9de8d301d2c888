"""Runtime bugs the soak found (`bargein soak`), each reduced to a minimal call on the real
stack. The docstring of each test names the soak scenario that found it (``--seed S --only
K``, run before the fix)."""

from __future__ import annotations

import pytest
from test_faults import assert_history_is_what_was_heard, assert_second_question_answered
from test_faults import two_questions

from bargein.providers.faults import FaultyVAD
from bargein.sim import run_simulation

pytestmark = pytest.mark.integration


def test_a_vad_reset_keeps_the_session_timeline(make_call):
    """Soak seed 2, scenario 259: after a stuck VAD was reset, the new VAD stream counted
    its times from its own start, so every later voice began ~10 s in the past; with a turn
    limit of 8 s every barge-in "exceeded" it and the agent cut in again and again."""
    from bargein.providers.silero_vad import SileroVAD

    vad = FaultyVAD(SileroVAD(), "stuck", after=1.5)
    call, _first, second = run_simulation(two_questions(make_call, vad=vad))
    starts = [e.time for e in call.named("user_state_changed") if e.new_state == "speaking"]
    later = [t for t in starts if t > second.start - 1.0]
    assert later and abs(later[0] - second.start) < 0.3, (starts, second.start)
    assert_history_is_what_was_heard(call)
    assert_second_question_answered(call, second)
