"""The frame type and float/int16 conversions refuse bad input clearly."""

import numpy as np
import pytest

from bargein.audio import (
    AudioFrame,
    check_session_rate,
    concat,
    float_to_int16,
    int16_to_float,
)
from bargein.errors import AudioFormatError, EmptyAudioError, SampleRateError


def test_frame_reports_samples_and_duration():
    frame = AudioFrame(bytes(640), 16000)
    assert frame.num_samples == 320
    assert frame.duration == pytest.approx(0.02)
    assert len(frame) == 320


def test_odd_byte_length_is_refused():
    with pytest.raises(AudioFormatError, match="even number of bytes"):
        AudioFrame(bytes(641), 16000)


def test_empty_frame_is_refused():
    with pytest.raises(EmptyAudioError):
        AudioFrame(b"", 16000)


@pytest.mark.parametrize("rate", [0, -16000, 16000.0, True, 10**7])
def test_implausible_sample_rate_is_refused(rate):
    with pytest.raises(SampleRateError):
        AudioFrame(bytes(2), rate)


def test_session_rates_are_8_16_24_khz():
    for rate in (8000, 16000, 24000):
        assert check_session_rate(rate) == rate
    with pytest.raises(SampleRateError, match="8000, 16000, 24000"):
        check_session_rate(44100)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_samples_are_refused(bad):
    x = np.zeros(100, np.float32)
    x[37] = bad
    with pytest.raises(AudioFormatError, match="index 37"):
        AudioFrame.from_float(x, 16000)


def test_float_round_trip_and_clipping():
    x = np.array([0.0, 0.5, -0.5, 1.5, -1.5], np.float32)
    y = float_to_int16(x)
    assert y.tolist() == [0, 16384, -16384, 32767, -32768]
    back = int16_to_float(y)
    assert back[1] == pytest.approx(0.5)


def test_from_int16_refuses_wrong_dtype_and_shape():
    with pytest.raises(AudioFormatError, match="int16"):
        AudioFrame.from_int16(np.zeros(4, np.int32), 16000)
    with pytest.raises(AudioFormatError, match="mono"):
        AudioFrame.from_int16(np.zeros((4, 2), np.int16), 16000)


def test_concat_refuses_mixed_rates():
    a = AudioFrame(bytes(320), 16000)
    b = AudioFrame(bytes(320), 8000)
    assert concat([a, a]).num_samples == 320
    with pytest.raises(SampleRateError, match="different sample rates"):
        concat([a, b])
    with pytest.raises(EmptyAudioError):
        concat([])


def test_frames_compare_by_content():
    assert AudioFrame(bytes(4), 16000) == AudioFrame(bytes(4), 16000)
    assert AudioFrame(bytes(4), 16000) != AudioFrame(bytes(4), 8000)
