"""The committed human recordings: every clip is there, licensed, timed, and loads; cuts and
paused sentences are made on the audio timeline."""

from __future__ import annotations

import importlib.util
import itertools
import json
import sys
from pathlib import Path

import pytest

from bargein.audio.wav import read_wav

ROOT = Path(__file__).resolve().parents[2]
HUMAN = ROOT / "benchmarks" / "data" / "human"
LICENCES = {"cc-by-4.0", "cmu-arctic", "public-domain", "bsd-2-clause-cmu"}
ROLES = {"barge_in_short", "barge_in_long", "turn_end", "clause_end", "paused_sentence_source",
         "acknowledgement_word"}
MANIFEST = json.loads((HUMAN / "manifest.json").read_text())


def _benchmark():
    spec = importlib.util.spec_from_file_location(
        "turn_detector_bench", ROOT / "benchmarks" / "turn_detector.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("clip", MANIFEST["clips"], ids=lambda c: c["id"])
def test_clip_is_attributed_timed_and_matches_its_file(clip):
    assert clip["licence"] in LICENCES
    assert clip["source"].get("repository") or clip["source"].get("package")
    assert clip["source"]["path"] and clip["speaker"] and clip["edits"]
    audio = read_wav(HUMAN / clip["file"])
    assert audio.sample_rate == MANIFEST["sample_rate"] == 16000
    assert audio.duration == pytest.approx(clip["duration"], abs=1e-3)
    words = clip["words"]
    assert words and all(0 <= w["start"] <= w["end"] <= clip["duration"] + 1e-3 for w in words)
    assert all(a["start"] <= b["start"] for a, b in itertools.pairwise(words))
    assert all(0 <= i < len(words) - 1 for i in clip["natural_pauses"])
    assert set(clip["roles"]) <= ROLES
    assert ("turn_end" in clip["roles"]) == clip["complete_at_end"]


def test_corpus_stays_small_and_documented():
    size = sum((HUMAN / c["file"]).stat().st_size for c in MANIFEST["clips"])
    assert size < 5_000_000
    readme = (HUMAN / "README.md").read_text()
    for family in {c["id"].split("-")[0] for c in MANIFEST["clips"]}:
        assert f"`{family}-" in readme


def test_cut_and_paused_sentence_on_the_audio_timeline():
    bench = _benchmark()
    clip = next(c for c in bench.load_human_clips() if c["id"] == "jfk-inaugural")
    pause_after = clip["natural_pauses"][0]
    cut = bench.cut_after(clip, pause_after)
    word_end = clip["words"][pause_after]["end"]
    assert word_end <= cut.duration <= word_end + 0.05 + 1e-3
    paused = bench.paused_sentence(clip, pause_after, 0.8)
    assert paused.duration == pytest.approx(clip["audio"].duration + 0.8, abs=1e-3)
    with pytest.raises(ValueError):
        bench.paused_sentence(clip, len(clip["words"]) - 1, 0.5)  # nothing after the last word
