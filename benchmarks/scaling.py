"""Scaling: the same benchmark suite on 1 worker, 2 worker processes and local Ray, in one run.

Run: ``make bench-scale`` (or ``.venv/bin/python benchmarks/scaling.py``). Prints a Markdown
table; ``--write`` also replaces the scaling section of benchmarks/README.md.

The suite is the interruption benchmark (oracle STT, real Silero VAD and espeak-ng) on
``--cases`` cases under one setting. Each backend runs the whole suite from a cold start of
its workers, so the worker start-up (interpreter, imports, models) is in its time; Ray's own
start (``ray.init``) is timed apart, since a cluster pays it once, not per suite. Every run
must give the same results as the serial one (checked here: the script stops otherwise).

Columns: wall seconds, speed (seconds of calls per wall second), the ratio to the 1-worker
run, and CPU seconds (this process and its worker processes; Ray's workers are not children
of this process, so its CPU is not counted). The load average before each run is printed:
the machine is shared, and a busy neighbour takes cores away from the pool.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bargein.markers import update_file

HERE = Path(__file__).resolve().parent
SETTING = "words1-0.2"


def progress(msg: str) -> None:
    print(f"... {msg}", file=sys.stderr, flush=True)


@dataclass
class Row:
    backend: str
    workers: str
    wall: float
    simulated: float
    cpu: float | None
    load: float
    startup: float | None = None

    @property
    def speed(self) -> float:
        return self.simulated / self.wall


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run(cases: int, seed: int, backend: str, workers: int, ray: str | None) -> tuple[Row, str]:
    from bargein import bench
    from bargein.adapters.bench_agent import select_settings

    settings = select_settings([SETTING], turn_limit_sentences=bench.TURN_LIMIT_SENTENCES)
    load = os.getloadavg()[0]
    cpu = _cpu()
    started = time.perf_counter()
    suite = bench.run_suite(bench.generate_cases(cases, seed), settings, seed=seed,
                            workers=workers, ray=ray)
    wall = time.perf_counter() - started
    data = suite.to_dict()
    data.pop("speed")
    row = Row(backend, str(workers) if ray is None else "Ray (2 CPUs)", wall,
              suite.simulated_seconds, None if ray is not None else _cpu() - cpu, load)
    progress(f"{backend}: {row.simulated:.0f} s in {wall:.1f} s ({row.speed:.1f}x), "
             f"load {load:.1f}")
    return row, json.dumps(data, sort_keys=True)


def render(rows: list[Row], cases: int, seed: int) -> str:
    base = rows[0]
    cores = os.cpu_count()
    head = [
        f"Machine: {cores} cores ({platform.machine()}), Python {platform.python_version()}. "
        f"Suite: `bargein bench` cases, {cases} cases (seed {seed}) under `{SETTING}`, oracle "
        f"STT, real Silero VAD and espeak-ng; {base.simulated:.0f} s of calls per run. All "
        "runs in one invocation, one after the other; results identical to the serial run's "
        "(checked). Worker start-up is inside each run's time.",
        "",
        "| cores | backend | workers | load avg before | wall s | speed (sim s / wall s) "
        "| ratio to 1 worker | CPU s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines = []
    for r in rows:
        cpu = "-" if r.cpu is None else f"{r.cpu:.1f}"
        note = f" (+ {r.startup:.1f} s ray.init, not counted)" if r.startup else ""
        lines.append(f"| {cores} | {r.backend}{note} | {r.workers} | {r.load:.1f} "
                     f"| {r.wall:.1f} | {r.speed:.1f}x | {r.speed / base.speed:.2f}x | {cpu} |")
    return "\n".join(head + lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update benchmarks/README.md")
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray run")
    args = parser.parse_args()
    rows: list[Row] = []
    row, serial = run(args.cases, args.seed, "process pool", 1, None)
    rows.append(row)
    row, two = run(args.cases, args.seed, "process pool", 2, None)
    if two != serial:
        sys.exit("2 workers gave other results than 1: not a scaling figure, a bug")
    rows.append(row)
    if not args.no_ray:
        import ray

        started = time.perf_counter()
        ray.init(include_dashboard=False, log_to_driver=False, num_cpus=2)
        startup = time.perf_counter() - started
        try:
            row, on_ray = run(args.cases, args.seed, "Ray local", 2, "local")
        finally:
            ray.shutdown()
        if on_ray != serial:
            sys.exit("Ray gave other results than 1 worker: not a scaling figure, a bug")
        row.startup = startup
        rows.append(row)
    table = render(rows, args.cases, args.seed)
    print(table)
    if args.write:
        update_file(HERE / "README.md", "scaling", table, heading="## Scaling")


if __name__ == "__main__":
    main()
