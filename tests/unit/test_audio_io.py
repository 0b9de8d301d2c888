"""WAV I/O, framing, resampling, mixing and the stereo recorder."""

import numpy as np
import pytest

from bargein.audio import (
    AudioFrame,
    FrameAssembler,
    StereoRecorder,
    mix,
    read_stereo_wav,
    read_wav,
    resample,
    split_frames,
    wav_bytes,
    write_wav,
)
from bargein.errors import AudioFormatError, EmptyAudioError, SampleRateError


def tone(freq=440.0, seconds=0.5, rate=16000, amp=0.3):
    t = np.arange(round(seconds * rate)) / rate
    return AudioFrame.from_float((amp * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)


def test_wav_round_trip_is_exact(tmp_path):
    frame = tone()
    write_wav(tmp_path / "a.wav", frame)
    assert read_wav(tmp_path / "a.wav") == frame
    assert read_wav(wav_bytes(frame)) == frame


def test_wav_bytes_are_deterministic():
    assert wav_bytes(tone()) == wav_bytes(tone())


def test_missing_empty_and_corrupt_files_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        read_wav(tmp_path / "nope.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(EmptyAudioError, match="0 bytes"):
        read_wav(tmp_path / "empty.wav")
    (tmp_path / "junk.wav").write_bytes(b"this is not audio at all" * 10)
    with pytest.raises(AudioFormatError, match="not a readable audio file"):
        read_wav(tmp_path / "junk.wav")


def test_wav_with_no_samples_is_refused(tmp_path):
    write_wav(tmp_path / "z.wav", np.zeros(0, np.int16), 16000)
    with pytest.raises(EmptyAudioError, match="no audio samples"):
        read_wav(tmp_path / "z.wav")


def test_stereo_file_is_not_silently_downmixed(tmp_path):
    write_wav(tmp_path / "s.wav", np.zeros((100, 2), np.int16), 16000)
    with pytest.raises(AudioFormatError, match="2 channels"):
        read_wav(tmp_path / "s.wav")
    samples, rate = read_stereo_wav(tmp_path / "s.wav")
    assert samples.shape == (100, 2) and rate == 16000


def test_float_wav_is_read_through_soundfile(tmp_path):
    sf = pytest.importorskip("soundfile")
    x = (0.25 * np.sin(np.arange(1600) / 5)).astype(np.float32)
    sf.write(tmp_path / "f.wav", x, 8000, subtype="FLOAT")
    frame = read_wav(tmp_path / "f.wav")
    assert frame.sample_rate == 8000 and frame.num_samples == 1600


def test_split_frames_pads_the_tail():
    frames = split_frames(AudioFrame(bytes(2 * 1000), 16000), 0.02)
    assert [f.num_samples for f in frames] == [320, 320, 320, 320]
    frames = split_frames(AudioFrame(bytes(2 * 1000), 16000), 0.02, pad=False)
    assert [f.num_samples for f in frames] == [320, 320, 320, 40]


def test_frame_duration_must_be_whole_samples():
    with pytest.raises(AudioFormatError, match="whole number"):
        split_frames(AudioFrame(bytes(2 * 1000), 22050), 0.01)


def test_assembler_regroups_chunks_and_refuses_mixed_rates():
    asm = FrameAssembler(16000, 0.01)
    out = asm.push(AudioFrame(bytes(2 * 250), 16000)) + asm.push(AudioFrame(bytes(2 * 250), 16000))
    assert [f.num_samples for f in out] == [160, 160, 160]
    tail = asm.flush()
    assert tail is not None and tail.num_samples == 160
    assert asm.flush() is None
    with pytest.raises(SampleRateError, match="mixed sample rates"):
        asm.push(AudioFrame(bytes(2 * 80), 8000))


@pytest.mark.parametrize("rate", [8000, 24000, 22050])
def test_resample_keeps_duration_and_pitch(rate):
    src = tone(1000.0, 1.0, 16000)
    out = resample(src, rate)
    assert out.sample_rate == rate
    assert out.num_samples == rate
    spectrum = np.abs(np.fft.rfft(out.to_float()))
    peak_hz = np.argmax(spectrum) * rate / out.num_samples
    assert peak_hz == pytest.approx(1000.0, abs=2.0)


def test_mix_sums_and_clips():
    a = AudioFrame.from_int16(np.array([1000, 30000, -30000], np.int16), 16000)
    b = AudioFrame.from_int16(np.array([500, 30000], np.int16), 16000)
    assert mix([a, b]).to_int16().tolist() == [1500, 32767, -30000]
    with pytest.raises(SampleRateError):
        mix([a, AudioFrame(bytes(4), 8000)])


def test_recorder_is_sample_accurate_and_keeps_overlaps(tmp_path):
    rec = StereoRecorder(16000)
    user = AudioFrame.from_int16(np.full(1600, 1000, np.int16), 16000)   # 100 ms
    agent = AudioFrame.from_int16(np.full(3200, 2000, np.int16), 16000)  # 200 ms
    rec.record_at("agent", agent, 0.5)
    rec.record_at("user", user, 0.6)  # barge-in halfway through the agent's audio
    stereo = rec.stereo()
    assert stereo.shape == (16000 * 7 // 10, 2)
    left, right = stereo[:, 0], stereo[:, 1]
    # silence where nobody speaks, each party exactly where it was placed
    assert not left[:9600].any() and left[9600:11200].tolist() == [1000] * 1600
    assert not right[:8000].any() and (right[8000:11200] == 2000).all()
    mono = rec.mono_mix()
    assert (mono[9600:11200] == 3000).all()  # the overlap is in the mix too
    rec.write(tmp_path / "s.wav", tmp_path / "m.wav")
    samples, rate = read_stereo_wav(tmp_path / "s.wav")
    assert rate == 16000 and np.array_equal(samples, stereo)
    assert read_wav(tmp_path / "m.wav").to_int16().tolist() == mono.tolist()


def test_recorder_refuses_unknown_party_wrong_rate_and_empty_write(tmp_path):
    rec = StereoRecorder(16000)
    with pytest.raises(KeyError, match="unknown party"):
        rec.record("bob", AudioFrame(bytes(2), 16000))
    with pytest.raises(SampleRateError, match="resample"):
        rec.record("user", AudioFrame(bytes(2), 8000))
    with pytest.raises(EmptyAudioError):
        rec.write(tmp_path / "x.wav")
