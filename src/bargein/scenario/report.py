"""HTML reports of scenario runs: one self-contained page per scenario, and a suite summary.

``write_report(result, directory)`` writes the result files (``result.json``,
``conversation.wav``, ``conversation-mono.wav``, ``segments/``) and ``report.html``: a page
that opens from disk with no external assets. It shows the verdict, a timeline picture (both
speakers' audio envelopes, interruption marks, utterance and message labels), an audio
player for the recording, the metrics, the checks, and the transcript.

``write_suite_summary(results, directory)`` writes ``index.html``: one row per scenario,
linking to its report, plus totals.

The pages are deterministic: the same result gives the same bytes (no run timestamps).
"""

from __future__ import annotations

import html
import math
import os
import statistics
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bargein.scenario.metrics import YIELD_WINDOW, InterruptionMeasure, Metrics
from bargein.scenario.result import ScenarioResult

REPORT_FILE = "report.html"
INDEX_FILE = "index.html"

# -- the timeline picture: geometry --------------------------------------------------------
WIDTH = 1160  # SVG user units (the page scales it to the column width)
GUTTER = 64  # left margin holding the lane names
RIGHT = 16
PLOT = WIDTH - GUTTER - RIGHT
ENVELOPE_WINDOW = 0.025  # seconds per RMS value
MARK_H = 18  # interruption labels
LABEL_H = 15  # one level of utterance / message labels
LANE_H = 50
AXIS_H = 24
ROW_GAP = 18
ROW_H = MARK_H + 2 * LABEL_H + 2 * LANE_H + 2 * LABEL_H + AXIS_H + ROW_GAP
NICE_ROWS = (10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1800, 3600)
MAX_ROWS = 8
CHAR_W = 6.1  # average width of one character of 11 px label text

USER_COLOR = "#0f766e"
AGENT_COLOR = "#4338ca"
INTERRUPT_COLOR = "#dc2626"
FALSE_COLOR = "#d97706"


@dataclass
class _Message:
    time: float  # when the agent committed it
    start: float  # first audible sample of its turn (or ``time`` when it was never audible)
    end: float
    text: str
    interrupted: bool


@dataclass
class _Mark:
    time: float
    kind: str  # "interrupt" | "false" | "error"
    label: str
    title: str


# -- public API ------------------------------------------------------------------------------

