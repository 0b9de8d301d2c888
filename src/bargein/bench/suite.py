"""A suite: every case under every setting, the per-setting summaries, and the targets.

:func:`run_suite` runs each case under every setting, each run in its own virtual-time loop
(:func:`~bargein.bench.runner.run_case_settings`), here or spread over worker processes or a
Ray cluster (:mod:`bargein.parallel`: results in case order, byte-identical to a serial run);
:func:`summarize` turns a setting's case results into rates and percentiles, and :func:`meets`
says which of the benchmark's :data:`TARGETS` a summary meets. The speed figures (seconds of
recording per wall second) are the only part that changes from run to run.
"""

from __future__ import annotations

import pickle
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bargein.bench.cases import KINDS, TURN_LIMIT_SENTENCES, BenchCase
from bargein.bench.runner import SAMPLE_RATE, CaseResult, Setting, run_case_settings
from bargein.parallel import check_workers, describe_backend, run_in_order
from bargein.scenario.metrics import TALK_OVER_LIMIT, YIELD_WINDOW

__all__ = ["TARGETS", "SuiteResult", "meets", "run_suite", "stderr_progress", "summarize"]

#: Targets of the benchmark (issue 7): name -> (summary key, comparison, bound).
TARGETS: dict[str, tuple[str, str, float]] = {
    "takeover >= 0.99": ("takeover_rate", ">=", 0.99),
    "stop p95 <= 300 ms": ("stop_latency_p95", "<=", 0.300),
    "false int. <= 5%": ("false_interruption_rate", "<=", 0.05),
    "pause takeover <= 10%": ("pause_takeover_rate", "<=", 0.10),
}


# -- a suite ----------------------------------------------------------------------------------


@dataclass
class SuiteResult:
    """Every case result per setting; the worker seconds each setting took (``wall``: the
    sum of its cases' run times, whichever process ran them), the run's ``elapsed`` wall
    time and what ran it (``ran_on``: "1 process", "2 worker processes", "Ray local"...)."""

    settings: list[Setting]
    cases: list[BenchCase]
    results: dict[str, list[CaseResult]] = field(default_factory=dict)
    wall: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    stt: str = "oracle"
    elapsed: float = 0.0
    ran_on: str = "1 process"

    def summaries(self) -> dict[str, dict[str, Any]]:
        """:func:`summarize` of each setting, by name."""
        return {s.name: summarize(self.results[s.name]) for s in self.settings}

    @property
    def simulated_seconds(self) -> float:
        """Seconds of recording over all settings."""
        return sum(r.duration for rs in self.results.values() for r in rs)

    @property
    def wall_seconds(self) -> float:
        """Wall seconds of the whole run (the sum of the settings' worker seconds if no
        elapsed time was recorded)."""
        return self.elapsed or sum(self.wall.values())

    @property
    def speed(self) -> float:
        """Simulated seconds per wall second, over the whole suite."""
        return self.simulated_seconds / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def speed_per_worker(self) -> float:
        """Simulated seconds per worker second: the speed of one core."""
        busy = sum(self.wall.values())
        return self.simulated_seconds / busy if busy else 0.0

    def to_dict(self, *, cases: bool = True) -> dict[str, Any]:
        """JSON-ready form. Deterministic for a seed, except the ``speed`` section."""
        out: dict[str, Any] = {
            "seed": self.seed,
            "stt": self.stt,
            "count": len(self.cases),
            "counts": {k: sum(c.kind == k for c in self.cases) for k in KINDS},
            "turn_limit_sentences": TURN_LIMIT_SENTENCES,
            "targets": {name: {"metric": k, "op": op, "bound": b}
                        for name, (k, op, b) in TARGETS.items()},
            "settings": [s.to_dict() for s in self.settings],
            "summary": self.summaries(),
        }
        if cases:
            out["cases"] = [c.to_dict() for c in self.cases]
            # kind, label and variant are in "cases" (same id)
            out["results"] = {name: [{k: v for k, v in r.to_dict().items()
                                      if k not in ("kind", "label", "variant")} for r in rs]
                              for name, rs in self.results.items()}
        out["speed"] = {  # wall-time figures: the only part that changes between runs
            "simulated_seconds": round(self.simulated_seconds, 1),
            "wall_seconds": round(self.wall_seconds, 2),
            "speed": round(self.speed, 1),
            "ran_on": self.ran_on,
            "speed_per_worker": round(self.speed_per_worker, 1),
            "per_setting": {name: {"worker_seconds": round(w, 2),
                                   "speed": round(sum(r.duration for r in self.results[name])
                                                  / w, 1) if w else None}
                            for name, w in self.wall.items()},
        }
        return out


