"""Scaling: the same benchmark suite on 1 worker, 2 worker processes and local Ray, in one run.

Run: ``make bench-scale`` (or ``.venv/bin/python benchmarks/scaling.py``). Prints a Markdown
table; ``--write`` also replaces the scaling section of benchmarks/README.md.

The suite is the interruption benchmark (oracle STT, real Silero VAD, espeak-ng, smart-turn) on
``--cases`` cases under one setting. Each backend runs the whole suite from a cold start of
its workers, so the worker start-up (interpreter, imports, models) is in its time; Ray's own
start (``ray.init``) is timed apart, since a cluster pays it once, not per suite. Every run
must give the same results as the serial one (checked here: the script stops otherwise).
The 1-worker run is this process: after the first round its models and caches are warm, an
advantage the 2-worker and Ray runs do not get.

Every process runs numeric libraries on one thread (``OMP_NUM_THREADS`` and friends set to 1
here, as the pool and Ray do for their workers): otherwise OpenBLAS gives the 1-worker run a
second thread on the other core, and the ratio would compare thread counts, not workers.

The three runs are repeated ``--repeat`` times, in rounds (1 worker, 2 workers, Ray; then
again), and each row gives the median round with the range: the machine is shared, and a
busy neighbour takes a core away from the pool for seconds at a time. Ray is started afresh
each round (cold workers, as for the pool). Columns: wall seconds, speed (seconds of calls per
wall second), the ratio of the medians to the 1-worker median, CPU seconds (this process and
its worker processes; Ray's workers are not children of this process, so its CPU is not
counted), cores used (those CPU seconds per wall second), the whole machine's CPU seconds
during the run (/proc/stat) and the cores other jobs took (machine minus this run, per wall
second): the 2 workers cannot run faster than the cores the other jobs leave them. The
1-minute load average before each run is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # before numpy loads OpenBLAS (see the docstring)

from bargein.markers import update_file  # noqa: E402

HERE = Path(__file__).resolve().parent
SETTING = "words1-0.2"


def progress(msg: str) -> None:
    print(f"... {msg}", file=sys.stderr, flush=True)


@dataclass
class Row:
    backend: str
    workers: str
    simulated: float = 0.0
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)
    startups: list[float] = field(default_factory=list)
    machine_cpus: list[float] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def speed(self) -> float:
        return self.simulated / self.wall


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _machine_cpu() -> float:
    """CPU seconds every process of the machine has used since boot (Linux /proc/stat:
    all but idle and iowait), to see how much of the cores other jobs took during a run."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    ticks = [int(x) for x in fields]
    busy = sum(ticks) - ticks[3] - ticks[4]  # idle, iowait
    return busy / os.sysconf("SC_CLK_TCK")


def run(row: Row, cases: int, seed: int, workers: int, ray: str | None) -> str:
    """One run of the suite, added to ``row``; returns its results as JSON."""
    from bargein import bench
    from bargein.adapters.bench_agent import select_settings

    settings = select_settings([SETTING], turn_limit_sentences=bench.TURN_LIMIT_SENTENCES)
    row.loads.append(os.getloadavg()[0])
    cpu, machine = _cpu(), _machine_cpu()
    started = time.perf_counter()
    suite = bench.run_suite(bench.generate_cases(cases, seed), settings, seed=seed,
                            workers=workers, ray=ray)
    row.walls.append(time.perf_counter() - started)
    row.machine_cpus.append(_machine_cpu() - machine)
    if ray is None:
        row.cpus.append(_cpu() - cpu)
    row.simulated = suite.simulated_seconds
    data = suite.to_dict()
    data.pop("speed")
    progress(f"{row.backend} ({row.workers}): {row.simulated:.0f} s in {row.walls[-1]:.1f} s "
             f"({row.simulated / row.walls[-1]:.1f}x), load {row.loads[-1]:.1f}")
    return json.dumps(data, sort_keys=True)


def render(rows: list[Row], cases: int, seed: int, repeat: int) -> str:
    base = rows[0]
    cores = os.cpu_count()
    head = [
        f"Machine: {cores} cores ({platform.machine()}), Python {platform.python_version()}. "
        f"Suite: `bargein bench` cases, {cases} cases (seed {seed}) under `{SETTING}`, oracle "
        f"STT, real Silero VAD, espeak-ng and the smart-turn v3.2 turn detector; "
        f"{base.simulated:.0f} s of calls per run. "
        f"{repeat} rounds in one invocation; median wall time (range in brackets); every run's "
        "results identical to the serial run's (checked). Worker start-up is inside each "
        "run's time.",
        "",
        "| cores | backend | workers | load avg before | wall s | speed (sim s / wall s) "
        "| ratio to 1 worker | CPU s | cores used | machine CPU s | other jobs' cores |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines = []
    for r in rows:
        cpu = "-" if not r.cpus else f"{statistics.median(r.cpus):.1f}"
        used = "-" if not r.cpus else f"{statistics.median(r.cpus) / r.wall:.2f}"
        machine = statistics.median(r.machine_cpus)
        others = "-" if not r.cpus else \
            f"{max(0.0, machine - statistics.median(r.cpus)) / r.wall:.2f}"
        note = (f" (+ {statistics.median(r.startups):.1f} s ray.init, not counted)"
                if r.startups else "")
        loads = "/".join(f"{x:.1f}" for x in r.loads)
        lines.append(f"| {cores} | {r.backend}{note} | {r.workers} | {loads} "
                     f"| {r.wall:.1f} ({min(r.walls):.1f}-{max(r.walls):.1f}) "
                     f"| {r.speed:.1f}x | {r.speed / base.speed:.2f}x | {cpu} | {used} "
                     f"| {machine:.1f} | {others} |")
    return "\n".join(head + lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update benchmarks/README.md")
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the three runs")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray runs")
    args = parser.parse_args()
    serial_row, pool_row = Row("process pool", "1"), Row("process pool", "2")
    ray_row = Row("Ray local", "Ray (2 CPUs)")
    rows = [serial_row, pool_row] + ([] if args.no_ray else [ray_row])
    for round_ in range(args.repeat):
        progress(f"round {round_ + 1}/{args.repeat}")
        serial = run(serial_row, args.cases, args.seed, 1, None)
        if run(pool_row, args.cases, args.seed, 2, None) != serial:
            sys.exit("2 workers gave other results than 1: not a scaling figure, a bug")
        if not args.no_ray:
            import ray

            started = time.perf_counter()
            ray.init(include_dashboard=False, log_to_driver=False, num_cpus=2)
            ray_row.startups.append(time.perf_counter() - started)
            try:
                on_ray = run(ray_row, args.cases, args.seed, 2, "local")
            finally:
                ray.shutdown()
            if on_ray != serial:
                sys.exit("Ray gave other results than 1 worker: not a scaling figure, a bug")
    table = render(rows, args.cases, args.seed, args.repeat)
    print(table)
    if args.write:
        update_file(HERE / "README.md", "scaling", table, heading="## Scaling")


if __name__ == "__main__":
    main()