def write_report(result: ScenarioResult, directory: str | Path) -> Path:
    """Write the result files and ``report.html`` into ``directory``; return the page's path."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    result.write(out)
    path = out / REPORT_FILE
    path.write_text(render_report(result), encoding="utf-8")
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


def render_report(result: ScenarioResult) -> str:
    """The report page of one result, as HTML text."""
    messages = _messages(result)
    marks = _marks(result)
    body = "\n".join([
        _header(result),
        _section("Timeline", _timeline_svg(result, messages, marks) + _legend()
                 + _player(result)),
        _section("Metrics", _metrics_tables(result.metrics)),
        _section("Checks", _checks_table(result)),
        _section("Transcript", _transcript(result, messages)),
        _section("Files", _files(result)),
    ])
    title = f"{'PASS' if result.success else 'FAIL'} · {result.name} · bargein report"
    return _page(title, body, script=_PLAYHEAD_JS)


def render_suite_summary(results: list[tuple[ScenarioResult, Path]], directory: Path) -> str:
    """The suite summary page, links relative to ``directory``."""
    rows = []
    for result, report in results:
        target = Path(report)
        if target.suffix.lower() != ".html":
            target = target / REPORT_FILE
        href = urllib.parse.quote(Path(os.path.relpath(target, directory)).as_posix())
        s = result.metrics.summary()
        fir = s["false_interruption_rate"]
        rows.append(
            "<tr>"
            f'<td class="name"><a href="{_e(href)}">{_e(result.name)}</a>'
            + (f'<div class="muted">{_e(result.description)}</div>' if result.description
               else "")
            + f"</td><td>{_badge(result.success)}</td>"
            f'<td class="num">{_secs(s["stop_latency_p50"])}</td>'
            f'<td class="num">{_secs(s["response_latency_p50"])}</td>'
            f'<td class="num">{_pct(fir)}</td>'
            f'<td class="num">{_secs(result.duration, 1)}</td>'
            f'<td class="why">{_e(_clip(result.reasoning, 160))}</td></tr>'
        )
    passed = sum(r.success for r, _ in results)
    stops = [v for r, _ in results for v in r.metrics.stop_latency]
    responses = [v for r, _ in results for v in r.metrics.response_latency]
    bc = sum(r.metrics.backchannels for r, _ in results
             if r.metrics.false_interruption_rate is not None)
    stopped = sum(r.metrics.false_interruption_rate * r.metrics.backchannels
                  for r, _ in results if r.metrics.false_interruption_rate is not None)
    total = (
        '<tr class="total">'
        f"<td>Total: {len(results)} scenario{'s' if len(results) != 1 else ''}</td>"
        f'<td class="nowrap">{passed}/{len(results)} passed</td>'
        f'<td class="num">{_secs(_median(stops))}</td>'
        f'<td class="num">{_secs(_median(responses))}</td>'
        f'<td class="num">{_pct(stopped / bc if bc else None)}</td>'
        f'<td class="num">{_secs(sum(r.duration for r, _ in results), 1)}</td><td></td></tr>'
    )
    failed = len(results) - passed
    verdict = (f'<span class="badge {"pass" if not failed else "fail"}">'
               f'{"ALL PASSED" if not failed else f"{failed} FAILED"}</span>')
    body = (
        f'<header><h1>Scenario suite {verdict}</h1>'
        f'<p class="reason">{passed} of {len(results)} scenarios passed. Latencies are '
        "medians (p50) in seconds on the recording; the total row pools every run.</p>"
        "</header>"
        + _section("Scenarios",
                   '<table class="grid"><thead><tr><th>Scenario</th><th>Verdict</th>'
                   '<th class="num">Stop latency p50</th><th class="num">Response latency p50'
                   '</th><th class="num">False interruption rate</th>'
                   '<th class="num">Duration</th><th>Reasoning</th></tr></thead><tbody>'
                   + "".join(rows) + "</tbody><tfoot>" + total + "</tfoot></table>")
    )
    return _page(f"bargein suite: {passed}/{len(results)} passed", body)


# -- what the timeline holds -----------------------------------------------------------------

def _spans(result: ScenarioResult, start: str, stop: str) -> list[tuple[float, float]]:
    starts = [e.time for e in result.timeline.of(start)]
    stops = [e.time for e in result.timeline.of(stop)]
    spans = []
    for s in starts:
        end = next((t for t in stops if t >= s), result.duration)
        spans.append((s, end))
    return spans


def _messages(result: ScenarioResult) -> list[_Message]:
    """Agent messages placed on the agent turn they were spoken in."""
    turns = _spans(result, "agent_started_speaking", "agent_stopped_speaking")
    out = []
    for e in result.timeline.of("agent_message"):
        text = str(e.data.get("text", ""))
        turn = None
        for s, end in turns:
            if s <= e.time + 0.05:
                turn = (s, end)
        start, end = turn if turn is not None else (e.time, e.time)
        out.append(_Message(e.time, start, end, text, bool(e.data.get("interrupted"))))
    return out


def _marks(result: ScenarioResult) -> list[_Mark]:
    marks = []
    for e in result.timeline.events:
        if e.kind == "interrupt_fired":
            trigger = str(e.data.get("trigger") or "")
            mode = str(e.data.get("mode") or "")
            label = " · ".join(x for x in (_trigger_text(trigger, e.data), mode) if x)
            title = (f"interrupt at {e.time:.3f} s ({label}): "
                     f"{e.data.get('content', '')}")
            marks.append(_Mark(e.time, "interrupt", label, title))
        elif e.kind == "agent_false_interruption":
            marks.append(_Mark(e.time, "false", "false interruption",
                               f"false interruption at {e.time:.3f} s: agent resumed"))
        elif e.kind == "error":
            text = str(e.data.get("message") or e.data.get("error") or e.data)
            marks.append(_Mark(e.time, "error", "error", f"error at {e.time:.3f} s: {text}"))
    return marks


def _trigger_text(trigger: str, data: dict) -> str:
    if trigger == "after" and data.get("delay") is not None:
        return f"after {float(data['delay']):.2f} s"
    return trigger.replace("_", " ")


def _envelope(channel: np.ndarray, sample_rate: int) -> np.ndarray:
    """RMS per ENVELOPE_WINDOW, scaled 0..1 against the lane's loud level (gamma 0.7)."""
    win = max(1, round(ENVELOPE_WINDOW * sample_rate))
    n = len(channel)
    if n == 0:
        return np.zeros(0)
    padded = np.zeros(math.ceil(n / win) * win, dtype=np.float64)
    padded[:n] = channel.astype(np.float64)
    rms = np.sqrt((padded.reshape(-1, win) ** 2).mean(axis=1))
    voiced = rms[rms > 1.0]
    if not len(voiced):
        return np.zeros(len(rms))
    loud = float(np.percentile(voiced, 98))
    return np.clip(rms / loud, 0.0, 1.0) ** 0.7


# -- the timeline picture ------------------------------------------------------------------

def _row_seconds(duration: float) -> float:
    """Seconds per timeline row: 30 s, or more for long runs (at most MAX_ROWS rows); a
    short last row is folded into the others (rows a little longer, in steps of 5 s)."""
    if duration <= 30:
        return float(next(s for s in NICE_ROWS if s >= max(duration, 1e-9)))
    row = float(next((s for s in NICE_ROWS if s >= 30 and duration / s <= MAX_ROWS),
                     NICE_ROWS[-1]))
    rows = math.ceil(duration / row - 1e-9)
    if rows > 1 and duration - (rows - 1) * row < 0.25 * row:
        row = 5.0 * math.ceil(duration / (rows - 1) / 5.0 - 1e-9)
    return row


