"""The example scenarios run as documented: exit status, printed summary and written results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bargein.audio import read_stereo_wav

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = "examples/scenarios/barge_in_recovery.py"


def run_example(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, EXAMPLE, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.parametrize(("adapter", "mode"), [("full", "native"), ("limited", "vad")])
def test_barge_in_recovery(tmp_path, adapter, mode):
    proc = run_example("--out", str(tmp_path), "--adapter", adapter)
    out = proc.stdout
    print(out, proc.stderr)
    assert proc.returncode == 0, out + proc.stderr

    for form in ("unrolled", "sugar"):
        assert f"== barge-in recovery ({form} form): PASS ==" in out
    assert out.count(f"interrupt_fired          trigger='first_audio' mode='{mode}'") == 2
    assert out.count("[x] agent stopped within 0.6 s of the interrupt") == 2
    assert "[ ]" not in out  # no failed check
    assert "unrolled and sugar forms give the same timeline: yes" in out
    assert out.rstrip().endswith("all scenarios passed")

    results = {}
    for form in ("unrolled", "sugar"):
        directory = tmp_path / f"barge_in_recovery_{form}"
        result = json.loads((directory / "result.json").read_text())
        assert result["success"] is True
        assert result["adapter"]["name"] == f"interrupt_user ({adapter})"
        barge_ins = [u for u in result["utterances"] if u["barge_in"]]
        assert [u["mode"] for u in barge_ins] == [mode]
        assert result["metrics"]["summary"]["yield_rate"] == 1.0
        samples, rate = read_stereo_wav(directory / "conversation.wav")
        assert rate == 16000 and samples.shape[1] == 2
        assert samples[:, 0].any() and samples[:, 1].any()
        assert (directory / "conversation-mono.wav").exists()
        assert sorted(p.name for p in (directory / "segments").iterdir())[0] == "turn01-agent.wav"
        results[form] = result
    assert results["unrolled"]["timeline"] == results["sugar"]["timeline"]


def test_bad_option_exits_non_zero():
    proc = run_example("--adapter", "nope")
    assert proc.returncode != 0
    assert "invalid choice" in proc.stderr
