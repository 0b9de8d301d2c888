"""Every corrupt, cut-short or odd audio file is refused with a WavError that names it; every
sound file is read exactly.

The fuzz test mutates real WAV files (cuts, flipped header bytes, size fields set to 0, 1,
huge or 'unknown') and holds the reader to one rule: a file is either refused with a
``WavError`` / ``EmptyAudioError``, or read into exactly the audio that was written. A file cut
short is never accepted.
"""

from __future__ import annotations

import io
import os
import random
import struct

import numpy as np
import pytest

from bargein.audio import AudioFrame, read_stereo_wav, read_wav, wav_bytes
from bargein.errors import EmptyAudioError, WavError

RATE = 16000
TONE = (np.sin(np.arange(1600) / 5) * 8000).astype(np.int16)
GOOD = wav_bytes(AudioFrame.from_int16(TONE, RATE))
HEADER = 44  # RIFF + fmt + data headers of a file written by wav_bytes


def wav(fmt_code: int, channels: int, bits: int, frames: bytes, rate: int = RATE,
        extra_chunks: bytes = b"") -> bytes:
    """A WAV file assembled by hand (to test layouts the writer does not make)."""
    align = channels * bits // 8
    fmt = struct.pack("<HHIIHH", fmt_code, channels, rate, rate * align, align, bits)
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra_chunks
            + b"data" + struct.pack("<I", len(frames)) + frames + b"\0" * (len(frames) & 1))
    return b"RIFF" + struct.pack("<I", len(body)) + body


def riff(body: bytes) -> bytes:
    """A RIFF container around ``body`` (which starts with b"WAVE")."""
    return b"RIFF" + struct.pack("<I", len(body)) + body


def refused(data: bytes, match: str) -> None:
    with pytest.raises(WavError, match=match) as info:
        read_wav(data)
    assert info.value.source == "audio data"


def test_a_file_cut_short_is_refused_wherever_it_is_cut():
    for cut in (12, 20, 36, 44, 45, 46, 1000, len(GOOD) - 1):
        with pytest.raises(WavError, match="cut short"):
            read_wav(GOOD[:cut])


def test_a_data_chunk_longer_than_the_file_is_refused_even_with_a_placeholder_riff_size():
    data = bytearray(GOOD[:2000])
    data[4:8] = struct.pack("<I", 0xFFFFFFFF)  # "size unknown": the data chunk still lies
    refused(bytes(data), r"'data' chunk declares 3200 audio, only 1956 are there")


def test_a_stream_written_wav_with_unknown_data_size_runs_to_the_end():
    data = bytearray(GOOD)
    data[4:8] = data[40:44] = struct.pack("<I", 0xFFFFFFFF)
    assert read_wav(bytes(data)).to_int16().tolist() == TONE.tolist()


@pytest.mark.parametrize("offset, value, match", [
    (8, b"WAVX", "not a readable audio file"),
    (12, b"fm\x00 ", "not a chunk header"),
    (16, struct.pack("<I", 1_000_000), "'fmt ' chunk declares 1000000 bytes"),
    (16, struct.pack("<I", 4), "'fmt ' chunk is 4 bytes"),
    (22, struct.pack("<H", 0), "0 channels"),
    (24, struct.pack("<I", 0), "sample rate 0 Hz"),
    (24, struct.pack("<I", 12345678), "sample rate 12345678 Hz"),
    (28, struct.pack("<I", 7), "bytes/s, it says 7"),
    (32, struct.pack("<H", 3), "need 2 bytes per frame, it says 3"),
    (34, struct.pack("<H", 12), "unsupported PCM sample width: 12 bits"),
    (40, struct.pack("<I", 0), "not a chunk header"),
    (40, struct.pack("<I", 3199), "ends mid-sample"),
])
def test_each_corrupt_header_field_is_named(offset, value, match):
    data = bytearray(GOOD)
    data[offset:offset + len(value)] = value
    refused(bytes(data), match)


def test_the_bare_runtime_error_of_the_wave_module_is_gone():
    # a 'fmt ' chunk id damaged into 'f\0\0\0' with a size that points past the end made
    # the standard library raise RuntimeError() with no message
    data = bytearray(GOOD)
    data[12:20] = b"f\x00\x00\x00\x00\x00\x00\x00"
    refused(bytes(data), "not a chunk header")


def test_missing_or_misplaced_chunks():
    refused(riff(b"WAVE"), "no 'fmt ' chunk")
    refused(riff(GOOD[8:36]), "no 'data' chunk")
    refused(riff(b"WAVE" + GOOD[36:] + GOOD[12:36]), "before the 'fmt '")
    refused(riff(b"WAVE" + GOOD[12:] + GOOD[36:]), "two 'data' chunks")
    refused(riff(b"WAVE" + GOOD[12:36] + GOOD[12:]), "two 'fmt ' chunks")


def test_stray_bytes_after_the_audio_are_refused_but_zero_padding_is_not():
    refused(riff(GOOD[8:] + b"\x01\x02\x03"), "3 stray bytes")
    assert read_wav(riff(GOOD[8:] + b"\0\0\0")).to_int16().tolist() == TONE.tolist()
    # bytes after the RIFF container (an appended tag) are not part of the WAV
    assert read_wav(GOOD + b"TAG junk").to_int16().tolist() == TONE.tolist()


