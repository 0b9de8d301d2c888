"""The turn detector stream (audio of the current turn, remembered answers, latency) and
the Whisper log-mel front end."""

import asyncio
import math

import numpy as np
import pytest

from bargein.audio.frame import AudioFrame
from bargein.errors import SampleRateError
from bargein.providers.latency import Fixed
from bargein.providers.log_mel import log_mel_spectrogram, mel_filters
from bargein.providers.turn_detector import (
    TurnDetector,
    TurnDetectorStream,
    TurnPrediction,
    check_probability,
)
from bargein.sim import VirtualTimeLoop


class _Scripted:
    """Records what it was asked; answers complete when the turn lasted >= 1 s."""

    needs_audio = True
    threshold = 0.5

    def __init__(self) -> None:
        self.seen: list[tuple[float | None, str | None]] = []

    def predict(self, audio, transcript=None):
        self.seen.append((None if audio is None else audio.duration, transcript))
        p = 0.9 if audio is not None and audio.duration >= 1.0 else 0.1
        return TurnPrediction(p, p >= 0.5, audio_probability=p)


def _tone(seconds: float, rate: int = 16000, freq: float = 440.0) -> AudioFrame:
    t = np.arange(round(seconds * rate)) / rate
    return AudioFrame.from_float(0.3 * np.sin(2 * np.pi * freq * t), rate)


def test_scripted_detector_satisfies_the_protocol():
    assert isinstance(_Scripted(), TurnDetector)


def test_stream_keeps_only_the_last_seconds_of_the_turn():
    detector = _Scripted()
    stream = TurnDetectorStream(detector, 16000, max_audio=2.0)
    for _ in range(30):
        stream.push_frame(AudioFrame.silence(0.1, 16000))
    assert stream.audio().duration == pytest.approx(2.0)
    stream.predict("hello")
    assert detector.seen == [(pytest.approx(2.0), "hello")]


def test_stream_remembers_the_answer_until_audio_or_words_change():
    detector = _Scripted()
    stream = TurnDetectorStream(detector, 16000)
    stream.push_frame(_tone(0.5))
    first = stream.predict("a table for")
    assert stream.predict("a table for") is first and len(detector.seen) == 1
    stream.predict("a table for four")  # new words: asks again
    stream.push_frame(_tone(0.6))  # new audio: asks again
    assert stream.predict("a table for four").complete
    assert len(detector.seen) == 3


def test_reset_starts_a_new_turn():
    detector = _Scripted()
    stream = TurnDetectorStream(detector, 16000)
    stream.push_frame(_tone(1.2))
    stream.reset()
    assert stream.audio() is None and stream.duration == 0.0
    stream.push_frame(_tone(0.3))
    assert not stream.predict().complete


def test_detector_hears_the_turn_up_to_the_end_of_speech_plus_a_little_silence():
    """The VAD decides ~0.4 s after the speech ends; the detector must not hear that wait."""
    detector = _Scripted()
    stream = TurnDetectorStream(detector, 16000, trailing_silence=0.1)
    stream.push_frame(AudioFrame.silence(2.0, 16000))  # an earlier turn
    stream.reset()
    stream.push_frame(_tone(0.95))  # speech from 2.0 s to 2.95 s on the stream clock
    stream.push_frame(AudioFrame.silence(0.45, 16000))  # the VAD's silence wait
    assert stream.time == pytest.approx(3.4)
    stream.predict("so", speech_end=2.95)
    stream.predict("so")  # no end given: everything pushed since reset()
    assert detector.seen == [(pytest.approx(1.05), "so"), (pytest.approx(1.4), "so")]
    with pytest.raises(ValueError):
        stream.predict("so", speech_end=math.nan)


def test_speech_end_outside_the_kept_audio_is_clamped():
    detector = _Scripted()
    stream = TurnDetectorStream(detector, 16000)
    stream.push_frame(_tone(0.5))
    assert stream.audio(speech_end=10.0).duration == pytest.approx(0.5)
    assert stream.audio(speech_end=-5.0) is None