def _tick_step(px_per_s: float) -> tuple[float, float]:
    """(minor, labelled) tick spacing in seconds."""
    for minor, major in ((0.5, 1), (1, 2), (1, 5), (5, 10), (10, 30), (30, 60), (60, 300)):
        if major * px_per_s >= 70:
            return float(minor), float(major)
    return 300.0, 600.0


def _timeline_svg(result: ScenarioResult, messages: list[_Message], marks: list[_Mark]) -> str:
    rec = result.recording
    duration = max(rec.duration, 1e-3)
    row_s = _row_seconds(duration)
    rows = max(1, math.ceil(duration / row_s - 1e-9))
    pps = PLOT / row_s
    height = rows * ROW_H - ROW_GAP + 4
    envs = [_envelope(rec.stereo[:, c], rec.sample_rate) if len(rec.stereo) else np.zeros(0)
            for c in (0, 1)]
    stops = {round(m.onset, 6): m for m in result.metrics.interruptions}
    parts = [
        f'<svg id="timeline" class="timeline" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" data-row-seconds="{row_s:g}" data-rows="{rows}" '
        f'data-plot-x="{GUTTER}" data-plot-w="{PLOT}" data-row-h="{ROW_H}" '
        f'data-duration="{duration:.4f}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>Timeline of {_e(result.name)}: user lane above, agent lane below</title>",
    ]
    for row in range(rows):
        t0 = row * row_s
        t1 = min(duration, t0 + row_s)
        y = row * ROW_H
        parts.append(f'<g class="row" data-t0="{t0:g}" transform="translate(0,{y})">')
        parts.append(_row(result, messages, marks, stops, envs, t0, t1, pps))
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)


def _x(t: float, t0: float, pps: float) -> float:
    return GUTTER + (t - t0) * pps


