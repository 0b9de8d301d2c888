"""The suite summary page: one row per scenario, linked to its report, and pooled totals."""

from __future__ import annotations

import os
import statistics
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from bargein.scenario.report.data import clip, pct, secs
from bargein.scenario.report.render import render_template
from bargein.scenario.result import ScenarioResult

REPORT_FILE = "report.html"


@dataclass
class SuiteRow:
    """One scenario's line of the summary, formatted."""

    name: str
    description: str
    success: bool
    href: str
    stop: str
    response: str
    false_rate: str
    duration: str
    reasoning: str


def suite_rows(results: list[tuple[ScenarioResult, Path]], directory: Path) -> list[SuiteRow]:
    """A row per result, its link relative to ``directory`` (the report page, or the folder
    holding it)."""
    rows = []
    for result, report in results:
        target = Path(report)
        if target.suffix.lower() != ".html":
            target = target / REPORT_FILE
        s = result.metrics.summary()
        rows.append(SuiteRow(
            name=result.name, description=result.description, success=result.success,
            href=urllib.parse.quote(Path(os.path.relpath(target, directory)).as_posix()),
            stop=secs(s["stop_latency_p50"]), response=secs(s["response_latency_p50"]),
            false_rate=pct(s["false_interruption_rate"]), duration=secs(result.duration, 1),
            reasoning=clip(result.reasoning, 160)))
    return rows


def suite_totals(results: list[ScenarioResult]) -> dict[str, str]:
    """Pooled figures over every run: medians of all stop and response latencies, the false
    interruption rate over all backchannels, and the total duration."""
    stops = [v for r in results for v in r.metrics.stop_latency]
    responses = [v for r in results for v in r.metrics.response_latency]
    rated = [r.metrics for r in results if r.metrics.false_interruption_rate is not None]
    backchannels = sum(m.backchannels for m in rated)
    stopped = sum(m.false_interruption_rate * m.backchannels for m in rated)  # type: ignore[operator]
    return {
        "stop": secs(_median(stops)),
        "response": secs(_median(responses)),
        "false_rate": pct(stopped / backchannels if backchannels else None),
        "duration": secs(sum(r.duration for r in results), 1),
    }


def render_suite_summary(results: list[tuple[ScenarioResult, Path]], directory: Path) -> str:
    """The suite summary page, links relative to ``directory``."""
    passed = sum(r.success for r, _ in results)
    return render_template(
        "suite.html.j2", title=f"bargein suite: {passed}/{len(results)} passed",
        rows=suite_rows(results, Path(directory)),
        total=suite_totals([r for r, _ in results]),
        passed=passed, failed=len(results) - passed)


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None
