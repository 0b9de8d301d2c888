"""Word timings of recorded audio: aligning a transcript to recognized words, user-given
words, and the cache next to a clip. (Whisper itself runs in tests/integration.)"""

from __future__ import annotations

import json

import numpy as np
import pytest

from bargein import scenario
from bargein.audio import AudioFrame
from bargein.errors import ScenarioError
from bargein.providers.types import WordTiming as W
from bargein.scenario.recordings import (
    CACHE_FORMAT,
    _digest,
    align_words,
    cache_path,
    fit_to_speech,
    read_cache,
    to_word_timings,
)

SPANS = [(0.2, 1.6), (2.6, 4.0)]  # speech, a 1 s pause, speech


def test_matched_words_take_the_recognized_times() -> None:
    heard = [W("hello", 0.2, 0.5), W("there.", 0.6, 1.0), W("bye", 2.6, 3.0)]
    got = align_words("Hello there. Bye!", heard, SPANS)
    assert [(w.text, w.start, w.end) for w in got] == [
        ("Hello", 0.2, 0.5), ("there.", 0.6, 1.0), ("Bye!", 2.6, 3.0)]


def test_a_misheard_word_keeps_the_time_of_what_was_heard_instead() -> None:
    heard = [W("check", 0.2, 0.6), W("my", 0.6, 0.8), W("wheel", 0.8, 1.6),
             W("and", 2.6, 2.9)]
    got = align_words("check my bill and", heard, SPANS)
    assert (got[2].text, got[2].start, got[2].end) == ("bill", 0.8, 1.6)


def test_a_word_nobody_heard_is_placed_in_the_speech_between_its_neighbours() -> None:
    heard = [W("one", 0.2, 0.6), W("three", 2.6, 3.0)]
    [_, two, _] = align_words("one two three", heard, SPANS)
    assert 0.6 <= two.start <= two.end <= 2.6
    assert not (two.start < 2.5 and two.end > 1.7)  # not in the pause (1.6 - 2.6)


def test_without_recognized_words_the_transcript_is_shared_over_speech_only() -> None:
    got = align_words("aaaa bbbb cccc dddd", [], SPANS)
    assert [round(w.start, 3) for w in got] == [0.2, 0.9, 2.6, 3.3]
    assert all(not (w.start < 2.6 - 1e-9 and w.end > 1.6 + 1e-9) for w in got)


def test_recognized_words_stretching_over_a_pause_are_kept_in_the_speech() -> None:
    got = fit_to_speech([W("bill.", 1.3, 2.6), W("and", 2.7, 2.9)], SPANS)
    assert (got[0].start, got[0].end) == (1.3, 1.6) and (got[1].start, got[1].end) == (2.7, 2.9)


def test_user_given_words_are_checked() -> None:
    assert to_word_timings([("hi", 0.1, 0.3), W("you", 0.4, 0.6)], 1.0)[1].text == "you"
    with pytest.raises(ScenarioError, match=r"does not lie inside the 1\.000 s clip"):
        to_word_timings([("hi", 0.1, 1.3)], 1.0)
    with pytest.raises(ScenarioError, match="in the order they are said"):
        to_word_timings([("b", 0.5, 0.6), ("a", 0.1, 0.2)], 1.0)
    with pytest.raises(ScenarioError, match="must be numbers"):
        to_word_timings([("hi", "0.1", 0.3)], 1.0)  # type: ignore[list-item]
    with pytest.raises(ScenarioError, match="takes"):
        to_word_timings(["hi"], 1.0)  # type: ignore[list-item]
    for bad in (float("nan"), float("inf"), -0.1):
        with pytest.raises(ScenarioError):
            to_word_timings([("hi", bad, 0.3)], 1.0)


def test_words_are_for_recordings_only(tmp_path) -> None:
    from bargein.audio.wav import write_wav

    with pytest.raises(ScenarioError, match="text lines are timed by the synthesizer"):
        scenario.user("Hello there", words=[("Hello", 0.0, 0.2)])
    clip = tmp_path / "clip.wav"  # audio is read when the step is made: it must exist
    write_wav(clip, AudioFrame.from_int16(np.zeros(3200, dtype=np.int16), 16000))
    step = scenario.user(str(clip), words=[("Hello", 0.0, 0.2)])
    assert step.words == (("Hello", 0.0, 0.2),)


def test_the_cache_is_read_only_for_the_same_audio(tmp_path) -> None:
    clip = tmp_path / "clip.wav"
    audio = AudioFrame.from_int16(np.arange(1600, dtype=np.int16), 16000)
    other = AudioFrame.from_int16(np.arange(1600, dtype=np.int16)[::-1].copy(), 16000)
    path = cache_path(clip)
    assert path.name == "clip.wav.words.json"
    path.write_text(json.dumps({"format": CACHE_FORMAT, "audio_sha256": _digest(audio),
                                "words": [{"text": "hi", "start": 0.01, "end": 0.05}]}))
    assert read_cache(path, _digest(audio)) == (W("hi", 0.01, 0.05),)
    assert read_cache(path, _digest(other)) is None
    path.write_text("{not json")
    assert read_cache(path, _digest(audio)) is None