def _row(result: ScenarioResult, messages: list[_Message], marks: list[_Mark],
         stops: dict, envs: list[np.ndarray], t0: float, t1: float, pps: float) -> str:
    user_y = MARK_H + 2 * LABEL_H
    agent_y = user_y + LANE_H
    axis_y = agent_y + LANE_H + 2 * LABEL_H
    x_end = _x(t1, t0, pps)
    p: list[str] = []
    # lane backgrounds and names
    for y, name, color in ((user_y, "User", USER_COLOR), (agent_y, "Agent", AGENT_COLOR)):
        p.append(f'<rect class="lane" x="{GUTTER}" y="{y}" width="{x_end - GUTTER:.1f}" '
                 f'height="{LANE_H}"/>')
        p.append(f'<text class="lane-name" x="{GUTTER - 8}" y="{y + LANE_H / 2 + 4:.1f}" '
                 f'text-anchor="end" fill="{color}">{name}</text>')
    # grid and axis
    minor, major = _tick_step(pps)
    p.append(f'<line class="axis" x1="{GUTTER}" y1="{axis_y}" x2="{x_end:.1f}" '
             f'y2="{axis_y}"/>')
    k = math.ceil(t0 / minor - 1e-9)
    while k * minor <= t1 + 1e-9:
        t = k * minor
        x = _x(t, t0, pps)
        labelled = abs(t / major - round(t / major)) < 1e-6
        if labelled:
            p.append(f'<line class="grid" x1="{x:.1f}" y1="{user_y}" x2="{x:.1f}" '
                     f'y2="{agent_y + LANE_H}"/>')
            p.append(f'<line class="axis" x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" '
                     f'y2="{axis_y + 6}"/>')
            p.append(f'<text class="tick" x="{x:.1f}" y="{axis_y + 17}" '
                     f'text-anchor="middle">{t:g} s</text>')
        else:
            p.append(f'<line class="axis" x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" '
                     f'y2="{axis_y + 3}"/>')
        k += 1

    def visible(a: float, b: float) -> tuple[float, float] | None:
        a, b = max(a, t0), min(b, t1)
        return (a, b) if b > a or (a == b and t0 <= a <= t1) else None

    # speech spans behind the envelopes
    for u in result.utterances:
        v = visible(u.onset, u.end)
        if v is None:
            continue
        cls = "span-backchannel" if u.backchannel else "span-barge" if u.barge_in \
            else "span-user"
        p.append(_span_rect(v, t0, pps, user_y, cls,
                            f"user {u.onset:.2f}–{u.end:.2f} s: {u.text}"))
    for m in messages:
        v = visible(m.start, m.end)
        if v is None or m.end <= m.start:
            continue
        cls = "span-cut" if m.interrupted else "span-agent"
        p.append(_span_rect(v, t0, pps, agent_y, cls,
                            f"agent {m.start:.2f}–{m.end:.2f} s"
                            f"{' (cut off)' if m.interrupted else ''}: {m.text}"))
    # envelopes
    for env, y, color in ((envs[0], user_y, USER_COLOR), (envs[1], agent_y, AGENT_COLOR)):
        p.append(_envelope_path(env, t0, t1, pps, y + LANE_H / 2, LANE_H / 2 - 4, color))
    # cut-off marks at the end of interrupted agent turns
    for m in messages:
        if m.interrupted and m.end > m.start and t0 <= m.end <= t1:
            x = _x(m.end, t0, pps)
            p.append(f'<path class="cut" d="M{x:.1f},{agent_y + 3} v{LANE_H - 6}"/>')
            p.append(f'<text class="cut-label" x="{x + 3:.1f}" y="{agent_y + 12}">✂</text>')
    # stop latency brackets: user onset -> last audible agent sample
    for m in result.metrics.interruptions:
        if m.stopped_at is None or m.stop_latency is None:
            continue
        if m.onset > t1 or max(m.stopped_at, m.onset) < t0:
            continue  # the bracket crosses row breaks: draw each row's part
        xa = _x(max(m.onset, t0), t0, pps)
        xb = max(_x(min(m.stopped_at, t1), t0, pps), xa + 1)
        yb = agent_y + LANE_H - 6
        left = "v4" if m.onset >= t0 else ""
        right = "v-4" if m.stopped_at <= t1 else ""
        p.append(f'<path class="latency" d="M{xa:.1f},{yb - (4 if left else 0)} {left} '
                 f'H{xb:.1f} {right}"><title>stop latency {m.stop_latency:.3f} s</title>'
                 "</path>")
        if m.stopped_at <= t1 or t1 >= result.duration - 1e-9:
            label = f"stop {m.stop_latency:.2f} s"
            fits = xb + 4 + len(label) * CHAR_W <= GUTTER + PLOT
            p.append(f'<text class="latency-label" x="{xb + 4 if fits else xb - 4:.1f}" '
                     f'y="{yb + (2 if fits else -6)}" text-anchor="{"start" if fits else "end"}"'
                     f">{label}</text>")
    # labels: user utterances above the user lane, agent messages below the agent lane
    user_labels = []
    for u in result.utterances:
        if t0 <= u.onset < t1:
            tag = "↯ " if u.barge_in and not u.backchannel else ""
            cls = "lbl-barge" if u.barge_in and not u.backchannel else "lbl-user"
            user_labels.append((u.onset, tag + u.text, cls, f"{u.onset:.2f} s: {u.text}"))
    p += _labels(user_labels, t0, pps, y=user_y - 4, step=-LABEL_H)
    agent_labels = []
    for m in messages:
        continued = m.start < t0 < m.end  # spoken across the row break: label it again
        if (t0 <= m.start < t1 or continued) and m.text:
            text = ("✂ " + m.text + " …") if m.interrupted else m.text
            text = "↪ " + text if continued else text
            cls = "lbl-cut" if m.interrupted else "lbl-agent"
            agent_labels.append((max(m.start, t0), text, cls,
                                 f"{m.start:.2f} s{' (cut off)' if m.interrupted else ''}: "
                                 f"{m.text}"))
    p += _labels(agent_labels, t0, pps, y=agent_y + LANE_H + 12, step=LABEL_H)
    # interruption marks over both lanes
    for mark in marks:
        if not t0 <= mark.time <= t1:
            continue
        x = _x(mark.time, t0, pps)
        cls = {"interrupt": "mark", "false": "mark-false", "error": "mark-error"}[mark.kind]
        label = "⚡ " + mark.label if mark.kind == "interrupt" else mark.label
        anchor = "end" if x + len(label) * CHAR_W > GUTTER + PLOT else "start"
        tx = x - 3 if anchor == "end" else x + 3
        p.append(f'<g class="{cls}"><title>{_e(mark.title)}</title>'
                 f'<line x1="{x:.1f}" y1="{MARK_H - 4}" x2="{x:.1f}" '
                 f'y2="{agent_y + LANE_H}"/>'
                 f'<text x="{tx:.1f}" y="{MARK_H - 6}" text-anchor="{anchor}">'
                 f"{_e(label)}</text></g>")
    # playhead (moved by the script) and a click target
    p.append(f'<line class="playhead" x1="-10" y1="{user_y - 2}" x2="-10" '
             f'y2="{agent_y + LANE_H + 2}"/>')
    return "\n".join(p)


def _span_rect(v: tuple[float, float], t0: float, pps: float, y: float, cls: str,
               title: str) -> str:
    xa, xb = _x(v[0], t0, pps), _x(v[1], t0, pps)
    return (f'<rect class="{cls}" x="{xa:.1f}" y="{y + 2}" width="{max(xb - xa, 1):.1f}" '
            f'height="{LANE_H - 4}" rx="3"><title>{_e(title)}</title></rect>')


