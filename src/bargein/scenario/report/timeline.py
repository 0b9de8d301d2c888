"""The timeline picture's geometry: where every span, envelope, mark and label goes.

:func:`timeline_picture` turns a result into rows of plain shapes (SVG user units); the
template ``timeline.svg.j2`` draws them. Long conversations wrap onto several rows so the
picture reads like lines of text.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bargein.scenario.report.data import (
    AgentTurn,
    Mark,
    clip,
    interruption_is_protected,
    protected_spans,
)
from bargein.scenario.result import ScenarioResult

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
USER_Y = MARK_H + 2 * LABEL_H
AGENT_Y = USER_Y + LANE_H
AXIS_Y = AGENT_Y + LANE_H + 2 * LABEL_H
NICE_ROWS = (10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1800, 3600)
MAX_ROWS = 8
CHAR_W = 6.1  # average width of one character of 11 px label text

USER_COLOR = "#0f766e"
AGENT_COLOR = "#4338ca"
INTERRUPT_COLOR = "#dc2626"
FALSE_COLOR = "#d97706"
PROTECTED_COLOR = "#0369a1"

Scale = Callable[[float], float]  # seconds -> x in the row


@dataclass
class Rect:
    """A shaded span behind a lane's audio."""

    cls: str
    x: float
    y: float
    w: float
    h: float
    title: str


@dataclass
class Text:
    """A label (clipped to fit) with its full text as a tooltip."""

    cls: str
    x: float
    y: float
    text: str
    title: str = ""
    anchor: str = "start"


@dataclass
class Tick:
    """A time-axis tick; ``label`` only on the labelled ones."""

    x: float
    label: str | None


@dataclass
class Envelope:
    """One lane's loudness as a filled path around its midline."""

    color: str
    mid: float
    path: str  # empty when the lane is silent in this row


@dataclass
class MarkLine:
    """A vertical mark across both lanes, labelled above the user lane."""

    cls: str
    x: float
    label: Text
    title: str


@dataclass
class Bracket:
    """A stop-latency bracket under the agent lane."""

    path: str
    title: str
    label: Text | None


@dataclass
class Row:
    """One row of the picture: ``t0``..``t1`` seconds of the conversation."""

    t0: float
    y: float
    x_end: float
    ticks: list[Tick] = field(default_factory=list)
    spans: list[Rect] = field(default_factory=list)
    envelopes: list[Envelope] = field(default_factory=list)
    cuts: list[float] = field(default_factory=list)
    brackets: list[Bracket] = field(default_factory=list)
    labels: list[Text] = field(default_factory=list)
    marks: list[MarkLine] = field(default_factory=list)


@dataclass
class Picture:
    """The whole timeline: its rows and what the playhead script needs."""

    name: str
    height: float
    row_seconds: float
    duration: float
    rows: list[Row]
    width: int = WIDTH
    gutter: int = GUTTER
    plot: int = PLOT
    row_h: int = ROW_H
    lane_h: int = LANE_H
    user_y: int = USER_Y
    agent_y: int = AGENT_Y
    axis_y: int = AXIS_Y
    mark_h: int = MARK_H
    user_color: str = USER_COLOR
    agent_color: str = AGENT_COLOR


def timeline_picture(result: ScenarioResult, turns: list[AgentTurn],
                     marks: list[Mark]) -> Picture:
    """The rows of the timeline picture of ``result``."""
    rec = result.recording
    duration = max(rec.duration, 1e-3)
    row_s = row_seconds(duration)
    rows = max(1, math.ceil(duration / row_s - 1e-9))
    envs = [envelope(rec.stereo[:, c], rec.sample_rate) if len(rec.stereo) else np.zeros(0)
            for c in (0, 1)]
    picture = Picture(result.name, rows * ROW_H - ROW_GAP + 4, row_s, duration, [])
    for r in range(rows):
        t0 = r * row_s
        picture.rows.append(_row(result, turns, marks, envs, t0, min(duration, t0 + row_s),
                                 PLOT / row_s, r * ROW_H))
    return picture


