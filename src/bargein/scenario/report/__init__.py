"""HTML reports of scenario runs: one self-contained page per scenario, and a suite summary.

``write_report(result, directory)`` writes the result files (``result.json``,
``conversation.wav``, ``conversation-mono.wav``, ``segments/``) and ``report.html``: a page
that opens from disk with no external assets and, by default, the stereo recording inside
it, so the page alone plays the call. It shows the verdict, a timeline picture (both
speakers' audio envelopes, interruption marks, protected speech, utterance and message
labels), an audio player, the metrics, the checks, and the transcript.

``write_suite_summary(results, directory)`` writes ``index.html``: one row per scenario,
linking to its report, plus totals.

The pages are package templates (``templates/``) rendered with Jinja2; the modules here
prepare what they show (:mod:`.data`), draw the timeline (:mod:`.timeline`), render
(:mod:`.render`) and summarise a suite (:mod:`.suite`). The pages are deterministic: the
same result gives the same bytes (no run timestamps).
"""

from __future__ import annotations

from pathlib import Path

from bargein.scenario.report.render import render_report
from bargein.scenario.report.suite import REPORT_FILE, render_suite_summary
from bargein.scenario.result import ScenarioResult

INDEX_FILE = "index.html"

__all__ = [
    "INDEX_FILE",
    "REPORT_FILE",
    "render_report",
    "render_suite_summary",
    "write_report",
    "write_suite_summary",
]


def write_report(result: ScenarioResult, directory: str | Path, *,
                 embed_audio: bool = True) -> Path:
    """Write the result files and ``report.html`` into ``directory``; return the page's path.

    ``embed_audio=False`` links ``conversation.wav`` instead of putting the recording inside
    the page (a smaller page for long calls; it then plays only next to its WAV file).
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    result.write(out)
    path = out / REPORT_FILE
    path.write_text(render_report(result, embed_audio=embed_audio), encoding="utf-8")
    return path


def write_suite_summary(results: list[tuple[ScenarioResult, Path]],
                        directory: str | Path) -> Path:
    """Write ``index.html`` into ``directory``: a table of ``results`` (each with the path of
    its report page, or of the folder holding it) with links and totals."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    path = out / INDEX_FILE
    path.write_text(render_suite_summary(results, out), encoding="utf-8")
    return path