def _envelope_path(env: np.ndarray, t0: float, t1: float, pps: float, mid: float,
                   half: float, color: str) -> str:
    i0 = round(t0 / ENVELOPE_WINDOW)
    i1 = min(len(env), math.ceil(t1 / ENVELOPE_WINDOW - 1e-9))
    d = []
    i = i0
    while i < i1:
        if env[i] < 0.01:
            i += 1
            continue
        j = i
        while j < i1 and env[j] >= 0.01:
            j += 1
        xs = [_x((k + 0.5) * ENVELOPE_WINDOW, t0, pps) for k in range(i, j)]
        top = [f"{x:.1f},{mid - max(env[k] * half, 0.6):.1f}" for x, k in zip(xs, range(i, j),
                                                                              strict=True)]
        bottom = [f"{x:.1f},{mid + max(env[k] * half, 0.6):.1f}"
                  for x, k in zip(reversed(xs), range(j - 1, i - 1, -1), strict=True)]
        xa = _x(i * ENVELOPE_WINDOW, t0, pps)
        xb = _x(j * ENVELOPE_WINDOW, t0, pps)
        d.append(f"M{xa:.1f},{mid:.1f} L" + " ".join(top) + f" {xb:.1f},{mid:.1f} "
                 + " ".join(bottom) + " Z")
        i = j
    x_end = _x(t1, t0, pps)
    base = (f'<line class="baseline" x1="{GUTTER}" y1="{mid:.1f}" x2="{x_end:.1f}" '
            f'y2="{mid:.1f}"/>')
    if not d:
        return base
    return base + f'<path class="env" fill="{color}" d="{" ".join(d)}"/>'


def _labels(items: list[tuple[float, str, str, str]], t0: float, pps: float, *,
            y: float, step: float) -> list[str]:
    """Place labels at their start times on two alternating levels (``y`` and
    ``y + step``), each clipped before the next label on its level."""
    items = sorted(items, key=lambda it: it[0])
    right = GUTTER + PLOT
    out = []
    for n, (t, text, cls, title) in enumerate(items):
        x = _x(t, t0, pps)
        limit = _x(items[n + 2][0], t0, pps) - 6 if n + 2 < len(items) else right
        chars = int((min(limit, right) - x - 2) / CHAR_W)
        if chars < 3:
            continue
        level_y = y + (n % 2) * step
        out.append(f'<text class="{cls}" x="{x + 1:.1f}" y="{level_y:.1f}"><title>'
                   f"{_e(title)}</title>{_e(_clip(text, chars))}</text>")
    return out


def _legend() -> str:
    items = [
        ("sw-user", "user speech"), ("sw-barge", "user barge-in"),
        ("sw-agent", "agent speech"), ("sw-cut", "agent cut off (✂)"),
        ("sw-mark", "interrupt fired (⚡ trigger · mode)"),
        ("sw-latency", "stop latency: onset → last agent sample"),
    ]
    return ('<div class="legend">' + "".join(
        f'<span><i class="{c}"></i>{_e(t)}</span>' for c, t in items) + "</div>")


def _player(result: ScenarioResult) -> str:
    return ('<div class="player"><audio id="player" controls preload="metadata" '
            'src="conversation.wav">Your browser cannot play WAV audio: '
            '<a href="conversation.wav">download conversation.wav</a>.</audio>'
            '<span class="muted">Stereo recording: user on the left channel, agent on the '
            'right. Click the timeline to seek.</span></div>')


# -- tables and text -------------------------------------------------------------------------

def _header(result: ScenarioResult) -> str:
    caps = result.capabilities or {}
    chips = []
    for key in sorted(caps):
        value = caps[key]
        if isinstance(value, bool):
            chips.append(f'<span class="chip {"on" if value else "off"}">'
                         f'{"✓" if value else "✗"} {_e(key)}</span>')
        else:
            chips.append(f'<span class="chip">{_e(key)}: {_e(_plain(value))}</span>')
    desc = f'<p class="desc">{_e(result.description)}</p>' if result.description else ""
    error = (f'<p class="error"><b>Error:</b> {_e(result.error)}</p>' if result.error else "")
    facts = [
        ("Adapter", _e(result.adapter)),
        ("Mode", "live (real time)" if result.live else "simulated (virtual time)"),
        ("Seed", _e(str(result.seed))),
        ("Duration", f"{result.duration:.2f} s"),
        ("Sample rate", f"{result.recording.sample_rate} Hz"),
    ]
    return (
        f"<header><h1>{_e(result.name)} {_badge(result.success)}</h1>{desc}"
        f'<p class="reason {"r-pass" if result.success else "r-fail"}">{_e(result.reasoning)}</p>'
        f"{error}"
        '<dl class="facts">' + "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>"
                                       for k, v in facts) + "</dl>"
        + (f'<div class="caps"><span class="muted">Capabilities</span> {"".join(chips)}</div>'
           if chips else "")
        + "</header>"
    )