def test_stream_refuses_other_rates():
    stream = TurnDetectorStream(_Scripted(), 16000)
    with pytest.raises(SampleRateError):
        stream.push_frame(AudioFrame.silence(0.1, 8000))
    with pytest.raises(SampleRateError):
        TurnDetectorStream(_Scripted(), 0)
    with pytest.raises(ValueError):
        TurnDetectorStream(_Scripted(), 16000, max_audio=math.nan)
    with pytest.raises(TypeError):
        TurnDetectorStream(_Scripted(), 16000, latency=0.1)
    with pytest.raises(ValueError):
        TurnDetectorStream(_Scripted(), 16000, trailing_silence=-0.1)


def test_decide_charges_the_latency_model_to_the_loop_clock():
    loop = VirtualTimeLoop()
    stream = TurnDetectorStream(_Scripted(), 16000, latency=Fixed(0.08))
    stream.push_frame(_tone(1.0))

    async def run():
        start = asyncio.get_running_loop().time()
        prediction = await stream.decide("done")
        return prediction, asyncio.get_running_loop().time() - start

    try:
        prediction, took = loop.run_until_complete(run())
    finally:
        loop.close()
    assert prediction.complete and took == pytest.approx(0.08)


@pytest.mark.parametrize("bad", [math.nan, -1.0, 2.0])
def test_check_probability(bad):
    with pytest.raises(ValueError):
        check_probability("p", bad)


# -- log-mel ----------------------------------------------------------------------------


def test_log_mel_shape_and_range():
    features = log_mel_spectrogram(_tone(8.0).to_float())
    assert features.shape == (80, 800) and features.dtype == np.float32
    assert features.max() <= 1.0 + 1e-3 + (features.max() - features.min())  # finite
    assert features.max() - features.min() <= 2.0 + 1e-6  # clamped to 8 decades / 4


def test_log_mel_puts_a_tone_in_the_right_band():
    features = log_mel_spectrogram(_tone(1.0, freq=1000.0).to_float())
    centres = np.argmax(mel_filters(), axis=0)  # FFT bin where each filter peaks
    loudest = int(np.argmax(features[:, 50]))
    assert abs(centres[loudest] * 8000 / 200 - 1000) < 80  # within a filter of 1 kHz


def test_mel_filters_cover_the_spectrum_with_slaney_areas():
    weights = mel_filters()
    assert weights.shape == (201, 80) and (weights >= 0).all()
    assert (weights.sum(axis=0) > 0).all()  # no empty filter


@pytest.mark.parametrize(
    "bad", [np.zeros((2, 100)), np.zeros(1), np.array([0.0, np.nan, 0.0]), np.array([np.inf] * 4)]
)
def test_log_mel_refuses_bad_audio(bad):
    with pytest.raises(ValueError):
        log_mel_spectrogram(bad)


def test_smart_turn_without_pipecat_names_the_extra(monkeypatch):
    import importlib.util

    from bargein.errors import MissingExtraError
    from bargein.providers import smart_turn

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(MissingExtraError, match=r"bargein\[turn\]"):
        smart_turn.SmartTurnDetector()


@pytest.mark.parametrize("threads", [0, -1, 1.5, True])
def test_smart_turn_refuses_bad_thread_counts(threads, tmp_path):
    from bargein.providers.smart_turn import SmartTurnDetector

    with pytest.raises(ValueError):
        SmartTurnDetector(tmp_path / "m.onnx", cpu_threads=threads, verify=False)


def test_smart_turn_verify_off_only_for_your_own_model():
    from bargein.providers.smart_turn import SmartTurnDetector

    with pytest.raises(ValueError, match="own model_path"):
        SmartTurnDetector(verify=False)


def test_decision_latency_defaults_to_the_audio_models_cost_only_when_it_listens():
    from bargein.providers.text_turn import TextTurnDetector
    from bargein.providers.turn_detector import AUDIO_DECISION_LATENCY

    assert TurnDetectorStream(_Scripted(), 16000).latency == AUDIO_DECISION_LATENCY
    assert TurnDetectorStream(TextTurnDetector(), 16000).latency == Fixed(0.0)
