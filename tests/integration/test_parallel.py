"""A suite gives the same bytes run serially, in 2 worker processes and on local Ray.

Two small suites through the real local stack (Silero VAD, espeak-ng): the interruption
benchmark on a few cases, and the barge-in recovery scenarios of the examples with their
report folders (HTML, JSON, WAV files), compared file by file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bargein import bench
from bargein.adapters.bench_agent import select_settings
from bargein.scenario.suite import collect, run_suite

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "examples" / "scenarios" / "barge_in_recovery.py"


def _bench_json(**where: object) -> str:
    settings = select_settings(["words1-0.2", "vad-0.2"],
                               turn_limit_sentences=bench.TURN_LIMIT_SENTENCES)
    suite = bench.run_suite(bench.generate_cases(5, seed=11), settings, seed=11,
                            **where)  # type: ignore[arg-type]
    data = suite.to_dict()
    data.pop("speed")  # wall time: the only part that may differ
    return json.dumps(data, sort_keys=True)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _run_scenarios(folder: Path, **where: object) -> dict[str, bytes]:
    entries = run_suite(collect([SCENARIOS]), report_dir=folder,
                        **where)  # type: ignore[arg-type]
    assert [e.scenario.name for e in entries] == [s.name for s, _ in collect([SCENARIOS])]
    assert all(e.passed for e in entries), [e.error for e in entries]
    return _files(folder)


def test_scenario_reports_are_the_same_with_two_workers(tmp_path: Path) -> None:
    serial = _run_scenarios(tmp_path / "serial", workers=1)
    assert any(name.endswith("conversation.wav") for name in serial)
    assert "index.html" in serial
    assert _run_scenarios(tmp_path / "two", workers=2) == serial


def test_bench_suite_is_the_same_serially_with_two_workers_and_on_ray(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray", reason="the extra 'ray' is not installed")
    serial = _bench_json(workers=1)
    assert _bench_json(workers=2) == serial
    ray.init(include_dashboard=False, log_to_driver=False, num_cpus=2)
    try:  # one Ray instance for both suites (it takes seconds to start)
        assert _bench_json(ray="local") == serial
        scenarios_serial = _run_scenarios(tmp_path / "serial", workers=1)
        assert _run_scenarios(tmp_path / "ray", ray="local") == scenarios_serial
    finally:
        ray.shutdown()


def test_the_scale_example_builds_its_suite_from_the_environment(monkeypatch) -> None:
    example = ROOT / "examples" / "scale" / "random_suite.py"
    monkeypatch.setenv("BARGEIN_SUITE_SEEDS", "3")
    found = collect([example])
    assert len(found) == 12  # 3 seeds x 4 voices, unique names (collect checks)
    result = found[0][0].run()
    assert result.success, result.reasoning
    assert any(u.barge_in for u in result.utterances)