def _metrics_tables(m: Metrics) -> str:
    s = m.summary()
    rows = [
        ("Stop latency p50", _secs(s["stop_latency_p50"]),
         "onset of the user's interrupting speech → last audible agent sample"),
        ("Stop latency max", _secs(s["stop_latency_max"]), "worst barge-in of the run"),
        ("Yield rate", _pct(s["yield_rate"]),
         f"share of barge-ins after which the agent stopped within {YIELD_WINDOW:g} s "
         "and did not talk over the caller again"),
        ("Talked over after yielding", _secs(s["talked_over"]),
         "agent audio while a barging caller still spoke, after the agent's first stop"),
        ("Barge-in overlap p50", _secs(s["barge_in_overlap_p50"]),
         "seconds both spoke at once, from the caller's onset to the caller's end"),
        ("Response gap p50", _secs(s["response_gap_p50"]),
         "end of the caller's barge-in → the agent's next audio (negative: over the caller)"),
        ("Protected barge-ins", str(s["protected_barge_ins"] or 0),
         f"barge-ins over uninterruptible speech, kept out of the figures above "
         f"({s['protected_interrupted'] or 0} interrupted)"),
        ("False interruption rate", _pct(s["false_interruption_rate"]),
         f"share of backchannels ({m.backchannels} over agent speech) after which the agent "
         "stopped or paused"),
        ("Response latency p50", _secs(s["response_latency_p50"]),
         f"end of user speech → first audible agent sample ({len(m.response_latency)} turns)"),
        ("Overlap", _secs(s["overlap"]), "seconds in which both parties were audible"),
        ("Truncation accuracy", _pct(s["truncation_accuracy"]),
         "1 − WER between the words heard and the text the agent recorded as said"),
    ]
    summary = ('<table class="grid metrics"><thead><tr><th>Metric</th>'
               '<th class="num">Value</th><th>Definition</th></tr></thead><tbody>'
               + "".join(f'<tr><td>{_e(a)}</td><td class="num big">{b}</td>'
                         f'<td class="muted">{_e(c)}</td></tr>' for a, b, c in rows)
               + "</tbody></table>")
    if not m.interruptions:
        per = '<p class="muted">No barge-ins in this run.</p>'
    else:
        body = []
        for n, i in enumerate(m.interruptions, 1):
            body.append(
                f"<tr><td>{n}</td><td>{i.utterance}</td>"
                f'<td class="num">{i.onset:.3f} s</td>'
                f"<td>{_e((i.trigger or '—').replace('_', ' '))}</td>"
                f"<td>{_e(i.mode or '—')}</td>"
                f"<td>{'yes' if i.agent_was_speaking else 'no'}</td>"
                f'<td class="num">{_secs(i.stopped_at)}</td>'
                f'<td class="num big">{_secs(i.stop_latency)}</td>'
                f"<td>{_yielded(i)}</td></tr>")
        per = ('<h3>Per interruption</h3><table class="grid"><thead><tr><th>#</th>'
               '<th>Utterance</th><th class="num">User onset</th><th>Trigger</th>'
               '<th>Mode</th><th>Agent speaking</th><th class="num">Agent stopped at</th>'
               '<th class="num">Stop latency</th><th>Yielded</th></tr></thead><tbody>'
               + "".join(body) + "</tbody></table>")
    return summary + per


def _checks_table(result: ScenarioResult) -> str:
    if not result.checks:
        return '<p class="muted">This scenario has no checks or judge criteria.</p>'
    rows = "".join(
        f"<tr><td>{_badge(c.passed)}</td><td>{_e(c.description)}</td>"
        f'<td class="muted">{_e(c.detail)}</td></tr>' for c in result.checks)
    passed = sum(c.passed for c in result.checks)
    return (f'<p class="muted">{passed} of {len(result.checks)} passed.</p>'
            '<table class="grid"><thead><tr><th>Verdict</th><th>Check / criterion</th>'
            f"<th>Why</th></tr></thead><tbody>{rows}</tbody></table>")


def _transcript(result: ScenarioResult, messages: list[_Message]) -> str:
    entries: list[tuple[float, int, str]] = []
    for u in result.utterances:
        tags = []
        if u.backchannel:
            tags.append('<span class="tag bc">backchannel</span>')
        elif u.barge_in:
            detail = " · ".join(x for x in (u.trigger, u.mode) if x)
            tags.append(f'<span class="tag barge">barge-in{": " + _e(detail) if detail else ""}'
                        "</span>")
        entries.append((u.onset, 0,
                        f'<li class="user"><span class="when">{u.onset:.2f} s</span>'
                        f'<span class="who">User</span><span class="what">{_e(u.text)} '
                        f"{''.join(tags)}</span></li>"))
    for m in messages:
        cut = (f'<span class="tag cut">✂ cut off at {m.end:.2f} s</span>'
               if m.interrupted else "")
        text = _e(m.text) + (" …" if m.interrupted else "")
        entries.append((m.start, 1,
                        f'<li class="agent{" cut" if m.interrupted else ""}">'
                        f'<span class="when">{m.start:.2f} s</span>'
                        f'<span class="who">Agent</span><span class="what">{text} {cut}'
                        "</span></li>"))
    if not entries:
        return '<p class="muted">Nothing was said.</p>'
    entries.sort(key=lambda e: (e[0], e[1]))
    return ('<p class="muted">Agent messages hold the words the user heard; a cut-off '
            'message ends where the agent stopped.</p><ol class="transcript">'
            + "".join(e[2] for e in entries) + "</ol>")


