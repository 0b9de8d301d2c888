"""The example scenarios run as documented: exit status, printed summary and written results.

The reference's voice-interruption examples (unrolled and sugar forms, the three trigger
modes, random interruptions, the simulator's own interrupt probability) run as written.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bargein.audio import read_stereo_wav

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = "examples/scenarios/barge_in_recovery.py"


def run_example(*args: str, example: str = EXAMPLE) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, example, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def run_reference(name: str, *args: str) -> str:
    """Run ``examples/scenarios/<name>`` as a user would; its output (exit status 0)."""
    proc = run_example(*args, example=f"examples/scenarios/{name}")
    print(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def timeline_lines(out: str, kind: str) -> list[tuple[float, dict]]:
    """``(time, data)`` of the ``<time> s  <kind>  {data}`` lines an example prints."""
    found = re.findall(rf"^\s*([\d.]+) s\s+{kind}\s+(\{{.*\}})$", out, re.MULTILINE)
    return [(float(t), ast.literal_eval(data)) for t, data in found]


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


def test_interruption_recovery_both_forms_in_one_scenario():
    out = run_reference("interruption_recovery.py")
    assert "barge-in (native): 'Wait — I meant account support'" in out
    assert "barge-in (native): 'Sorry — what are your business hours?'" in out
    assert "[x] judge: agent recovered after every interruption (stop <= 1 s): recovered " \
           "from 2 barge-in(s)" in out
    assert out.count("[x] agent stopped within 1 s of the interrupt") == 2
    assert "[ ]" not in out and out.rstrip().endswith("PASS: all 7 checks passed")


def test_interruption_recovery_on_the_vad_path():
    out = run_reference("interruption_recovery.py", "--adapter", "limited")
    assert out.count("barge-in (vad)") == 2 and "PASS" in out


def test_the_three_trigger_modes_fire_where_they_say():
    out = run_reference("interrupt_triggers.py")
    assert out.count("PASS: all 2 checks passed") == 3 and "[ ]" not in out
    fired = re.findall(r"fired at [\d.]+ s \(([-+][\d.]+) s\), heard: '([^']*)'", out)
    (after, _), (words, heard), (first, _) = [(float(t), h) for t, h in fired]
    assert abs(after - 2.0) <= 0.03  # 2 s of heard reply, to the frame
    assert abs(first) <= 0.03  # at the first audible frame
    assert len(heard.split()) == 6  # 5 whole words heard, fired as the 6th began
    assert 0.0 < words < after


def test_word_count_trigger_is_refused_without_streaming_transcripts():
    out = run_reference("interrupt_triggers.py", "--adapter", "limited")
    assert "refused before it started: adapter 'interrupt_user (limited)' does not support " \
           "'streaming_transcripts'" in out
    assert "use interrupt(content) (at the first audible audio)" in out
    assert out.count("PASS: all 2 checks passed") == 2


def test_random_interruptions_as_written():
    out = run_reference("random_interruptions.py")
    plan = timeline_lines(out, "proceed_turn")
    assert len(plan) == 6  # the reply to the scripted line, then 5 exchanges
    assert plan[0][1].get("answers") == "script"  # proceed picked up where the script was
    fired = timeline_lines(out, "interrupt_fired")
    assert len(fired) == sum(d["interrupt"] for _, d in plan) >= 1
    assert all(0.5 <= d["delay"] <= 2.0 for _, d in fired)
    assert "[x] judge: yield_rate >= 1" in out and out.rstrip().endswith("PASS: all 2 checks "
                                                                           "passed")


def test_simulator_interrupt_probability_runs_until_the_judge_decides():
    out = run_reference("simulator_interrupt_probability.py")
    assert timeline_lines(out, "interrupt_fired")  # the caller's own probability barged in
    assert timeline_lines(out, "judge_decided") and "proceed_max_turns" not in out
    assert re.search(r"PASS: the judge's criteria were all met after \d+ caller turn\(s\)", out)


def test_the_reference_scenarios_never_merge_two_caller_lines():
    """proceed() lets the agent answer before the caller speaks again: between two caller
    lines that are not barge-ins there is always a complete agent reply."""
    sys.path.insert(0, str(ROOT / "examples" / "scenarios"))
    from random_interruptions import RANDOM_INTERRUPTIONS

    result = RANDOM_INTERRUPTIONS.run()
    messages = [(e.time, e.data["interrupted"]) for e in result.timeline.of("agent_message")]
    turns = [u for u in result.utterances if not u.barge_in]
    assert len(turns) == 6  # the scripted line and 5 simulated ones
    for before, after in itertools.pairwise(turns):
        assert any(before.end < t < after.onset and not cut for t, cut in messages)