def row_seconds(duration: float) -> float:
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


def tick_step(px_per_s: float) -> tuple[float, float]:
    """(minor, labelled) tick spacing in seconds."""
    for minor, major in ((0.5, 1), (1, 2), (1, 5), (5, 10), (10, 30), (30, 60), (60, 300)):
        if major * px_per_s >= 70:
            return float(minor), float(major)
    return 300.0, 600.0


def envelope(channel: np.ndarray, sample_rate: int) -> np.ndarray:
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


# -- one row ---------------------------------------------------------------------------------

def _row(result: ScenarioResult, turns: list[AgentTurn], marks: list[Mark],
         envs: list[np.ndarray], t0: float, t1: float, pps: float, y: float) -> Row:
    def x(t: float) -> float:
        return GUTTER + (t - t0) * pps

    def visible(a: float, b: float) -> tuple[float, float] | None:
        a, b = max(a, t0), min(b, t1)
        return (a, b) if b > a or (a == b and t0 <= a <= t1) else None

    row = Row(t0, y, x(t1))
    minor, major = tick_step(pps)
    k = math.ceil(t0 / minor - 1e-9)
    while k * minor <= t1 + 1e-9:
        t = k * minor
        labelled = abs(t / major - round(t / major)) < 1e-6
        row.ticks.append(Tick(x(t), f"{t:g} s" if labelled else None))
        k += 1

    def span(v: tuple[float, float], lane_y: float, cls: str, title: str) -> Rect:
        return Rect(cls, x(v[0]), lane_y + 2, max(x(v[1]) - x(v[0]), 1), LANE_H - 4, title)

    for u in result.utterances:
        v = visible(u.onset, u.end)
        if v is not None:
            cls = "span-backchannel" if u.backchannel else "span-barge" if u.barge_in \
                else "span-user"
            row.spans.append(span(v, USER_Y, cls, f"user {u.onset:.2f}–{u.end:.2f} s: {u.text}"))
    for m in turns:
        v = visible(m.start, m.end)
        if v is None or m.end <= m.start:
            continue
        cls = "span-protected" if m.protected else "span-cut" if m.interrupted \
            else "span-agent"
        note = " (protected)" if m.protected else " (cut off)" if m.interrupted else ""
        row.spans.append(span(v, AGENT_Y, cls,
                              f"agent {m.start:.2f}–{m.end:.2f} s{note}: {m.text}"))
    for env, lane_y, color in ((envs[0], USER_Y, USER_COLOR), (envs[1], AGENT_Y, AGENT_COLOR)):
        mid = lane_y + LANE_H / 2
        row.envelopes.append(Envelope(color, mid, _envelope_path(env, t0, t1, x, mid,
                                                                 LANE_H / 2 - 4)))
    row.cuts = [x(m.end) for m in turns
                if m.interrupted and m.end > m.start and t0 <= m.end <= t1]
    row.brackets = _brackets(result, t0, t1, x)
    row.labels = _labels(result, turns, t0, t1, x)
    for mark in marks:
        if t0 <= mark.time <= t1:
            mx = x(mark.time)
            label = "⚡ " + mark.label if mark.kind == "interrupt" else mark.label
            end = mx + len(label) * CHAR_W > GUTTER + PLOT
            cls = {"interrupt": "mark", "false": "mark-false", "error": "mark-error"}[mark.kind]
            row.marks.append(MarkLine(cls, mx, Text("", mx - 3 if end else mx + 3, MARK_H - 6,
                                                    label, anchor="end" if end else "start"),
                                      mark.title))
    return row


