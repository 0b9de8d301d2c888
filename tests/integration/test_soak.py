"""`bargein soak` on the real stack: a dozen random calls lose nothing, a scenario reruns
alone byte for byte, and an agent that drops turns is caught with the command to rerun it.

The 2,000-scenario run is a benchmark (benchmarks/README.md, "Soak"), not a test.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from bargein.adapters.soak_agent import SETUPS
from bargein.bench.soak import ScenarioOutcome, ScenarioPlan, plans, run_scenario

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
#: Twelve scenarios with the oracle recognizer over 9 setups, 7 of them with an injected
#: fault (TTS nan, wrong rate twice, LLM invalid text and run-on, STT late final and empty
#: finals): the most ground per second of CI.
SEED = 124


def run_alone(seed: int, index: int, **options: Any) -> tuple[ScenarioPlan, ScenarioOutcome]:
    """Soak scenario ``index`` of ``seed`` over the built-in setups, alone in this process
    (as ``bargein soak --seed SEED --only INDEX`` runs it): its plan and outcome."""
    plan = plans(0, seed, SETUPS, only=[index])[0]
    return plan, run_scenario(plan, {s.name: s for s in SETUPS}[plan.setup], **options)


def soak(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bargein.cli", "soak", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)


def test_a_dozen_random_calls_lose_nothing_and_rerun_alone_the_same(tmp_path):
    out = soak("--scenarios", "12", "--seed", str(SEED), "--workers", "2",
               "--json", str(tmp_path / "soak.json"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "problems: hangs 0 · exceptions 0 · lost turns 0" in out.stdout
    data = json.loads((tmp_path / "soak.json").read_text())
    assert all(n == 0 for n in data["problems"].values()), data["problems"]
    assert data["mix"]["faults"] == 7 and len(data["mix"]["setups"]) == 9
    assert data["turns"]["answered"] >= 20
    # scenario 5 alone, in this process, makes the very same recording
    five = next(s for s in data["scenarios"] if s["index"] == 5)
    _plan, alone = run_alone(SEED, 5)
    assert alone.digest == five["digest"] and alone.problems == []


DEAF_AGENT = '''
from bargein.agent import Agent, AgentSession, StopResponse


class TakesNotes(Agent):
    """Takes every turn into its history and never answers."""

    def __init__(self):
        super().__init__(instructions="You take notes.")

    async def on_user_turn_completed(self, turn_ctx, new_message):
        raise StopResponse


def build_session(providers):
    return AgentSession(vad=providers.vad, stt=providers.stt, llm=providers.llm,
                        tts=providers.tts)
'''


def test_an_agent_that_never_answers_is_caught_with_the_command_to_rerun_it(tmp_path):
    agent = tmp_path / "takes_notes.py"
    agent.write_text(textwrap.dedent(DEAF_AGENT))
    out = soak("--scenarios", "2", "--seed", str(SEED), "--agent", str(agent))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "[lost_turn] scenario 0 (takes_notes" in out.stdout
    assert "never answered" in out.stdout
    assert f"reproduce: bargein soak --seed {SEED} --agent {agent} --only 0" in out.stdout


def test_bad_input_is_one_line_and_exit_code_2(tmp_path):
    for args, message in ((["--setups", "nope"], "unknown setup(s) nope"),
                          (["--scenarios", "0"], "--scenarios must be at least 1"),
                          (["--wall-limit", "nan"], "--wall-limit must be"),
                          (["--workers", "0"], "--workers must be at least 1"),
                          (["--agent", str(tmp_path / "missing.py")], "no such agent file")):
        out = soak(*args)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert message in out.stderr and "Traceback" not in out.stderr
