"""Soak scenarios are drawn from the seed: the same alone as among thousands, and varied."""

from __future__ import annotations

from collections import Counter

import pytest

from bargein.adapters.soak_agent import FAULTS, SETUPS, SoakVariant, select_setups
from bargein.bench.soak import plans
from bargein.bench.soak.plan import MOVES, draw_scenario

NAMES = [s.name for s in SETUPS]


def test_a_scenario_is_the_same_alone_as_among_others():
    run = plans(60, 7, SETUPS)
    assert plans(0, 7, SETUPS, only=[41])[0] == run[41]
    assert draw_scenario(7, 41, NAMES) == run[41]
    assert plans(60, 8, SETUPS) != run


def test_two_thousand_scenarios_cover_every_setup_fault_move_and_recognizer():
    drawn = plans(2000, 0, SETUPS)
    assert {p.setup for p in drawn} == set(NAMES)
    faults = Counter(p.variant.fault for p in drawn)
    assert set(faults) == {*FAULTS, None}
    assert 0.25 < sum(n for f, n in faults.items() if f) / len(drawn) < 0.45
    assert {m.kind for p in drawn for m in p.moves} == set(MOVES)
    stts = Counter(p.variant.stt for p in drawn)
    assert stts["whisper"] > 100 and stts["local"] > 50
    assert all(any(m.wordy for m in p.moves) for p in drawn)


def test_a_caller_never_says_the_same_line_twice_in_one_call():
    for plan in plans(300, 3, SETUPS):
        said = [m.parts for m in plan.moves if m.wordy]
        assert len(said) == len(set(said)), plan.describe()


def test_setups_and_variants_refuse_what_does_not_exist():
    with pytest.raises(ValueError, match="the built-in setups are defaults"):
        select_setups(["nope"])
    with pytest.raises(ValueError, match="unknown fault"):
        SoakVariant(fault="tts:melt")
    with pytest.raises(ValueError, match="stt must be one of"):
        SoakVariant(stt="human")
    with pytest.raises(ValueError, match="unique"):
        plans(3, 0, [SETUPS[0], SETUPS[0]])


def test_a_variant_names_the_error_sources_its_fault_may_cause():
    assert SoakVariant().injected_sources == frozenset()
    assert SoakVariant(fault="tts:hang").injected_sources == {"tts", "speech"}
    assert SoakVariant(fault="vad:stuck").injected_sources == {"vad"}
