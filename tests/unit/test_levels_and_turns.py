"""The one definition of "audible" (audio/levels.py) and of an agent "turn" (scenario/turns.py)."""

from __future__ import annotations

import numpy as np
import pytest

from bargein.audio.levels import (
    AUDIBLE_RMS,
    FloorTracker,
    audible_spans,
    noise_floor,
    threshold_over,
)
from bargein.scenario.turns import BOUNDARY_TOLERANCE, PAUSE_GAP, AgentSpeech, agent_turns

RATE = 16000


def tone(spans: list[tuple[float, float]], length: float, rms: float = 0.1) -> np.ndarray:
    x = np.zeros(round(length * RATE))
    for a, b in spans:
        i, j = round(a * RATE), round(b * RATE)
        x[i:j] = np.sqrt(2) * rms * np.sin(2 * np.pi * 220 * np.arange(j - i) / RATE)
    return x


def test_spans_are_located_to_the_millisecond() -> None:
    spans = audible_spans(tone([(0.1234, 0.4567)], 1.0), RATE)
    assert len(spans) == 1
    assert abs(spans[0][0] - 0.1234) <= 0.001 and abs(spans[0][1] - 0.4567) <= 0.001


def test_gaps_under_a_tenth_of_a_second_are_bridged() -> None:
    x = tone([(0.1, 0.3), (0.35, 0.5), (0.7, 0.9)], 1.0)
    assert [(round(a, 2), round(b, 2)) for a, b in audible_spans(x, RATE)] == [
        (0.1, 0.5), (0.7, 0.9)]


def test_audible_is_relative_to_the_lane_noise_floor() -> None:
    x = tone([(0.5, 1.0)], 2.0)
    hiss = np.random.default_rng(0).standard_normal(len(x)) * 0.01  # -40 dBFS, under it all
    floor = noise_floor(x + hiss, RATE)
    assert 0.008 < floor < 0.012 and noise_floor(x, RATE) == 0.0
    assert threshold_over(floor) == pytest.approx(floor * 10 ** 0.5)
    assert threshold_over(0.0) == AUDIBLE_RMS
    # the hiss alone would be "audible" at -50 dBFS; over its own floor, only the tone is
    assert len(audible_spans(hiss, RATE, threshold=AUDIBLE_RMS)) >= 1
    spans = audible_spans(x + hiss, RATE)
    assert len(spans) == 1 and abs(spans[0][0] - 0.5) <= 0.002 and abs(spans[0][1] - 1.0) <= 0.002


def test_bad_arguments_are_refused() -> None:
    x = tone([(0.1, 0.2)], 0.5)
    for bad in (float("nan"), float("inf"), -0.1):
        with pytest.raises(ValueError, match="threshold"):
            audible_spans(x, RATE, threshold=bad)
    with pytest.raises(ValueError, match="window"):
        audible_spans(x, RATE, window=0.0)
    with pytest.raises(ValueError, match="merge_gap"):
        audible_spans(x, RATE, merge_gap=float("nan"))
    assert audible_spans(np.zeros(0), RATE) == []


def test_the_running_floor_ignores_a_hissing_line_but_hears_speech() -> None:
    floor = FloorTracker()
    rng = np.random.default_rng(1)
    frame = 320
    for k in range(100):  # 2 s of hiss, frame by frame
        levels = floor.add(rng.standard_normal(frame) * 0.01, RATE, k * 0.02)
    assert 0.008 < floor.floor < 0.012 and not floor.audible(levels)
    speech = tone([(0.0, 0.02)], 0.02) + rng.standard_normal(frame) * 0.01
    assert floor.audible(floor.add(speech, RATE, 2.0))
    fresh = FloorTracker()  # no history yet: the bare -50 dBFS threshold
    assert fresh.floor == 0.0 and fresh.audible(fresh.add(rng.standard_normal(frame) * 0.01,
                                                          RATE, 0.0))


def test_reported_speeches_keep_a_cut_reply_and_the_next_apart() -> None:
    spans = [(1.0, 2.0), (2.2, 3.0)]  # cut at 2.0, the next reply 0.2 s later
    speeches = [AgentSpeech("a", 1.0, 2.0, interrupted=True), AgentSpeech("b", 2.2, 3.0)]
    turns = agent_turns(spans, speeches)
    assert [(t.start, t.end, t.speech.id) for t in turns] == [(1.0, 2.0, "a"), (2.2, 3.0, "b")]
    black_box = agent_turns(spans)
    assert [(t.start, t.end, t.speech) for t in black_box] == [(1.0, 3.0, None)]


def test_the_gap_rule_and_audio_outside_reported_speeches() -> None:
    spans = [(1.0, 2.0), (2.0 + PAUSE_GAP + 0.01, 3.0), (5.0, 6.0)]
    assert len(agent_turns(spans)) == 3
    speech = AgentSpeech("a", 0.99, 2.6, protected=True)
    turns = agent_turns(spans, [speech])
    # the speech claims its audio up to one frame past its reported end
    edge = 2.6 + BOUNDARY_TOLERANCE
    assert [(t.start, t.end) for t in turns] == [(1.0, edge), (edge, 3.0), (5.0, 6.0)]
    assert turns[0].protected and not turns[2].protected
    paused = agent_turns([(1.0, 1.5), (2.5, 3.0)], [AgentSpeech("p", 1.0, 3.0)])
    assert len(paused) == 1 and paused[0].stretches == [(1.0, 1.5), (2.5, 3.0)]


def test_a_cut_speech_keeps_its_last_frame_whatever_the_float_rounding() -> None:
    """A speech cut at 5.135 s whose frame in flight played to 5.155 s (end + one frame):
    ``5.135 + 0.02`` is a hair below 5.155 in floats, and that hair is not a second turn."""
    turns = agent_turns([(5.14, 5.155)], [AgentSpeech("cut", 5.135, 5.135, interrupted=True)])
    assert [(t.start, t.speech is not None) for t in turns] == [(5.14, True)]
    assert turns[0].end == pytest.approx(5.155)