def _brackets(result: ScenarioResult, t0: float, t1: float, x: Scale) -> list[Bracket]:
    """Stop latency: user onset -> last audible agent sample; none over protected speech
    (it plays on by design, its "latency" is not a stop)."""
    out = []
    spans = protected_spans(result)
    yb = AGENT_Y + LANE_H - 6
    for m in result.metrics.interruptions:
        if m.stopped_at is None or m.stop_latency is None or interruption_is_protected(m, spans):
            continue
        if m.onset > t1 or max(m.stopped_at, m.onset) < t0:
            continue  # a bracket across row breaks is drawn in parts, one per row
        xa = x(max(m.onset, t0))
        xb = max(x(min(m.stopped_at, t1)), xa + 1)
        left = "v4" if m.onset >= t0 else ""
        right = "v-4" if m.stopped_at <= t1 else ""
        path = f"M{xa:.1f},{yb - (4 if left else 0)} {left} H{xb:.1f} {right}"
        label = None
        if m.stopped_at <= t1 or t1 >= result.duration - 1e-9:
            text = f"stop {m.stop_latency:.2f} s"
            fits = xb + 4 + len(text) * CHAR_W <= GUTTER + PLOT
            label = Text("latency-label", xb + 4 if fits else xb - 4, yb + (2 if fits else -6),
                         text, anchor="start" if fits else "end")
        out.append(Bracket(path, f"stop latency {m.stop_latency:.3f} s", label))
    return out


def _labels(result: ScenarioResult, turns: list[AgentTurn], t0: float, t1: float,
            x: Scale) -> list[Text]:
    """User utterances above the user lane, agent messages below the agent lane."""
    users = []
    for u in result.utterances:
        if t0 <= u.onset < t1:
            barge = u.barge_in and not u.backchannel
            users.append((u.onset, ("↯ " if barge else "") + u.text,
                          "lbl-barge" if barge else "lbl-user", f"{u.onset:.2f} s: {u.text}"))
    agents = []
    for m in turns:
        continued = m.start < t0 < m.end  # spoken across the row break: labelled again
        if (t0 <= m.start < t1 or continued) and m.text:
            text = ("✂ " + m.text + " …") if m.interrupted else m.text
            text = ("protected · " + text) if m.protected else text
            text = "↪ " + text if continued else text
            cls = "lbl-protected" if m.protected else "lbl-cut" if m.interrupted \
                else "lbl-agent"
            note = " (protected)" if m.protected else " (cut off)" if m.interrupted else ""
            agents.append((max(m.start, t0), text, cls, f"{m.start:.2f} s{note}: {m.text}"))
    return (_placed(users, x, y=USER_Y - 4, step=-LABEL_H)
            + _placed(agents, x, y=AGENT_Y + LANE_H + 12, step=LABEL_H))


def _placed(items: list[tuple[float, str, str, str]], x: Scale, *, y: float,
            step: float) -> list[Text]:
    """Labels at their start times on two alternating levels (``y`` and ``y + step``),
    each clipped before the next label on its level."""
    items = sorted(items, key=lambda it: it[0])
    right = GUTTER + PLOT
    out = []
    for n, (t, text, cls, title) in enumerate(items):
        lx = x(t)
        limit = x(items[n + 2][0]) - 6 if n + 2 < len(items) else right
        chars = int((min(limit, right) - lx - 2) / CHAR_W)
        if chars >= 3:
            out.append(Text(cls, lx + 1, y + (n % 2) * step, clip(text, chars), title))
    return out


def _envelope_path(env: np.ndarray, t0: float, t1: float, x: Scale, mid: float,
                   half: float) -> str:
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
        xs = [x((k + 0.5) * ENVELOPE_WINDOW) for k in range(i, j)]
        top = [f"{px:.1f},{mid - max(env[k] * half, 0.6):.1f}"
               for px, k in zip(xs, range(i, j), strict=True)]
        bottom = [f"{px:.1f},{mid + max(env[k] * half, 0.6):.1f}"
                  for px, k in zip(reversed(xs), range(j - 1, i - 1, -1), strict=True)]
        d.append(f"M{x(i * ENVELOPE_WINDOW):.1f},{mid:.1f} L" + " ".join(top)
                 + f" {x(j * ENVELOPE_WINDOW):.1f},{mid:.1f} " + " ".join(bottom) + " Z")
        i = j
    return " ".join(d)
