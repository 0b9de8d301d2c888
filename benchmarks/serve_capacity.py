"""How many conversations one ``bargein serve`` process plays in real time on this machine.

Run: ``.venv/bin/python benchmarks/serve_capacity.py`` (``--write`` also replaces the
serve-capacity section of benchmarks/README.md). Options: ``--stt oracle whisper local``,
``--sessions 1 4 8 ...``, ``--hog`` (two busy-looping processes, one per core, for the whole
run: the loaded CI machine).

For each recognizer and each count N, a fresh server (``bargein serve
examples/agents/interrupt_user.py --stt X``, admission control off) takes N scripted callers
(:class:`bargein.live.caller.ScriptedCaller`, real time over loopback, started 0.25 s
apart). Each caller listens to the greeting, talks over it after 1 s ("What are your
business hours?", espeak), and waits for the answer. Measured on the callers' side:

- ``answered``: callers whose barge-in stopped the greeting and who heard the answer (with
  a real recognizer: any reply, since it may mishear the question);
- ``stall p95``: seconds the caller's speaker ran dry in the middle of an agent speech (the
  server sent its audio late), 95th percentile over callers;
- ``stop p50 / p95``: seconds from the first sample of the caller's phrase to the ``pause``
  or ``clear`` that silenced the greeting;
- ``server CPU``: the server process's CPU seconds per wall second;
- ``load avg``: the machine's 1-minute load average at the end of the run (other jobs
  share this machine: the figures hold for that load).

N is "real time" when every caller was answered, the stall p95 is at most 0.1 s and the stop
p95 is within 0.3 s of the single-caller run's median. The default session limit of
``bargein serve`` (:data:`bargein.live.admission.SESSIONS_PER_PROCESS`) is derived from
these tables.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bargein.markers import update_file

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AGENT = ROOT / "examples" / "agents" / "interrupt_user.py"
QUESTION = "What are your business hours?"
STALL_OK = 0.1
STOP_SLACK = 0.3


def progress(msg: str) -> None:
    print(f"... {msg}", file=sys.stderr, flush=True)


@dataclass
class Row:
    stt: str
    sessions: int
    answered: int
    stall_p95: float
    stop_p50: float
    stop_p95: float
    cpu: float
    wall: float
    load: float

    def real_time(self, baseline: Row | None) -> bool:
        base = baseline.stop_p50 if baseline else self.stop_p50
        return (self.answered == self.sessions and self.stall_p95 <= STALL_OK
                and self.stop_p95 <= base + STOP_SLACK)


class ServerProcess:
    """``bargein serve`` in a subprocess; admission control off (the benchmark measures what
    happens beyond capacity)."""

    def __init__(self, stt: str) -> None:
        cmd = [sys.executable, "-m", "bargein.cli", "serve", str(AGENT), "--port", "0",
               "--stt", stt, "--max-sessions", "1000", "--busy-lag", "59000"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, cwd=ROOT, env={**os.environ, "COLUMNS": "200"})
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            found = re.search(r"on http://127\.0\.0\.1:(\d+)/", line)
            if found:
                self.url = f"ws://127.0.0.1:{found.group(1)}/ws"
                return
        raise RuntimeError("the server did not start")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def run_level(stt: str, n: int, speech) -> Row:  # type: ignore[no-untyped-def]
    from bargein.live.caller import ScriptedCaller

    server = ServerProcess(stt)
    phrase = speech.audio.to_int16()
    words = speech.words if stt == "oracle" else ()
    try:
        async def one(i: int) -> ScriptedCaller:
            await asyncio.sleep(0.25 * i)
            caller = ScriptedCaller(server.url, phrase, barge_after=1.0, words=words,
                                    answer_word="available" if words else None)
            try:
                await caller.run(limit=60, ping_timeout=60)
            except Exception as exc:  # a dropped connection is a failed call, not a crash
                caller.close = (0, f"{type(exc).__name__}: {exc}")
            return caller

        async def main() -> list[ScriptedCaller]:
            return list(await asyncio.gather(*(one(i) for i in range(n))))

        cpu0, t0 = server.cpu_seconds(), time.monotonic()
        callers = asyncio.run(main())
        wall = time.monotonic() - t0
        cpu = (server.cpu_seconds() - cpu0) / wall
    finally:
        server.stop()
    answered = sum(c.answered and c.stop_after is not None for c in callers)
    stops = sorted(c.stop_after for c in callers if c.stop_after is not None) or [float("nan")]
    stalls = sorted(c.stalled for c in callers)
    return Row(stt, n, answered, _pct(stalls, 95), statistics.median(stops), _pct(stops, 95),
               cpu, wall, os.getloadavg()[0])


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


def render(rows: list[Row], command: str, hog: bool) -> str:
    load = ("two busy-looping processes (one per core) ran the whole time" if hog
            else "no extra load of its own (the machine is shared)")
    lines = [f"Command: `{command}`", "",
             f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python "
             f"{platform.python_version()}; {load}.",
             "", "| stt | sessions | answered | stall p95 | stop p50 | stop p95 | server CPU "
             "| load avg | real time |", "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    baselines: dict[str, Row] = {}
    for row in rows:
        baselines.setdefault(row.stt, row)
        ok = row.real_time(baselines[row.stt])
        lines.append(f"| {row.stt} | {row.sessions} | {row.answered}/{row.sessions} | "
                     f"{row.stall_p95:.2f} s | {row.stop_p50:.2f} s | {row.stop_p95:.2f} s | "
                     f"{row.cpu:.2f} | {row.load:.1f} | {'yes' if ok else '**no**'} |")
    lines.append("")
    for stt in baselines:
        fit = [r.sessions for r in rows if r.stt == stt and r.real_time(baselines[stt])]
        lines.append(f"- `{stt}`: real time up to {max(fit) if fit else 0} sessions "
                     "of those tried.")
    return "\n".join(lines)


def start_hog() -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(os.cpu_count() or 2)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stt", nargs="+", default=["oracle", "whisper", "local"])
    parser.add_argument("--sessions", nargs="+", type=int, default=[1, 4, 8, 12, 16, 20])
    parser.add_argument("--hog", action="store_true", help="load every core meanwhile")
    parser.add_argument("--write", action="store_true", help="update benchmarks/README.md")
    args = parser.parse_args()
    if any(n < 1 for n in args.sessions):
        parser.error("--sessions must be positive")
    from bargein.providers.espeak_tts import EspeakTTS

    speech = asyncio.run(EspeakTTS(voice="en-us+m3").synthesize(QUESTION))
    hog = start_hog() if args.hog else []
    rows = []
    try:
        for stt in args.stt:
            for n in sorted(args.sessions):
                progress(f"{stt}: {n} sessions")
                row = run_level(stt, n, speech)
                progress(f"  {row}")
                rows.append(row)
    finally:
        for proc in hog:
            proc.kill()
            proc.wait()
    command = ("python benchmarks/serve_capacity.py --stt " + " ".join(args.stt)
               + " --sessions " + " ".join(map(str, sorted(args.sessions)))
               + (" --hog" if args.hog else ""))
    table = render(rows, command, args.hog)
    print(table)
    if args.write:
        name = "serve-capacity-hog" if args.hog else "serve-capacity"
        update_file(HERE / "README.md", name, table,
                    heading="## `bargein serve` capacity" + (" under load" if args.hog else ""))


if __name__ == "__main__":
    main()
