"""The benchmark's outputs: a Markdown table, a speed line, and an SVG trade-off plot.

Everything here is a pure function of the suite's JSON (:meth:`SuiteResult.to_dict`), so the
table and the plot are identical for the same seed; only :func:`speed_line` reads wall time.
The SVG is written by hand (no plotting library needed).
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from bargein.bench.suite import TARGETS, meets

__all__ = ["best_setting", "markdown_table", "speed_line", "svg_plot", "targets_note"]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f}"


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def best_setting(data: dict[str, Any]) -> str | None:
    """The setting that meets the most targets (ties: lower false interruption rate, then
    lower stop latency p95, then the order of the sweep)."""
    summary = data["summary"]
    if not summary:
        return None

    def key(item: tuple[int, str]) -> tuple[float, ...]:
        index, name = item
        s = summary[name]
        met = sum(bool(v) for v in meets(s).values())
        fir = s["false_interruption_rate"] if s["false_interruption_rate"] is not None else 9
        p95 = s["stop_latency_p95"] if s["stop_latency_p95"] is not None else 99
        return (-met, fir, p95, index)

    return min(enumerate(summary), key=key)[1]


def markdown_table(data: dict[str, Any]) -> str:
    """One row per setting; a check mark per target met. Deterministic for a seed."""
    best = best_setting(data)
    head = ("| setting | takeover | stop p50 ms | stop p95 ms | talked over | overlap s "
            "| response gap s | false int. | backchannel | noise | pause takeover "
            "| cut-in P / R | reply s | targets met |")
    lines = [head, "|" + "|".join("---" for _ in range(head.count("|") - 1)) + "|"]
    for setting in data["settings"]:
        name = setting["name"]
        s = data["summary"][name]
        met = meets(s)
        missed = [t for t, ok in met.items() if ok is False]
        verdict = f"{sum(bool(v) for v in met.values())}/{len(met)}"
        if missed:
            verdict += " (misses " + ", ".join(missed) + ")"
        label = f"**{name}** (best)" if name == best else name
        lines.append(
            f"| {label} | {_flag(s['takeover_rate'], met['takeover >= 0.99'], pct=True)} "
            f"| {_ms(s['stop_latency_p50'])} "
            f"| {_flag_ms(s['stop_latency_p95'], met['stop p95 <= 300 ms'])} "
            f"| {_pct(s['talked_over_rate'])} "
            f"| {_s(s['barge_in_overlap_p50'])} "
            f"| {_s(s['response_gap_p50'])} "
            f"| {_flag(s['false_interruption_rate'], met['false int. <= 5%'], pct=True)} "
            f"| {_pct(s['false_interruption_backchannel'])} "
            f"| {_pct(s['false_interruption_noise'])} "
            f"| {_flag(s['pause_takeover_rate'], met['pause takeover <= 10%'], pct=True)} "
            f"| {_pct(s['cut_in_precision'])} / {_pct(s['cut_in_recall'])} "
            f"| {_s(s['response_latency_turn_p50'])} | {verdict} |")
    bounds = " · ".join(TARGETS)
    lines.append("")
    lines.append(f"Targets: {bounds}. A value in bold meets its target.")
    return "\n".join(lines)


def _flag(value: float | None, ok: bool | None, *, pct: bool) -> str:
    text = _pct(value) if pct else _s(value)
    if value is not None and pct and value not in (0.0, 1.0):
        text = f"{value * 100:.1f}%"
    return f"**{text}**" if ok else text


def _flag_ms(value: float | None, ok: bool | None) -> str:
    return f"**{_ms(value)}**" if ok else _ms(value)


def targets_note(data: dict[str, Any]) -> str:
    """One line: did the best setting meet every target, and which it missed."""
    best = best_setting(data)
    if best is None:
        return "No setting was run."
    met = meets(data["summary"][best])
    missed = [t for t, ok in met.items() if ok is not True]
    if not missed:
        return f"Best setting `{best}`: every target met."
    return f"Best setting `{best}`: targets missed: {', '.join(missed)}."


def speed_line(data: dict[str, Any], machine: str = "") -> str:
    """Simulation speed of the run (wall time: differs between runs)."""
    sp = data["speed"]
    where = f" on {machine}" if machine else ""
    ran_on = sp.get("ran_on", "1 process")
    per_worker = ""
    if ran_on != "1 process" and sp.get("speed_per_worker"):
        per_worker = f"; {sp['speed_per_worker']:.0f}x per worker"
    return (f"Speed: {sp['simulated_seconds']:.0f} s of calls simulated in "
            f"{sp['wall_seconds']:.1f} s of wall time{where}, {ran_on}: "
            f"{sp['speed']:.0f}x real time{per_worker} "
            f"({len(data['settings'])} settings x {data['count']} cases).")


# -- the plot ---------------------------------------------------------------------------------

W, H = 640, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 30, 40, 60


def svg_plot(data: dict[str, Any]) -> str:
    """Stop latency p95 (ms) against false interruption rate (%), one point per setting;
    the Pareto front joined by a line; the target region shaded."""
    points = []
    for setting in data["settings"]:
        s = data["summary"][setting["name"]]
        if s["stop_latency_p95"] is None or s["false_interruption_rate"] is None:
            continue
        points.append((setting["name"], s["false_interruption_rate"] * 100,
                       s["stop_latency_p95"] * 1000))
    x_max = max([100.0] + [p[1] for p in points])
    y_max = max([1000.0] + [p[2] for p in points])
    y_max = float(int(y_max / 200 + 1) * 200)
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(v: float) -> float:
        return LEFT + v / x_max * pw

    def y(v: float) -> float:
        return TOP + ph - v / y_max * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2:.0f}" y="22" text-anchor="middle" font-size="14">'
           'Interruption settings: stop latency vs false interruptions</text>']
    # target region: false interruptions <= 5 %, stop p95 <= 300 ms
    out.append(f'<rect x="{x(0):.1f}" y="{y(300):.1f}" width="{x(5) - x(0):.1f}" '
               f'height="{y(0) - y(300):.1f}" fill="#d8f0d8"/>')
    out.append(f'<text x="{x(5) + 4:.1f}" y="{y(300) + 14:.1f}" fill="#2a7a2a">target</text>')
    for i in range(0, 11):
        v = x_max * i / 10
        out.append(f'<line x1="{x(v):.1f}" y1="{y(0):.1f}" x2="{x(v):.1f}" y2="{y(0) + 5:.1f}" '
                   'stroke="black"/>')
        out.append(f'<text x="{x(v):.1f}" y="{y(0) + 18:.1f}" text-anchor="middle">'
                   f'{v:.0f}</text>')
    for i in range(0, int(y_max / 200) + 1):
        v = i * 200.0
        out.append(f'<line x1="{LEFT - 5}" y1="{y(v):.1f}" x2="{LEFT + pw}" y2="{y(v):.1f}" '
                   'stroke="#e6e6e6"/>')
        out.append(f'<text x="{LEFT - 8}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.0f}</text>')
    out.append(f'<line x1="{LEFT}" y1="{y(0):.1f}" x2="{LEFT + pw}" y2="{y(0):.1f}" '
               'stroke="black"/>')
    out.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{y(0):.1f}" stroke="black"/>')
    out.append(f'<text x="{LEFT + pw / 2:.0f}" y="{H - 15}" text-anchor="middle">'
               'false interruption rate on backchannels and noise (%)</text>')
    out.append(f'<text x="18" y="{TOP + ph / 2:.0f}" text-anchor="middle" '
               f'transform="rotate(-90 18 {TOP + ph / 2:.0f})">stop latency p95 (ms)</text>')
    front = _pareto([(p[1], p[2]) for p in points])
    if len(front) > 1:
        path = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in front)
        out.append(f'<polyline points="{path}" fill="none" stroke="#3b6fb6" '
                   'stroke-dasharray="5,4"/>')
    taken: list[tuple[float, float]] = []
    for name, fx, fy in points:
        px, py = x(fx), y(fy)
        out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="#3b6fb6"/>')
        ly = py - 8
        while any(abs(ly - ty) < 13 and abs(px - tx) < 110 for tx, ty in taken):
            ly += 13
        taken.append((px, ly))
        anchor = "end" if px > W - 160 else "start"
        dx = -7 if anchor == "end" else 7
        out.append(f'<text x="{px + dx:.1f}" y="{ly:.1f}" text-anchor="{anchor}">'
                   f'{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _pareto(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points no other point beats on both axes (lower is better), by x."""
    front = []
    for p in sorted(set(points)):
        if not front or p[1] < front[-1][1]:
            front.append(p)
    return front
