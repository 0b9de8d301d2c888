"""The interruption benchmark end to end: a small suite through real Silero VAD and espeak-ng,
deterministic for a seed, and `bargein bench` on the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bargein import bench
from bargein.adapters.bench_agent import select_settings
from bargein.bench import runner

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _settings(*names: str) -> list:
    return select_settings(list(names), turn_limit_sentences=bench.TURN_LIMIT_SENTENCES)


def _deterministic(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "speed"}


@pytest.fixture(scope="module")
def small() -> dict:
    cases = bench.generate_cases(20, seed=3)
    suite = bench.run_suite(cases, _settings("words1-0.2", "vad-0.2"), seed=3)
    return suite.to_dict()


def test_small_suite_runs_every_case(small: dict) -> None:
    assert small["count"] == 20
    for name in ("words1-0.2", "vad-0.2"):
        results = small["results"][name]
        assert len(results) == 20
        assert all(r["duration"] > 1.0 for r in results)
        assert [r["id"] for r in results] == [c["id"] for c in small["cases"]]
    assert {c["kind"] for c in small["cases"]} == set(bench.KINDS)


def test_metrics_are_in_range(small: dict) -> None:
    for summary in small["summary"].values():
        for key in ("takeover_rate", "false_interruption_rate", "pause_takeover_rate",
                    "cut_in_precision", "cut_in_recall"):
            value = summary[key]
            assert value is None or 0.0 <= value <= 1.0, (key, value)
        p50, p95 = summary["stop_latency_p50"], summary["stop_latency_p95"]
        assert p50 is not None and 0.0 <= p50 <= p95 <= runner.TAIL["barge_in"]
        assert summary["response_latency_turn_p50"] is None or \
            0.0 < summary["response_latency_turn_p50"] < 3.5
        assert summary["response_gap_p50"] is None or -3.0 < summary["response_gap_p50"] < 3.5
        assert 0.0 <= summary["talked_over_rate"] <= 1.0
        assert 0.0 <= summary["barge_in_overlap_p50"] <= p95 + 0.05
    words = small["summary"]["words1-0.2"]
    vad = small["summary"]["vad-0.2"]
    # the oracle STT gives every genuine barge-in its words: the agent always yields
    assert words["takeover_rate"] == 1.0
    # backchannel words never count towards min_words
    assert words["false_interruption_backchannel"] == 0.0
    # VAD only: the agent pauses on backchannels, but stops sooner than with words
    assert vad["false_interruption_backchannel"] > 0.5
    assert vad["stop_latency_p50"] < words["stop_latency_p50"]


def test_same_seed_same_json(small: dict) -> None:
    runner._RENDERED.clear()  # render every case's audio again
    cases = bench.generate_cases(20, seed=3)
    again = bench.run_suite(cases, _settings("words1-0.2", "vad-0.2"), seed=3)
    first = json.dumps(_deterministic(small), sort_keys=True)
    assert json.dumps(_deterministic(again.to_dict()), sort_keys=True) == first
    assert bench.markdown_table(again.to_dict()) == bench.markdown_table(small)
    assert bench.svg_plot(again.to_dict()) == bench.svg_plot(small)


def test_report_table_and_plot(small: dict) -> None:
    table = bench.markdown_table(small)
    assert [line[:3] for line in table.splitlines() if line.startswith("|")] == [
        "| s", "|--", "| *", "| v"]  # header, separator, the best setting, the other
    assert "words1-0.2" in table and "vad-0.2" in table
    svg = bench.svg_plot(small)
    assert svg.startswith("<svg") and svg.count("<circle") == 2


def test_readme_section_is_replaced_between_markers(small: dict, tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Benchmarks\n\n## Other\n\nkeep me\n")
    bench.update_readme(readme, "first")
    bench.update_readme(readme, "second")
    text = readme.read_text()
    assert "keep me" in text and "first" not in text
    assert text.count(bench.BEGIN) == 1 and "## Interruption benchmark" in text
    assert f"{bench.BEGIN}\nsecond\n{bench.END}" in text


def test_cli_bench_prints_the_table(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bargein.cli", "bench", "--cases", "20", "--seed", "3",
         "--setting", "words1-0.2", "--setting", "vad-0.2",
         "--json", str(tmp_path / "r.json"), "--plot", str(tmp_path / "p.svg")],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "| setting | takeover |" in out.stdout
    assert "x real time" in out.stdout
    assert "[20/20 cases x 2 settings]" in out.stderr  # one progress line for the whole run
    data = json.loads((tmp_path / "r.json").read_text())
    assert [s["name"] for s in data["settings"]] == ["words1-0.2", "vad-0.2"]
    assert (tmp_path / "p.svg").read_text().startswith("<svg")


def test_cli_bench_refuses_an_unknown_setting() -> None:
    out = subprocess.run([sys.executable, "-m", "bargein.cli", "bench", "--setting", "nope"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "unknown setting(s) nope" in out.stderr
