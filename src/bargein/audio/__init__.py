"""Audio core: frames, conversions, resampling, WAV files, framing, mixing and recording."""

from bargein.audio.convert import check_finite, float_to_int16, int16_to_float
from bargein.audio.frame import (
    DEFAULT_SAMPLE_RATE,
    SESSION_SAMPLE_RATES,
    AudioFrame,
    check_sample_rate,
    check_session_rate,
    concat,
)
from bargein.audio.framing import FrameAssembler, iter_frames, samples_per_frame, split_frames
from bargein.audio.mixer import Track, mix
from bargein.audio.recorder import StereoRecorder
from bargein.audio.resample import StreamResampler, resample
from bargein.audio.wav import read_stereo_wav, read_wav, wav_bytes, write_wav

__all__ = [
    "DEFAULT_SAMPLE_RATE",
    "SESSION_SAMPLE_RATES",
    "AudioFrame",
    "FrameAssembler",
    "StereoRecorder",
    "StreamResampler",
    "Track",
    "check_finite",
    "check_sample_rate",
    "check_session_rate",
    "concat",
    "float_to_int16",
    "int16_to_float",
    "iter_frames",
    "mix",
    "read_stereo_wav",
    "read_wav",
    "resample",
    "samples_per_frame",
    "split_frames",
    "wav_bytes",
    "write_wav",
]
