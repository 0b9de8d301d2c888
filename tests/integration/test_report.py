"""HTML reports of a real scenario run: the page's parts, determinism, escaping, the suite
summary, and a headless-browser screenshot showing that the timeline and metrics render.

The screenshot needs Debian's Chromium (`apt-get install -y chromium`). Without it the
browser test is skipped locally; when the environment variable CI is set it fails instead.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

from bargein import scenario
from bargein.scenario.report import render_report, write_report, write_suite_summary

pytestmark = pytest.mark.integration

USER_RGB = (15, 118, 110)  # report.USER_COLOR
AGENT_RGB = (67, 56, 202)  # report.AGENT_COLOR
RED_RGB = (220, 38, 38)  # report.INTERRUPT_COLOR
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--window-size=1280,1600",
)


def _adapter():
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from test_scenarios import adapter

    return adapter("limited")  # VAD barge-in: the agent's stop shows as a real latency


@pytest.fixture(scope="module")
def result():
    return scenario.run(
        "barge-in recovery",
        "The user cuts the agent off twice; it must stop fast and answer the new question.",
        agent=_adapter(), script=[
            scenario.agent(),
            scenario.user("Tell me about your product features"),
            scenario.interrupt("Sorry, what are your business hours?"),
            scenario.agent(),
            scenario.expect_stopped_within(0.6),
            scenario.expect_reply_addresses_interruption(),
            scenario.user("Tell me about refunds"),
            scenario.interrupt("Wait, can I speak to a person?", after=1.5),
            scenario.agent(),
            # min_duration=0.4 counts the caller's voice, and "Wait," is followed by a pause
            scenario.expect_stopped_within(0.8),
        ])


@pytest.fixture(scope="module")
def report(result, tmp_path_factory) -> Path:
    return write_report(result, tmp_path_factory.mktemp("report") / "barge-in")


def test_report_writes_the_result_files_and_a_page(result, report):
    out = report.parent
    assert report.name == "report.html"
    for name in ("result.json", "conversation.wav", "conversation-mono.wav"):
        assert (out / name).stat().st_size > 0, name
    assert list((out / "segments").glob("turn*-agent.wav"))
    assert (out / "result.json").read_text() == result.to_json() + "\n"
    print(f"\nreport: {report} ({report.stat().st_size} bytes)")


def test_report_page_has_timeline_player_metrics_checks_and_transcript(result, report):
    page = report.read_text()
    assert result.success, result.reasoning
    # header
    assert "<h1>barge-in recovery" in page and 'class="badge pass">PASS' in page
    assert "bargein (limited)" in page and "simulated (virtual time)" in page
    # the timeline: an SVG with both audio lanes drawn as envelopes
    assert '<svg id="timeline"' in page
    assert ">User</text>" in page and ">Agent</text>" in page
    envelopes = re.findall(r'<path class="env" fill="(#[0-9a-f]{6})"', page)
    assert {"#0f766e", "#4338ca"} <= set(envelopes)
    # one interruption mark per interrupt_fired, labelled with trigger and mode
    marks = re.findall(r'<g class="mark">.*?<text [^>]*>(.*?)</text></g>', page)
    assert len(marks) == len(result.timeline.of("interrupt_fired")) == 2
    assert marks == ["⚡ first audio · vad", "⚡ after · vad"]
    assert page.count('class="span-cut"') >= 2  # interrupted agent turns are marked
    assert "✂ Our plans" in page or "✂ Our" in page
    # the player for the recording, relative link, and no external assets
    assert '<audio id="player" controls preload="metadata" src="conversation.wav">' in page
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "<link" not in page
    # metrics with units, per interruption
    summary = result.metrics.summary()
    assert f'{summary["stop_latency_p50"]:.3f} s' in page
    assert f'{summary["response_latency_p50"]:.3f} s' in page
    assert "Yield rate" in page and "100 %" in page
    per = page.split("<h3>Per interruption</h3>")[1].split("</table>")[0]
    assert per.count("<tr>") == 1 + len(result.metrics.interruptions)
    for m in result.metrics.interruptions:
        assert f"{m.stop_latency:.3f} s" in per
    # checks with verdict and why
    for check in result.checks:
        assert f"<td>{check.description.replace(chr(39), '&#x27;')}</td>" in page
    assert page.count('class="badge pass">PASS') == 1 + len(result.checks)
    # transcript: barge-ins and cut-offs marked
    transcript = page.split('<ol class="transcript">')[1].split("</ol>")[0]
    assert transcript.count('class="tag barge"') == 2
    assert transcript.count("✂ cut off at") == 2


def test_report_is_deterministic(result, report, tmp_path):
    again = write_report(result, tmp_path / "again")
    assert again.read_bytes() == report.read_bytes()
    assert (tmp_path / "again" / "conversation.wav").read_bytes() == \
        (report.parent / "conversation.wav").read_bytes()


def test_report_escapes_every_text(result):
    hostile = dataclasses.replace(result, name="<script>alert(1)</script>",
                                  description='"quoted" & <b>bold</b>',
                                  reasoning="a < b & c")
    page = render_report(hostile)
    assert "<script>alert" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    assert "a &lt; b &amp; c" in page


def test_suite_summary_links_each_report_with_totals(result, report, tmp_path):
    failed = dataclasses.replace(result, name="broken", success=False,
                                 reasoning="judge: agent said ['pineapple']: missing")
    other = write_report(failed, tmp_path / "runs" / "broken")
    index = write_suite_summary([(result, report), (failed, other.parent)], tmp_path)
    page = index.read_text()
    assert index == tmp_path / "index.html"
    assert f'href="{os.path.relpath(report, tmp_path)}"' in page
    assert 'href="runs/broken/report.html"' in page
    assert "1/2 passed" in page and "1 FAILED" in page
    assert f'{result.metrics.summary()["stop_latency_p50"]:.3f} s' in page
    assert page.count('class="badge fail">FAIL') == 1


# -- the must-show: a headless browser renders the page -----------------------------------------

def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    message = ("Chromium is not installed (apt-get install -y chromium); the report "
               "screenshot test needs a headless browser")
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def screenshot(page: Path, png: Path, profile: Path) -> Path:
    """Render ``page`` in headless Chromium at 1280x1600 and save a PNG."""
    cmd = [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
           f"--screenshot={png}", page.resolve().as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=png.parent)
    assert png.exists(), f"no screenshot: {' '.join(cmd)}\n{done.stderr[-2000:]}"
    return png


def read_png(path: Path) -> np.ndarray:
    """Decode an 8-bit RGB/RGBA, non-interlaced PNG into an (h, w, 3) uint8 array."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    assert header is not None
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int64)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = np.frombuffer(raw, np.uint8, stride, start + 1).astype(np.int64)
        if kind == 0:
            cur = line
        elif kind == 1:  # Sub: a running sum per channel
            cur = np.cumsum(line.reshape(-1, bpp), axis=0).reshape(-1) % 256
        elif kind == 2:  # Up
            cur = (line + prev) % 256
        else:  # Average, Paeth: sequential
            px, up = line.tolist(), prev.tolist()
            for i in range(stride):
                a = px[i - bpp] if i >= bpp else 0
                b = up[i]
                if kind == 3:
                    px[i] = (px[i] + ((a + b) >> 1)) & 255
                else:
                    c = up[i - bpp] if i >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    px[i] = (px[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) \
                        & 255
            cur = np.array(px, dtype=np.int64)
        out[y] = cur
        prev = cur
    return out.reshape(height, width, bpp)[:, :, :3]


def _near(img: np.ndarray, rgb: tuple[int, int, int], tol: int) -> np.ndarray:
    return (np.abs(img.astype(np.int16) - np.array(rgb, dtype=np.int16)) <= tol).all(axis=2)


def _blend(rgb: tuple[int, int, int], alpha: float = 0.9) -> tuple[int, int, int]:
    """A colour drawn at ``alpha`` over the light lane background."""
    return tuple(round(alpha * c + (1 - alpha) * 247) for c in rgb)  # type: ignore[return-value]


def test_headless_browser_renders_timeline_and_metrics(report, tmp_path):
    png = screenshot(report, tmp_path / "report.png", tmp_path / "profile")
    img = read_png(png)
    print(f"\nscreenshot: {png} {img.shape[1]}x{img.shape[0]}")
    assert img.shape == (1600, 1280, 3)
    # not blank: many colours and real contrast
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 200
    assert img.std() > 20
    # the timeline: both envelopes drawn, user lane above the agent lane
    user = _near(img, _blend(USER_RGB), 30)
    agent = _near(img, _blend(AGENT_RGB), 30)
    assert user.sum() > 2000, f"user envelope pixels: {user.sum()}"
    assert agent.sum() > 5000, f"agent envelope pixels: {agent.sum()}"
    user_rows, agent_rows = np.flatnonzero(user.any(axis=1)), np.flatnonzero(agent.any(axis=1))
    assert user_rows[0] < agent_rows[0]
    # interruption marks and cut-offs in red
    red = _near(img, RED_RGB, 45)
    assert red.sum() > 100, f"red mark pixels: {red.sum()}"
    # below the timeline (past the legend), the metrics table: lines of dark text
    timeline_bottom = int(agent_rows[agent_rows < 900].max())
    below = img[timeline_bottom + 40:]
    dark_rows = (below.max(axis=2) < 90).sum(axis=1) > 3
    assert dark_rows.sum() > 80, f"rows of dark text below the timeline: {dark_rows.sum()}"
