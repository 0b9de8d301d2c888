"""Rendering report pages from the package templates (Jinja2, autoescaped)."""

from __future__ import annotations

from functools import cache
from typing import Any

from bargein.scenario.report import data, timeline
from bargein.scenario.result import ScenarioResult

LEGEND = (
    ("sw-user", "user speech"), ("sw-barge", "user barge-in"),
    ("sw-agent", "agent speech"), ("sw-cut", "agent cut off (✂)"),
    ("sw-protected", "protected agent speech (uninterruptible)"),
    ("sw-mark", "interrupt fired (⚡ trigger · mode)"),
    ("sw-latency", "stop latency: onset → last agent sample"),
)


@cache
def environment() -> Any:
    """The Jinja2 environment over ``bargein/scenario/report/templates`` (made once)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bargein.scenario.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2", "svg"], default=True),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["secs"] = data.secs
    env.filters["pct"] = data.pct
    return env


def render_report(result: ScenarioResult, *, embed_audio: bool = True) -> str:
    """The report page of one result, as HTML text.

    With ``embed_audio`` (the default) the stereo recording is inside the page, which then
    plays on its own; otherwise the player links ``conversation.wav`` next to it.
    """
    turns = data.agent_turns(result)
    marks = data.marks(result)
    links, segments = data.files(result)
    verdict = "PASS" if result.success else "FAIL"
    return environment().get_template("report.html.j2").render(
        title=f"{verdict} · {result.name} · bargein report",
        r=result,
        facts=data.header_facts(result),
        chips=data.capability_chips(result.capabilities),
        p=timeline.timeline_picture(result, turns, marks),
        legend=LEGEND,
        audio_src=data.audio_source(result, embed_audio),
        audio_embedded=embed_audio,
        metric_rows=data.metric_rows(result.metrics),
        interruptions=data.interruption_rows(result),
        transcript=data.transcript(result, turns),
        file_links=links,
        segments=segments,
    )


def render_template(name: str, **context: Any) -> str:
    """Any page template of the package, rendered with ``context``."""
    return environment().get_template(name).render(**context)
