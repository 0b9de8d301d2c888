"""The interruption benchmark: labelled cases, a runner, and reports.

How well does an agent yield to genuine barge-ins, ignore backchannels and noise, hold its
turn through the user's pauses, and cut in on monologues? :func:`generate_cases` makes a
seeded suite of labelled cases (:mod:`.cases`), :func:`run_suite` plays them against the
adapters of each :class:`Setting` and measures the recordings (:mod:`.runner`), and
:mod:`.report` turns the result into a Markdown table and an SVG plot.

The benchmark reaches agents only through adapters. bargein's own agent and its settings
sweep are in :mod:`bargein.adapters.bench_agent`; any other agent runs through an
:class:`AdapterSetting`. ``bargein bench`` and ``benchmarks/interruptions/run.py`` are thin
faces over :func:`run_benchmark` and :func:`write_outputs`.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bargein.bench.cases import KINDS, TURN_LIMIT_SENTENCES, BenchCase, generate_cases
from bargein.bench.report import (
    best_setting,
    markdown_table,
    speed_line,
    svg_plot,
    targets_note,
)
from bargein.bench.runner import AdapterSetting, CaseResult, Setting, run_case
from bargein.bench.suite import (
    TARGETS,
    SuiteResult,
    meets,
    run_suite,
    stderr_progress,
    summarize,
)
from bargein.markers import markers, update_file

__all__ = [
    "BEGIN",
    "END",
    "KINDS",
    "TARGETS",
    "TURN_LIMIT_SENTENCES",
    "AdapterSetting",
    "BenchCase",
    "CaseResult",
    "Setting",
    "SuiteResult",
    "best_setting",
    "dumps",
    "generate_cases",
    "machine",
    "markdown_table",
    "meets",
    "readme_section",
    "run_benchmark",
    "run_case",
    "run_suite",
    "speed_line",
    "stderr_progress",
    "summarize",
    "svg_plot",
    "targets_note",
    "update_readme",
    "write_outputs",
]

BEGIN, END = markers("interruptions")
HEADING = "## Interruption benchmark"


def run_benchmark(settings: Sequence[Setting], count: int = 300, seed: int = 0, *,
                  stt: str = "oracle",
                  progress: Callable[[str], None] | None = stderr_progress,
                  workers: int = 1, ray: str | None = None) -> dict[str, Any]:
    """Generate ``count`` cases for ``seed``, run them under ``settings`` (their adapters),
    and return the JSON-ready result. ``stt`` names the agents' recognizer in the report;
    ``workers`` and ``ray`` say where the cases run (:func:`run_suite`)."""
    cases = generate_cases(count, seed)
    if progress is not None:
        counts = ", ".join(f"{sum(c.kind == k for c in cases)} {k}" for k in KINDS)
        progress(f"bargein bench: {len(cases)} cases ({counts}), seed {seed}, "
                 f"{len(settings)} settings, {stt} STT")
    suite = run_suite(cases, settings, stt=stt, seed=seed, progress=progress,
                      workers=workers, ray=ray)
    return suite.to_dict()


def machine() -> str:
    """A short description of this machine, for the speed line."""
    return f"{os.cpu_count()} cores ({platform.machine()}), Python {platform.python_version()}"


def readme_section(data: dict[str, Any], command: str) -> str:
    """The generated part of the README section: command, table, targets, speed."""
    counts = ", ".join(f"{n} {k}" for k, n in data["counts"].items())
    stt = ("oracle STT (the known words, 0.1 s interim / 0.2 s final delay)"
           if data["stt"] == "oracle" else "real STT (pocketsphinx interims + Whisper finals)")
    return "\n".join([
        f"Command: `{command}`. {data['count']} cases ({counts}), seed {data['seed']}; "
        f"bargein's agent with real Silero VAD, espeak-ng and the rule-based LLM, {stt}; "
        f"turn limit {data['turn_limit_sentences']} sentences. Plot: "
        "[interruptions/plot.svg](interruptions/plot.svg); every case: "
        "[interruptions/results.json](interruptions/results.json).",
        "",
        markdown_table(data),
        "",
        targets_note(data),
        "",
        speed_line(data, machine()),
    ])


def update_readme(path: Path, section: str) -> None:
    """Replace the text between the interruption markers of ``path`` (appending a new
    "Interruption benchmark" section with the markers if it has none)."""
    if not path.exists():
        path.write_text("# Benchmarks\n")
    update_file(path, "interruptions", section, heading=HEADING)


def dumps(data: dict[str, Any]) -> str:
    """The suite's JSON with one case (and one case result) per line: compact, diffable."""
    parts = []
    for key, value in data.items():
        if key == "cases":
            body = "[\n" + ",\n".join("  " + json.dumps(c) for c in value) + "\n ]"
        elif key == "results":
            body = "{\n" + ",\n".join(
                f"  {json.dumps(name)}: [\n" + ",\n".join("   " + json.dumps(r) for r in rs)
                + "\n  ]" for name, rs in value.items()) + "\n }"
        elif key in ("summary", "speed"):
            body = json.dumps(value, indent=1).replace("\n", "\n ")
        else:
            body = json.dumps(value)
        parts.append(f" {json.dumps(key)}: {body}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def write_outputs(data: dict[str, Any], *, json_path: Path | None = None,
                  plot_path: Path | None = None, readme: Path | None = None,
                  command: str = "bargein bench") -> None:
    """Write the JSON result, the SVG plot and the README section (each if a path is given)."""
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(dumps(data))
    if plot_path is not None:
        plot_path.parent.mkdir(parents=True, exist_ok=True)
        plot_path.write_text(svg_plot(data))
    if readme is not None:
        update_readme(readme, readme_section(data, command))
