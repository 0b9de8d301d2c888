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


@pytest.mark.parametrize("n", [1, 2, 7, 320, 4801])
def test_rms_is_that_of_the_float_samples_to_the_last_bit(n):
    rng = np.random.default_rng(n)
    for samples in (rng.integers(-32768, 32768, n), np.full(n, -32768), np.zeros(n, int)):
        frame = AudioFrame.from_int16(samples.astype(np.int16), 16000)
        x = frame.to_float().astype(np.float64)
        assert frame.rms() == float(np.sqrt(np.mean(x * x)))
    assert AudioFrame.from_int16(np.full(n, -32768, np.int16), 16000).rms() == 1.0


def test_clip_to_int16_rounds_then_clips_ints_and_floats():
    from bargein.audio.mixer import clip_to_int16

    wide = np.array([-40000, -32769, -32768, -1, 0, 32767, 32768, 99999], np.int32)
    assert clip_to_int16(wide).tolist() == [-32768, -32768, -32768, -1, 0, 32767, 32767, 32767]
    floats = np.array([-32768.6, -0.5, 0.5, 1.5, 2.4, 32766.6, 1e9])
    assert clip_to_int16(floats).tolist() == [-32768, 0, 0, 2, 2, 32767, 32767]
    assert clip_to_int16(wide).dtype == np.int16