def _files(result: ScenarioResult) -> str:
    links = [("result.json", "results, metrics and the full event timeline"),
             ("conversation.wav", "stereo: left user, right agent"),
             ("conversation-mono.wav", "both parties mixed")]
    segs = [s for s in result.recording.segments if s.end > s.start]
    items = "".join(f'<li><a href="{f}">{f}</a> <span class="muted">{_e(d)}</span></li>'
                    for f, d in links)
    if segs:
        items += ("<li>segments/: " + ", ".join(
            f'<a href="segments/{_e(s.name)}.wav">{_e(s.name)}</a>' for s in segs) + "</li>")
    return f'<ul class="files">{items}</ul>'


# -- small helpers ----------------------------------------------------------------------------

def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _clip(text: str, chars: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= chars else text[: max(1, chars - 1)].rstrip() + "…"


def _plain(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _badge(ok: bool) -> str:
    return f'<span class="badge {"pass" if ok else "fail"}">{"PASS" if ok else "FAIL"}</span>'


def _yielded(i: InterruptionMeasure) -> str:
    if not i.agent_was_speaking:
        return "—"
    if i.protected:  # uninterruptible speech is not meant to yield: not a failure
        return "protected, " + ("not interrupted" if i.not_interrupted is not False
                                else _yesno(False) + " interrupted")
    return _yesno(i.yielded)


def _yesno(ok: bool) -> str:
    return '<span class="ok">yes</span>' if ok else '<span class="bad">no</span>'


def _secs(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f} s"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _section(title: str, content: str) -> str:
    return f"<section><h2>{_e(title)}</h2>{content}</section>"


def _page(title: str, body: str, script: str = "") -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body><main>\n{body}\n"
            '<footer>Generated by bargein. Times are seconds on the recording.</footer>'
            f"</main>{f'<script>{script}</script>' if script else ''}</body></html>\n")


_CSS = """
:root{--fg:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#f8fafc;--card:#fff;
--user:#0f766e;--agent:#4338ca;--red:#dc2626;--green:#15803d;--amber:#d97706}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
main{max-width:1220px;margin:0 auto;padding:20px 24px 40px}
header,section{background:var(--card);border:1px solid var(--line);border-radius:10px;
padding:16px 20px;margin-bottom:16px}
h1{font-size:22px;margin:0 0 6px;display:flex;align-items:center;gap:12px}
h2{font-size:16px;margin:0 0 10px}
h3{font-size:14px;margin:16px 0 6px}
.desc{margin:0 0 6px;color:var(--muted)}
.reason{margin:0 0 10px;padding:6px 10px;border-left:4px solid var(--line);
background:#f9fafb;border-radius:0 6px 6px 0;font-weight:400}
.reason.r-pass{border-color:var(--green)}.reason.r-fail{border-color:var(--red);background:#fef2f2}
.error{background:#fef2f2;border:1px solid #fecaca;border-radius:6px;padding:6px 10px}
.badge{font-size:12px;font-weight:700;letter-spacing:.04em;border-radius:999px;
padding:2px 10px;color:#fff;white-space:nowrap}
.badge.pass{background:var(--green)}.badge.fail{background:var(--red)}
.facts{display:flex;flex-wrap:wrap;gap:8px 28px;margin:0 0 8px}
.facts div{display:flex;gap:6px}.facts dt{color:var(--muted)}.facts dd{margin:0;font-weight:600}
.caps{display:flex;flex-wrap:wrap;gap:6px;align-items:center}
.chip{font-size:12px;border:1px solid var(--line);border-radius:6px;padding:1px 7px}
.chip.on{background:#ecfdf5;border-color:#a7f3d0;color:#065f46}
.chip.off{color:var(--muted)}
.muted{color:var(--muted)}
.timeline{display:block;cursor:pointer;font-family:inherit}
.timeline text{font-size:11px}
.lane{fill:#f9fafb;stroke:#eef0f3}
.lane-name{font-size:12px!important;font-weight:700}
.baseline{stroke:#d1d5db;stroke-width:.6}
.axis{stroke:#9ca3af;stroke-width:1}
.grid{stroke:#e5e7eb;stroke-width:1}
.tick{fill:#4b5563}
.env{opacity:.9}
.span-user{fill:#ccfbf1;opacity:.55}.span-barge{fill:#fed7aa;opacity:.75}
.span-backchannel{fill:#e5e7eb;opacity:.8}
.span-agent{fill:#e0e7ff;opacity:.6}
.span-cut{fill:#fee2e2;stroke:var(--red);stroke-dasharray:4 3;stroke-width:1}
.cut{stroke:var(--red);stroke-width:2.5}
.cut-label{fill:var(--red);font-size:12px!important}
.mark line{stroke:var(--red);stroke-width:1.6;stroke-dasharray:5 3}
.mark text{fill:var(--red);font-weight:700}
.mark-false line{stroke:var(--amber);stroke-width:1.5;stroke-dasharray:2 3}
.mark-false text{fill:var(--amber);font-weight:700}
.mark-error line{stroke:#111;stroke-width:1.5}.mark-error text{fill:#111;font-weight:700}
.latency{fill:none;stroke:#b91c1c;stroke-width:1.4}
.latency-label{fill:#b91c1c;font-size:10px!important;font-weight:600}
.lbl-user{fill:var(--user)}.lbl-barge{fill:#c2410c;font-weight:600}
.lbl-agent{fill:var(--agent)}.lbl-cut{fill:var(--red);font-weight:600}
.playhead{stroke:#111827;stroke-width:1.5;pointer-events:none}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;font-size:12px;color:#374151;margin:8px 0 4px}
.legend i{display:inline-block;width:14px;height:10px;border-radius:2px;margin-right:5px;
vertical-align:-1px}
.sw-user{background:var(--user)}.sw-barge{background:#fdba74}.sw-agent{background:var(--agent)}
.sw-cut{background:#fee2e2;border:1px dashed var(--red)}
.sw-mark{background:none;border-left:2px dashed var(--red);width:6px!important}
.sw-latency{background:none;border:1.5px solid #b91c1c;border-top:none;height:6px!important}
.player{display:flex;align-items:center;gap:14px;flex-wrap:wrap;margin-top:10px}
.player audio{width:460px;max-width:100%}
table.grid{border-collapse:collapse;width:100%}
.grid th,.grid td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;
vertical-align:top}
.grid th{font-size:12px;color:var(--muted);font-weight:600;background:#f9fafb}
.grid .num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.grid .big{font-weight:700}
.metrics td:first-child{white-space:nowrap;font-weight:600}
.grid tfoot td{font-weight:700;border-top:2px solid var(--line)}
.why{color:var(--muted);font-size:12px;min-width:150px}
.grid td.name{min-width:260px}
.grid td .muted{font-size:12px}.nowrap{white-space:nowrap}
.ok{color:var(--green);font-weight:600}.bad{color:var(--red);font-weight:600}
ol.transcript{list-style:none;margin:0;padding:0}
.transcript li{display:grid;grid-template-columns:70px 56px 1fr;gap:8px;padding:5px 0;
border-bottom:1px solid #f1f5f9}
.transcript .when{color:var(--muted);text-align:right;font-variant-numeric:tabular-nums}
.transcript .who{font-weight:700}
.transcript .user .who{color:var(--user)}.transcript .agent .who{color:var(--agent)}
.transcript li.cut .what{color:#7f1d1d}
.tag{font-size:11px;font-weight:700;border-radius:4px;padding:0 6px;margin-left:6px;
white-space:nowrap}
.tag.barge{background:#ffedd5;color:#9a3412}.tag.cut{background:#fee2e2;color:#991b1b}
.tag.bc{background:#f3f4f6;color:#374151}
.files{margin:0;padding-left:18px}
a{color:#1d4ed8}
footer{color:var(--muted);font-size:12px;text-align:center}
"""

# Moves a playhead line over the timeline while the recording plays; a click seeks.
_PLAYHEAD_JS = """
(function(){
var svg=document.getElementById('timeline'),audio=document.getElementById('player');
if(!svg||!audio)return;
var rs=+svg.dataset.rowSeconds,px=+svg.dataset.plotX,pw=+svg.dataset.plotW,
rh=+svg.dataset.rowH,rows=svg.querySelectorAll('g.row');
function draw(){var t=audio.currentTime,r=Math.min(rows.length-1,Math.floor(t/rs));
rows.forEach(function(g,i){var l=g.querySelector('.playhead'),
x=i===r?px+(t-i*rs)/rs*pw:-10;l.setAttribute('x1',x);l.setAttribute('x2',x);});
if(!audio.paused)requestAnimationFrame(draw);}
audio.addEventListener('play',draw);audio.addEventListener('timeupdate',draw);
audio.addEventListener('seeked',draw);
svg.addEventListener('click',function(e){var p=svg.createSVGPoint();p.x=e.clientX;
p.y=e.clientY;p=p.matrixTransform(svg.getScreenCTM().inverse());
var r=Math.floor(p.y/rh),t=r*rs+(p.x-px)/pw*rs;
if(r>=0&&r<rows.length&&t>=0){audio.currentTime=Math.min(t,+svg.dataset.duration);draw();}});
})();
"""
