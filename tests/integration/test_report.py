"""HTML reports of real scenario runs: the page's parts, determinism, escaping, the suite
summary, protected (uninterruptible) speech, and a headless browser showing that the
timeline, the metrics and the protected speech render and that the embedded audio loads.

The screenshot needs Debian's Chromium (`apt-get install -y chromium`). Without it the
browser test is skipped locally; when the environment variable CI is set it fails instead.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
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
from bargein.scenario.result import Segment

pytestmark = pytest.mark.integration

USER_RGB = (15, 118, 110)  # report.USER_COLOR
AGENT_RGB = (67, 56, 202)  # report.AGENT_COLOR
RED_RGB = (220, 38, 38)  # report.INTERRUPT_COLOR
PROTECTED_RGB = (3, 105, 161)  # report.PROTECTED_COLOR
ROOT = Path(__file__).resolve().parents[2]
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


# Until results carry it themselves (issue 18 item 5), a segment says "protected" through an
# optional ``protected`` field; the report reads it with a default of False.
_ProtectedSegment = dataclasses.make_dataclass(
    "ProtectedSegment", [("protected", bool, dataclasses.field(default=False))],
    bases=(Segment,), frozen=True)


def _protect(segment: Segment) -> Segment:
    if "protected" in {f.name for f in dataclasses.fields(segment)}:
        return dataclasses.replace(segment, protected=True)
    return _ProtectedSegment(**dataclasses.asdict(segment), protected=True)


@pytest.fixture(scope="module")
def protected_result():
    """The uninterruptible announcement (examples/scenarios): the caller talks over a long
    reply that may not be interrupted; that reply's segment is protected."""
    import sys

    sys.path.insert(0, str(ROOT / "examples" / "scenarios"))
    from uninterruptible_announcement import ANNOUNCEMENT

    result = ANNOUNCEMENT.run()
    barge = next(u for u in result.utterances if u.barge_in)
    segments = [_protect(s) if s.party == "agent" and s.start <= barge.onset <= s.end else s
                for s in result.recording.segments]
    assert segments != result.recording.segments
    recording = dataclasses.replace(result.recording, segments=segments)
    return dataclasses.replace(result, recording=recording)


@pytest.fixture(scope="module")
def protected_report(protected_result, tmp_path_factory) -> Path:
    return write_report(protected_result, tmp_path_factory.mktemp("report") / "protected")


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
    # the player holds the stereo recording itself, and there are no external assets
    src = re.search(r'<audio id="player" controls preload="metadata" src="([^"]+)">', page)
    assert src and src.group(1).startswith("data:audio/wav;base64,")
    embedded = base64.b64decode(src.group(1).split(",", 1)[1])
    assert embedded == result.recording.stereo_wav()
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
        assert f"<td>{check.description.replace(chr(39), '&#39;')}</td>" in page
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
    assert "&#34;quoted&#34; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    assert "a &lt; b &amp; c" in page


def test_audio_can_be_linked_instead_of_embedded(result, tmp_path):
    page = write_report(result, tmp_path / "linked", embed_audio=False).read_text()
    assert '<audio id="player" controls preload="metadata" src="conversation.wav">' in page
    assert "data:audio" not in page
    assert (tmp_path / "linked" / "conversation.wav").exists()


def test_protected_speech_is_shown_as_protected_not_as_a_failure(protected_result,
                                                                 protected_report):
    page = protected_report.read_text()
    assert protected_result.success, protected_result.reasoning
    assert page.count('class="span-protected"') >= 1  # its own style on the timeline
    assert 'class="lbl-protected"' in page and "protected · " in page
    per = page.split("<h3>Per interruption</h3>")[1].split("</table>")[0]
    assert "protected: played on" in per
    assert '<span class="bad">no</span>' not in per  # not "Yielded: no" in red
    assert 'class="latency-label"' not in page  # no "stop 25.78 s" over protected speech
    transcript = page.split('<ol class="transcript">')[1].split("</ol>")[0]
    assert '<span class="tag protected">protected: uninterruptible</span>' in transcript
    # without the flags (the measure's and the segments'), the same run shows the barge-in
    # as not yielded
    metrics = protected_result.metrics
    unflagged = [dataclasses.replace(m, protected=False) for m in metrics.interruptions]
    plain = render_report(dataclasses.replace(
        protected_result,
        metrics=dataclasses.replace(metrics, interruptions=unflagged),
        recording=dataclasses.replace(protected_result.recording, segments=[])))
    assert 'class="span-protected"' not in plain and '<span class="bad">no</span>' in plain


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