def run_suite(cases: list[BenchCase], settings: Iterable[Setting], *,
              stt: str = "oracle", seed: int = 0,
              progress: Callable[[str], None] | None = None,
              sample_rate: int = SAMPLE_RATE, workers: int = 1,
              ray: str | None = None) -> SuiteResult:
    """Run every case under every setting, each run in its own virtual-time loop.

    Each :class:`Setting` makes the adapter of each case; ``stt`` names the recognizer the
    agents use, for the report. ``workers`` > 1 spreads the cases over that many worker
    processes, ``ray`` over a Ray cluster (see :func:`bargein.parallel.run_in_order`; the
    settings must then be picklable); the results are the same as a serial run's.
    ``progress`` gets one line now and then, for the whole run.
    """
    settings = list(settings)
    check_workers(workers)
    for setting in settings:
        if not isinstance(setting, Setting):
            raise TypeError(f"settings must have name, description, adapter(case) and "
                            f"to_dict(), got {type(setting).__name__}")
    suite = SuiteResult(settings, list(cases), seed=seed, stt=stt,
                        ran_on=describe_backend(len(cases), workers, ray))
    if ray is not None or min(workers, len(cases)) > 1:
        _check_picklable(settings)
    jobs = [(case, settings, sample_rate) for case in suite.cases]
    started = time.perf_counter()  # wall-clock-ok: reported speed
    finished = {"cases": 0, "simulated": 0.0}
    every = max(1, min(25, len(jobs) // 10))

    def on_result(_: int, results: list[CaseResult]) -> None:
        finished["cases"] += 1
        finished["simulated"] += sum(r.duration for r in results)
        done, sim = finished["cases"], finished["simulated"]
        if progress is not None and (done % every == 0 or done == len(jobs)):
            wall = time.perf_counter() - started  # wall-clock-ok
            progress(f"[{done}/{len(jobs)} cases x {len(settings)} settings] {sim:.0f} s "
                     f"simulated in {wall:.1f} s ({sim / wall if wall else 0:.0f}x real time, "
                     f"{suite.ran_on})")

    per_case = run_in_order(run_case_settings, jobs, workers=workers, ray=ray,
                            on_result=on_result)
    suite.elapsed = time.perf_counter() - started  # wall-clock-ok
    for k, setting in enumerate(settings):
        suite.results[setting.name] = [results[k] for results in per_case]
        suite.wall[setting.name] = sum(r.wall for r in suite.results[setting.name])
    return suite


def _check_picklable(settings: list[Setting]) -> None:
    try:
        pickle.dumps(settings)
    except Exception as exc:
        raise ValueError(
            "to run in worker processes, settings must be picklable (module-level classes "
            f"and functions, no lambdas or closures): {type(exc).__name__}: {exc}; or run "
            "with workers=1") from None


def stderr_progress(line: str) -> None:
    """A progress callback that writes to stderr."""
    print(line, file=sys.stderr, flush=True)


# -- summaries --------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return round(float(np.percentile(np.asarray(values, dtype=np.float64), q)), 4)


def _rate(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def summarize(results: list[CaseResult]) -> dict[str, Any]:
    """Per-setting figures (rates are shares of the measured cases of that kind)."""
    by = {k: [r for r in results if r.kind == k and r.error is None] for k in KINDS}
    barge = by["barge_in"]
    # stop latency of the barge-ins the agent stopped for (within the yield window), whether
    # or not it came back over the caller afterwards (talked_over_rate says how often)
    latencies = [r.stop_latency for r in barge
                 if r.stop_latency is not None and r.stop_latency <= YIELD_WINDOW]
    bc = [bool(r.false_interruption) for r in by["backchannel"]]
    noise = [bool(r.false_interruption) for r in by["noise"]]
    mono = by["monologue"]
    predicted = [r for r in mono if r.cut_in]
    positives = [r for r in mono if r.label == "cut_in"]
    hits = [r for r in predicted if r.label == "cut_in"]
    measured = [r for r in barge if r.stopped is not None]
    gaps = [r.response_gap for r in measured if r.response_gap is not None]
    turn_end = [r.response_latency for r in by["pause"] if r.response_latency is not None
                and not r.pause_takeover]
    return {
        "cases": len(results),
        "errors": sum(r.error is not None for r in results),
        "takeover_rate": _rate([bool(r.stopped) for r in barge]),
        "takeover_rate_short": _rate([bool(r.stopped) for r in barge if r.variant == "short"]),
        "stop_latency_p50": _pct(latencies, 50),
        "stop_latency_p95": _pct(latencies, 95),
        "talked_over_rate": _rate([(r.talked_over or 0.0) > TALK_OVER_LIMIT for r in measured]),
        "barge_in_overlap_p50": _pct([r.overlap for r in measured if r.overlap is not None],
                                     50),
        "response_gap_p50": _pct(gaps, 50),
        "false_interruption_rate": _rate(bc + noise),
        "false_interruption_backchannel": _rate(bc),
        "false_interruption_noise": _rate(noise),
        "pause_takeover_rate": _rate([bool(r.pause_takeover) for r in by["pause"]]),
        "cut_in_precision": round(len(hits) / len(predicted), 4) if predicted else None,
        "cut_in_recall": round(len(hits) / len(positives), 4) if positives else None,
        "response_latency_turn_p50": _pct(turn_end, 50),
        "simulated_seconds": round(sum(r.duration for r in results), 2),
    }


def meets(summary: dict[str, Any]) -> dict[str, bool | None]:
    """Each target of :data:`TARGETS`: met (True), missed (False), not measured (None)."""
    out: dict[str, bool | None] = {}
    for name, (key, op, bound) in TARGETS.items():
        value = summary.get(key)
        out[name] = None if value is None else (value >= bound if op == ">=" else value <= bound)
    return out

