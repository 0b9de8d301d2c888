"""The faces a user touches: `bargein run`, `bargein demo` and the pytest plugin."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
BARGEIN = [sys.executable, "-m", "bargein.cli"]

AGENT = '''
import sys
sys.path.insert(0, {agents!r})
from _agents import interrupt_user_agent
from bargein import scenario
'''


def scenario_file(tmp_path: Path, body: str, name: str = "case.py") -> Path:
    path = tmp_path / name
    header = AGENT.format(agents=str(ROOT / "examples" / "scenarios"))
    path.write_text(header + textwrap.dedent(body))
    return path


def bargein(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BARGEIN, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


PASSING = '''
GOOD = scenario.Scenario("answers hours", agent=interrupt_user_agent, script=[
    scenario.agent(), scenario.user("What are your business hours?"), scenario.agent(),
    scenario.judge([scenario.said("Monday")])])
'''
FAILING = '''
BAD = scenario.Scenario("promises a discount", agent=interrupt_user_agent, script=[
    scenario.agent(), scenario.user("What are your business hours?"), scenario.agent(),
    scenario.judge([scenario.said("fifty percent discount")])])
'''


def test_run_passes_and_writes_reports(tmp_path):
    path = scenario_file(tmp_path, PASSING)
    out = bargein("run", str(path), "--report", str(tmp_path / "reports"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1/1 passed" in out.stdout and "PASS" in out.stdout
    report = tmp_path / "reports" / "answers-hours"
    assert (report / "report.html").exists() and (report / "conversation.wav").exists()
    assert json.loads((report / "result.json").read_text())["success"] is True
    assert (tmp_path / "reports" / "index.html").exists()
    # one self-contained page: the recording is inside it
    assert 'src="data:audio/wav;base64,' in (report / "report.html").read_text()


def test_run_can_link_the_audio_instead_of_embedding_it(tmp_path):
    path = scenario_file(tmp_path, PASSING)
    out = bargein("run", str(path), "--link-audio", "--report", str(tmp_path / "reports"))
    assert out.returncode == 0, out.stdout + out.stderr
    page = (tmp_path / "reports" / "answers-hours" / "report.html").read_text()
    assert 'src="conversation.wav"' in page and "data:audio" not in page


def test_failing_criterion_exits_non_zero_with_reason_and_report_path(tmp_path):
    path = scenario_file(tmp_path, PASSING + FAILING)
    out = bargein("run", str(path), "--report", str(tmp_path / "reports"))
    print(out.stdout, out.stderr)
    assert out.returncode == 1
    assert "1/2 passed" in out.stdout
    assert "FAILED promises a discount" in out.stderr
    assert "missing ['fifty percent discount']" in out.stderr
    assert str(tmp_path / "reports" / "promises-a-discount" / "report.html") in out.stderr


def test_same_seed_twice_gives_identical_json_and_wav(tmp_path):
    path = ROOT / "examples" / "scenarios" / "random_interruptions.py"
    for run in ("a", "b"):
        out = bargein("run", str(path), "--seed", "5", "--report", str(tmp_path / run))
        assert out.returncode == 0, out.stdout + out.stderr
    a = tmp_path / "a" / "random-interruptions-over-5-turns"
    b = tmp_path / "b" / "random-interruptions-over-5-turns"
    assert (a / "result.json").read_bytes() == (b / "result.json").read_bytes()
    assert (a / "conversation.wav").read_bytes() == (b / "conversation.wav").read_bytes()
    assert (a / "report.html").read_bytes() == (b / "report.html").read_bytes()
    fired = [e for e in json.loads((a / "result.json").read_text())["timeline"]
             if e["kind"] == "interrupt_fired"]
    assert fired and all(0.5 <= e["delay"] <= 2.0 for e in fired)


@pytest.mark.parametrize("body, message", [
    ("x = scenario.Scenario('broken',\n", "syntax error"),
    ("S = scenario.Scenario('no agent', script=[scenario.agent()])\n",
     "has no agent: pass agent="),
    ("C = scenario.InterruptionConfig(probability=1.5)\n",
     "probability must be between 0 and 1, got 1.5"),
    ("C = scenario.InterruptionConfig(delay_range=(3.0, 0.5))\n",
     "delay_range must satisfy 0 <= low <= high, got (3.0, 0.5)"),
])
def test_bad_scenario_files_give_a_one_line_error(tmp_path, body, message):
    path = scenario_file(tmp_path, body, name="broken.py")
    out = bargein("run", str(path))
    assert out.returncode == 2
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("error: ") and message in lines[0]
    assert "broken.py:" in lines[0]  # names the file and the line


def test_missing_path_is_a_clear_error(tmp_path):
    out = bargein("run", str(tmp_path / "nowhere"))
    assert out.returncode == 2 and "no such file or folder" in out.stderr


def test_demo_runs_the_examples_and_writes_a_report(tmp_path):
    out = bargein("demo", "--report", str(tmp_path / "demo"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "10/10 passed" in out.stdout
    index = (tmp_path / "demo" / "index.html").read_text()
    assert "barge-in recovery" in index and "uninterruptible announcement" in index


def test_pytest_plugin_fails_the_test_with_reason_and_report_path(tmp_path):
    scenario_file(tmp_path, PASSING + FAILING, name="my_scenarios.py")
    (tmp_path / "test_voice.py").write_text(textwrap.dedent('''
        import pytest
        from my_scenarios import BAD, GOOD

        @pytest.mark.voice_scenario(GOOD)
        def test_good(voice_result):
            assert voice_result.success

        def test_bad(run_scenario):
            run_scenario(BAD)
    '''))
    reports = tmp_path / "reports"
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "--bargein-reports", str(reports), str(tmp_path / "test_voice.py")],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600)
    print(out.stdout)
    assert out.returncode == 1
    assert "1 failed, 1 passed" in out.stdout
    assert "voice scenario 'promises a discount' failed" in out.stdout
    assert "missing ['fifty percent discount']" in out.stdout
    folder = reports / "test-voice-py--test-bad" / "promises-a-discount"  # its node id
    assert f"report: {folder / 'report.html'}" in out.stdout


def test_pytest_plugin_under_xdist_spreads_scenarios_and_keeps_reports_apart(tmp_path):
    pytest.importorskip("xdist", reason="pytest-xdist is not installed")
    scenario_file(tmp_path, PASSING, name="my_scenarios.py")
    body = textwrap.dedent('''
        import os
        import pytest
        from my_scenarios import GOOD

        @pytest.mark.voice_scenario(GOOD)
        def test_same_name(voice_result):
            assert voice_result.success
            print("worker", os.environ.get("PYTEST_XDIST_WORKER"))
    ''')
    for name in ("test_a.py", "test_b.py"):  # same test name in two files
        (tmp_path / name).write_text(body)
    reports = tmp_path / "reports"
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "-n", "2", "-rP", "--bargein-reports", str(reports),
                          str(tmp_path / "test_a.py"), str(tmp_path / "test_b.py")],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 passed" in out.stdout
    assert {"worker gw0", "worker gw1"} <= set(out.stdout.splitlines())  # one each
    for test in ("test-a-py--test-same-name", "test-b-py--test-same-name"):
        result = json.loads((reports / test / "answers-hours" / "result.json").read_text())
        assert result["success"] is True


LIVEKIT_SCENARIO = '''
import importlib.util
import sys
from pathlib import Path

from bargein import scenario
from bargein.adapters.livekit import LiveKitAgentAdapter

EXAMPLE = Path({example!r})
sys.path.insert(0, str(EXAMPLE.parent))
spec = importlib.util.spec_from_file_location("lk_uninterruptable", EXAMPLE)
recipe = importlib.util.module_from_spec(spec)
spec.loader.exec_module(recipe)

S = scenario.Scenario("talking over livekit", agent=lambda: LiveKitAgentAdapter(recipe.build),
                      script=[scenario.agent(wait=False),
                              scenario.user("Sorry, what are your business hours?"),
                              scenario.agent()])
'''


def test_livekit_log_lines_stay_out_of_the_run_output(tmp_path):
    # LiveKit warns "skipping reply to user input" when the caller talks over uninterruptible
    # speech, and about the recipe's deprecated preemptive_generation option
    pytest.importorskip("livekit.agents")
    path = tmp_path / "livekit_case.py"
    path.write_text(LIVEKIT_SCENARIO.format(
        example=str(ROOT / "examples" / "livekit" / "uninterruptable.py")))
    out = bargein("run", str(path), "--report", str(tmp_path / "reports"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stderr == ""
    assert "skipping reply" not in out.stdout and "deprecated" not in out.stdout
    assert "kept in their report folders (log.txt)" in out.stdout
    log = (tmp_path / "reports" / "talking-over-livekit" / "log.txt").read_text()
    assert "WARNING livekit.agents: skipping reply to user input" in log
    assert "preemptive_generation is deprecated" in log
