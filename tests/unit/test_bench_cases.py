"""The interruption benchmark's case generator: seeded, labelled, within its ranges."""

from __future__ import annotations

import asyncio
from collections import Counter

import numpy as np
import pytest

from bargein.bench import cases as C
from bargein.bench.cases import (
    KINDS,
    LABELS,
    TURN_LIMIT_SENTENCES,
    Background,
    BenchCase,
    Voice,
    background_bed,
    cough,
    generate_cases,
    knock,
)
from bargein.text import BACKCHANNEL_WORDS, normalize_words


def test_same_seed_same_cases_other_seed_other_cases() -> None:
    a = [c.to_dict() for c in generate_cases(300, seed=4)]
    b = [c.to_dict() for c in generate_cases(300, seed=4)]
    other = [c.to_dict() for c in generate_cases(300, seed=5)]
    assert a == b
    assert a != other


def test_counts_per_kind_follow_the_mix() -> None:
    cases = generate_cases(300, seed=0)
    counts = Counter(c.kind for c in cases)
    assert counts == {"barge_in": 90, "backchannel": 60, "noise": 45, "pause": 60,
                      "monologue": 45}
    assert len({c.id for c in cases}) == 300


@pytest.mark.parametrize("count", [1, 5, 7, 20, 33, 301])
def test_any_count_is_honoured_and_small_suites_have_every_kind(count: int) -> None:
    cases = generate_cases(count, seed=1)
    assert len(cases) == count
    if count >= len(KINDS):
        assert {c.kind for c in cases} == set(KINDS)


def test_bad_count_is_refused() -> None:
    with pytest.raises(ValueError, match="count"):
        generate_cases(0)


def test_labels_and_parameter_ranges() -> None:
    cases = generate_cases(300, seed=2)
    for c in cases:
        assert c.label in LABELS[c.kind]
        assert c.voice.name in C.USER_VOICES
        assert C.RATE_RANGE[0] <= c.voice.rate <= C.RATE_RANGE[1]
        assert C.PITCH_RANGE[0] <= c.voice.pitch <= C.PITCH_RANGE[1]
        assert C.VOLUME_RANGE[0] <= c.voice.volume <= C.VOLUME_RANGE[1]
        assert (c.background.kind, c.background.snr_db) in C.BACKGROUNDS
        if c.agent_opens:
            assert c.delay is not None and 0.3 <= c.delay <= 3.0
        if c.kind == "barge_in":
            pool = C.SHORT_BARGE_INS if c.phrase == "short" else C.LONG_BARGE_INS
            assert c.text in pool
            # a genuine barge-in always has a word that is not a backchannel
            assert any(w not in BACKCHANNEL_WORDS for w in normalize_words(c.text))
        elif c.kind == "backchannel":
            assert c.text in C.BACKCHANNELS
            assert all(w in BACKCHANNEL_WORDS for w in normalize_words(c.text))
        elif c.kind == "noise":
            assert c.text == "" and c.burst in ("cough", "knock")
        elif c.kind == "pause":
            assert c.pause is not None and 0.3 <= c.pause <= 1.5
            assert len(c.parts) == 2 and c.text == " ".join(c.parts)
        else:
            assert c.sentences is not None and 1 <= c.sentences <= 6
            assert len(c.parts) == c.sentences
            expected = "cut_in" if c.sentences > TURN_LIMIT_SENTENCES else "no_cut_in"
            assert c.label == expected


def test_variety_of_voices_phrases_backgrounds_and_monologue_lengths() -> None:
    cases = generate_cases(300, seed=0)
    assert len({c.voice.name for c in cases}) >= 6
    assert {c.phrase for c in cases if c.kind == "barge_in"} == {"short", "long"}
    assert {c.burst for c in cases if c.kind == "noise"} == {"cough", "knock"}
    assert {c.background.kind for c in cases} == {"none", "white", "pink", "babble"}
    assert {c.sentences for c in cases if c.kind == "monologue"} == set(range(1, 7))
    assert {normalize_words(c.text)[0] for c in cases if c.kind == "backchannel"} >= {
        "uh", "mm", "yeah", "right", "okay"}
    delays = [c.delay for c in cases if c.kind == "barge_in"]
    assert min(delays) < 0.8 and max(delays) > 2.5


def test_cases_round_trip_to_json_ready_dicts() -> None:
    case = generate_cases(6, seed=0)[0]
    data = case.to_dict()
    assert data["id"] == case.id and isinstance(data["parts"], list)
    assert data["voice"] == {"name": case.voice.name, "rate": case.voice.rate,
                             "pitch": case.voice.pitch, "volume": case.voice.volume}


def test_noise_bursts_are_deterministic_short_and_at_their_level() -> None:
    for make, longest in ((cough, 1.6), (knock, 1.3)):
        a = make(np.random.default_rng(3), 16000, 0.1)
        b = make(np.random.default_rng(3), 16000, 0.1)
        assert a == b
        assert 0.03 < a.duration < longest
        x = a.to_float()
        active = x[np.abs(x) > np.max(np.abs(x)) * 0.05]
        assert 0.07 < float(np.sqrt(np.mean(active**2))) < 0.14


@pytest.mark.parametrize("kind", ["white", "pink"])
def test_background_bed_has_the_snr_and_is_deterministic(kind: str) -> None:
    case = BenchCase("x", "noise", "keep_talking", "", Voice("en-us", 170, 50, 100),
                     Background(kind, 10.0), seed=11)
    a = asyncio.run(background_bed(case, 2.0, 0.1))
    b = asyncio.run(background_bed(case, 2.0, 0.1))
    assert a is not None and a == b
    assert a.duration == pytest.approx(2.0)
    assert a.rms() == pytest.approx(0.1 * 10 ** (-10 / 20), rel=0.02)


def test_clean_line_has_no_bed() -> None:
    case = BenchCase("x", "noise", "keep_talking", "", Voice("en-us", 170, 50, 100),
                     Background("none"), seed=1)
    assert asyncio.run(background_bed(case, 2.0, 0.1)) is None
