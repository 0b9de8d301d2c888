"""Examples run as written: each is started the way the docs say and its output checked."""

import subprocess
import sys
from pathlib import Path

import pytest

from bargein.audio import read_stereo_wav

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def run_example(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_speech_roundtrip_demo(tmp_path):
    out = run_example("examples/speech_roundtrip.py", "--out", str(tmp_path))
    print(out)
    assert out.count("VAD     speech started") == 3
    assert out.count("final") >= 3
    assert "interim" in out
    assert out.count("agent   starts answering") == 3
    samples, rate = read_stereo_wav(tmp_path / "speech_roundtrip.wav")
    assert rate == 16000 and samples.shape[1] == 2
    assert samples[:, 0].any() and samples[:, 1].any()  # both parties were recorded