def test_chunks_before_and_after_the_audio_are_skipped():
    odd = b"LIST" + struct.pack("<I", 3) + b"abc\0"  # odd size: one pad byte
    frames = TONE.astype("<i2").tobytes()
    assert read_wav(wav(1, 1, 16, frames, extra_chunks=odd)).to_int16().tolist() == \
        TONE.tolist()


@pytest.mark.parametrize("bits, encode, decoded", [
    (8, lambda x: ((x >> 8) + 128).astype(np.uint8), lambda x: (x >> 8) << 8),
    (24, lambda x: np.stack([np.zeros_like(x, np.uint8), (x & 0xFF).astype(np.uint8),
                             ((x >> 8) & 0xFF).astype(np.uint8)], axis=1), lambda x: x),
    (32, lambda x: x.astype(np.int32) << 16, lambda x: x),
])
def test_pcm_widths_decode_exactly(bits, encode, decoded):
    frames = np.ascontiguousarray(encode(TONE.astype(np.int32))).tobytes()
    got = read_wav(wav(1, 1, bits, frames)).to_int16()
    assert got.tolist() == decoded(TONE.astype(np.int32)).astype(np.int16).tolist()


def test_float_wav_decodes_and_nan_samples_are_refused():
    x = (TONE / 32768.0).astype("<f4")
    assert read_wav(wav(3, 1, 32, x.tobytes())).to_int16().tolist() == TONE.tolist()
    x64 = x.astype("<f8")
    assert read_wav(wav(3, 1, 64, x64.tobytes())).to_int16().tolist() == TONE.tolist()
    x[7] = np.nan
    refused(wav(3, 1, 32, x.tobytes()), "NaN/inf sample")


def test_stereo_is_read_by_read_stereo_wav_and_refused_by_read_wav():
    stereo = np.stack([TONE, -TONE], axis=1)
    data = wav(1, 2, 16, stereo.astype("<i2").tobytes())
    samples, rate = read_stereo_wav(data)
    assert rate == RATE and samples.tolist() == stereo.tolist()
    with pytest.raises(Exception, match="2 channels"):
        read_wav(data)


def test_paths_empty_files_and_wrong_types(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        read_wav(tmp_path / "nope.wav")
    with pytest.raises(WavError, match="is a directory") as info:
        read_wav(tmp_path)
    assert info.value.source == str(tmp_path)
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(EmptyAudioError, match="0 bytes"):
        read_wav(tmp_path / "empty.wav")
    (tmp_path / "cut.wav").write_bytes(GOOD[:100])
    with pytest.raises(WavError, match=r"cut\.wav: the file is cut short"):
        read_wav(tmp_path / "cut.wav")
    with pytest.raises(WavError, match="no 'data' chunk"):
        read_wav(io.BytesIO(riff(GOOD[8:36])))
    for wrong in (42, None, 3.5, ["a.wav"]):
        with pytest.raises(TypeError, match=r"path, bytes or io\.BytesIO"):
            read_wav(wrong)  # type: ignore[arg-type]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads files whatever their permissions")
def test_an_unreadable_file_is_named(tmp_path):
    path = tmp_path / "secret.wav"
    path.write_bytes(GOOD)
    path.chmod(0)
    with pytest.raises(WavError, match=r"secret\.wav: cannot be read"):
        read_wav(path)


def _mutations(base: bytes, rng: random.Random) -> tuple[str, bytes]:
    kind = rng.choice(("cut", "header bytes", "size field", "any bytes"))
    data = bytearray(base)
    if kind == "cut":
        return kind, bytes(data[:rng.randrange(len(data))])
    if kind == "header bytes":
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(HEADER)] = rng.randrange(256)
    elif kind == "size field":
        pos = rng.choice((4, 16, 40))
        data[pos:pos + 4] = struct.pack("<I", rng.choice((0, 1, 3, 0x7FFFFFFF, 0xFFFFFFFF,
                                                          len(base), 12345678)))
    else:
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    return kind, bytes(data)


def test_fuzz_corrupt_wavs_are_refused_or_read_exactly():
    rng = random.Random(20240611)
    bases = [GOOD, wav(3, 1, 32, (TONE / 32768.0).astype("<f4").tobytes()),
             wav(1, 2, 16, np.stack([TONE, TONE], 1).astype("<i2").tobytes())]
    outcomes: dict[str, int] = {}
    for _ in range(1500):
        base = rng.choice(bases)
        kind, data = _mutations(base, rng)
        try:
            samples, _rate = read_stereo_wav(data)
        except (WavError, EmptyAudioError) as exc:
            assert str(exc).startswith("audio data: "), exc
            outcomes["refused"] = outcomes.get("refused", 0) + 1
            continue
        assert kind != "cut" or data == base, "a file cut short was accepted"
        expected, _ = read_stereo_wav(base)
        if data[HEADER:] == base[HEADER:] or kind != "any bytes":
            # the audio bytes are intact: what is read must be exactly the audio written
            assert samples.tolist() == expected.tolist(), kind
        else:  # sample bytes changed: same shape, nothing else can be known
            assert samples.shape == expected.shape
        outcomes["read"] = outcomes.get("read", 0) + 1
    assert outcomes["refused"] > 500 and outcomes["read"] > 100, outcomes