# Plays the page's recording, muted, until 1 s of it has played, then says what it saw.
_PLAY = """new Promise((resolve) => {
  const a = document.getElementById("player");
  const report = (played) => resolve({duration: a.duration, at: a.currentTime, played,
      error: a.error ? a.error.code : null,
      playheads: [...document.querySelectorAll(".playhead")].map(l => +l.getAttribute("x1"))});
  a.addEventListener("error", () => report(false));
  const play = () => {
    a.muted = true;
    a.play().then(() => a.addEventListener("timeupdate", function tick() {
      if (a.currentTime > 1.0) {
        a.removeEventListener("timeupdate", tick); a.pause(); report(true);
      }
    }), () => report(false));
  };
  if (a.readyState >= 1) play(); else a.addEventListener("loadedmetadata", play, {once: true});
})"""


def evaluate_in_page(page: Path, expression: str, profile: Path, timeout: float = 90.0):
    """Open ``page`` in headless Chromium and return the value ``expression`` (a promise)
    resolves to, through the DevTools protocol on loopback: real time, no fixed waits."""
    websockets = pytest.importorskip("websockets")
    proc = subprocess.Popen(
        [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
         "--autoplay-policy=no-user-gesture-required", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    async def run():
        ws_url = None
        for line in proc.stderr:  # type: ignore[union-attr]
            if "DevTools listening on " in line:
                ws_url = line.split("DevTools listening on ", 1)[1].strip()
                break
        assert ws_url, "Chromium did not open its DevTools endpoint"
        events: list[dict] = []
        ids = iter(range(1, 1000))
        async with websockets.connect(ws_url, max_size=None) as ws:
            async def call(method, session=None, **params):
                n = next(ids)
                await ws.send(json.dumps({"id": n, "method": method, "params": params,
                                          **({"sessionId": session} if session else {})}))
                while True:
                    reply = json.loads(await ws.recv())
                    if reply.get("id") == n:
                        assert "error" not in reply, reply
                        return reply["result"]
                    events.append(reply)

            target = (await call("Target.createTarget", url="about:blank"))["targetId"]
            session = (await call("Target.attachToTarget", targetId=target,
                                  flatten=True))["sessionId"]
            await call("Page.enable", session)
            await call("Page.navigate", session, url=page.resolve().as_uri())
            while not any(e.get("method") == "Page.loadEventFired" for e in events):
                events.append(json.loads(await ws.recv()))
            result = await call("Runtime.evaluate", session, expression=expression,
                                awaitPromise=True, returnByValue=True)
            return result["result"]["value"]

    try:
        return asyncio.run(asyncio.wait_for(run(), timeout))
    finally:
        proc.terminate()
        proc.wait(30)


def test_headless_browser_plays_the_embedded_audio(protected_result, protected_report,
                                                   tmp_path):
    alone = tmp_path / "alone.html"  # away from the WAV files: only the page itself plays
    alone.write_bytes(protected_report.read_bytes())
    seen = evaluate_in_page(alone, _PLAY, tmp_path / "profile")
    print(f"\nembedded audio in the browser: {seen}")
    assert seen["error"] is None and seen["played"]
    assert abs(seen["duration"] - protected_result.duration) < 0.01
    assert 1.0 < seen["at"] < 5.0
    # the playhead follows the audio on the timeline (first row)
    page = alone.read_text()
    row_s = float(re.search(r'data-row-seconds="([\d.]+)"', page)[1])
    expected = 64 + seen["at"] / row_s * 1080  # report's GUTTER and PLOT
    assert abs(seen["playheads"][0] - expected) < 2.0, (seen, expected)


def test_headless_browser_shows_protected_speech(protected_report, tmp_path):
    png = screenshot(protected_report, tmp_path / "protected.png", tmp_path / "profile")
    img = read_png(png)
    print(f"\nscreenshot: {png} {img.shape[1]}x{img.shape[0]}")
    protected = _near(img, PROTECTED_RGB, 30)
    assert protected.sum() > 400, f"protected-style pixels: {protected.sum()}"
    # the protected turn is drawn in the agent lane, below the user lane
    agent = _near(img, _blend(AGENT_RGB), 30)
    agent_rows = np.flatnonzero(agent.any(axis=1))
    protected_rows = np.flatnonzero(protected.any(axis=1))
    assert protected_rows[0] <= agent_rows.max() and protected_rows.max() >= agent_rows[0]
    # the barge-in over it is no red failure: no red stop-latency bracket
    red = _near(img, (185, 28, 28), 20)  # report's .latency colour #b91c1c
    assert red.sum() < 50, f"latency-bracket pixels: {red.sum()}"
