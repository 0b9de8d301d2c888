"""A soak run's result: the one-screen summary, every problem with the command that reruns its
scenario alone, the JSON form and the README section."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bargein.bench.soak.checks import PROBLEM_KINDS, Problem
from bargein.bench.soak.scenario import ScenarioOutcome

__all__ = ["SoakResult", "outcome_lines"]

_LABELS = {"hang": "hangs", "exception": "exceptions", "lost_turn": "lost turns",
           "history_mismatch": "history mismatches", "double_answer": "double answers",
           "unexpected_error": "unexpected errors"}


@dataclass
class SoakResult:
    """Every outcome of a soak run (sorted by scenario index) and how to rerun one.

    ``command`` reruns the whole run; :meth:`reproduce` gives the command that reruns one
    scenario alone. ``wall``, ``workers`` and ``load`` (the machine's mean 1-minute load
    average during the run) describe this run only. ``planned``: how many scenarios the run
    was to have (more than the outcomes: a checkpoint of a run still going, or stopped)."""

    seed: int
    setups: list[dict[str, Any]]
    outcomes: list[ScenarioOutcome] = field(default_factory=list)
    command: str = "bargein soak"
    wall: float = 0.0
    workers: int = 1
    load: float = 0.0
    planned: int | None = None

    def __post_init__(self) -> None:
        self.outcomes.sort(key=lambda o: o.index)

    @property
    def problems(self) -> list[tuple[ScenarioOutcome, Problem]]:
        """Every problem with its scenario, in scenario order."""
        return [(o, p) for o in self.outcomes for p in o.problems]

    @property
    def failed(self) -> bool:
        """True if any scenario had a problem."""
        return any(o.problems for o in self.outcomes)

    def counts(self) -> dict[str, int]:
        """Problems of each kind (every kind listed, zeros included)."""
        out = dict.fromkeys(PROBLEM_KINDS, 0)
        for _, p in self.problems:
            out[p.kind] = out.get(p.kind, 0) + 1
        return out

    @property
    def simulated(self) -> float:
        """Seconds of calls simulated."""
        return sum(o.simulated for o in self.outcomes)

    @property
    def partial(self) -> str:
        """``""`` for a finished run, else a sentence saying how far it got."""
        if self.planned is None or len(self.outcomes) >= self.planned:
            return ""
        return (f"Stopped early: {len(self.outcomes)} of the {self.planned} scenarios "
                "finished (the figures are for those).")

    def reproduce(self, index: int) -> str:
        """The command that reruns scenario ``index`` alone."""
        return f"{self.command} --only {index}"

    def turns(self) -> dict[str, Any]:
        """The caller's utterances with real words: how many, answered, excused (by reason)."""
        excused: dict[str, int] = {}
        for o in self.outcomes:
            for reason, n in (o.turns.excused or {}).items():
                excused[reason] = excused.get(reason, 0) + n
        return {"utterances": sum(o.turns.utterances for o in self.outcomes),
                "answered": sum(o.turns.answered for o in self.outcomes),
                "excused": dict(sorted(excused.items(), key=lambda kv: -kv[1]))}

    def mix(self) -> dict[str, Any]:
        """What was run: scenarios per setup, with a fault, per recognizer."""
        per_setup: dict[str, int] = {}
        stts: dict[str, int] = {}
        for o in self.outcomes:
            per_setup[o.setup] = per_setup.get(o.setup, 0) + 1
            stts[o.stt] = stts.get(o.stt, 0) + 1
        return {"scenarios": len(self.outcomes), "setups": per_setup,
                "faults": sum(o.fault is not None for o in self.outcomes), "stt": stts}

    # -- text ----------------------------------------------------------------------------------

    def summary_lines(self) -> list[str]:
        """The one-screen summary."""
        mix, turns, counts = self.mix(), self.turns(), self.counts()
        n, sim = mix["scenarios"], self.simulated
        rate = n / self.wall if self.wall else 0.0
        speed = sim / self.wall if self.wall else 0.0
        stts = ", ".join(f"{k} {v}" for k, v in sorted(mix["stt"].items()))
        excused = sum(turns["excused"].values())
        reasons = ", ".join(f"{r} {k}" for r, k in turns["excused"].items())
        return [
            f"bargein soak: {n} scenarios, seed {self.seed}, {len(mix['setups'])} setups, "
            f"{self.workers} worker(s), load average {self.load:.1f}",
            f"  simulated {sim:.0f} s of calls in {self.wall:.0f} s of wall time: "
            f"{rate:.2f} scenarios/s, {speed:.1f}x real time",
            f"  agents: {mix['faults']} with an injected fault; recognizers: {stts}",
            f"  caller: {turns['utterances']} utterances with real words, "
            f"{turns['answered']} answered; {excused} excused"
            + (f" ({reasons})" if reasons else ""),
            "  problems: " + " · ".join(f"{_LABELS[k]} {v}" for k, v in counts.items()),
        ] + ([f"  {self.partial}"] if self.partial else [])

    def problem_lines(self, limit: int | None = None) -> list[str]:
        """Each problem in two lines: what, then the command that reruns its scenario."""
        lines: list[str] = []
        for outcome in self.outcomes:
            lines += outcome_lines(outcome, self.command)
        if limit is not None and len(lines) > 2 * limit:
            more = (len(lines) - 2 * limit) // 2
            lines = [*lines[:2 * limit], f"... and {more} more (see --json)"]
        return lines

    # -- data ----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; everything but ``speed`` is the same for the same command."""
        return {
            "seed": self.seed,
            "command": self.command,
            "planned": self.planned if self.planned is not None else len(self.outcomes),
            "setups": self.setups,
            "mix": self.mix(),
            "problems": self.counts(),
            "turns": self.turns(),
            "scenarios": [o.to_dict() for o in self.outcomes],
            "speed": {"wall_seconds": round(self.wall, 1), "workers": self.workers,
                      "load_average": round(self.load, 2),
                      "simulated_seconds": round(self.simulated, 1),
                      "scenarios_per_second": round(len(self.outcomes) / self.wall, 3)
                      if self.wall else None},
        }

    def dumps(self) -> str:
        """The JSON with one scenario per line."""
        data = self.to_dict()
        scenarios = data.pop("scenarios")
        head = json.dumps(data, indent=1)[:-2]
        body = ",\n".join("  " + json.dumps(s) for s in scenarios)
        return f'{head},\n "scenarios": [\n{body}\n ]\n}}\n'

    def readme_section(self, machine: str, command: str | None = None) -> str:
        """The generated part of the README's soak section: the command that made it
        (default: :attr:`command`), tables, speed."""
        mix, turns, counts = self.mix(), self.turns(), self.counts()
        per_setup = self._per_setup()
        rows = ["| setup | scenarios | with a fault | real STT | utterances | answered | "
                "excused | problems |", "|---|---|---|---|---|---|---|---|"]
        for name, r in per_setup.items():
            rows.append(f"| {name} | {r['scenarios']} | {r['faults']} | {r['real_stt']} | "
                        f"{r['utterances']} | {r['answered']} | {r['excused']} | "
                        f"{r['problems']} |")
        reasons = ", ".join(f"{r} {k}" for r, k in turns["excused"].items()) or "none"
        speed = self.simulated / self.wall if self.wall else 0.0
        return "\n".join([
            *([f"**{self.partial}**", ""] if self.partial else []),
            f"Command: `{command or self.command}`. {mix['scenarios']} scenarios, "
            f"seed {self.seed}; "
            f"{mix['faults']} with one injected fault; recognizers: "
            + ", ".join(f"{k} {v}" for k, v in sorted(mix["stt"].items())) + ".",
            "",
            "| " + " | ".join(_LABELS[k] for k in counts) + " |",
            "|" + "---|" * len(counts),
            "| " + " | ".join(str(v) for v in counts.values()) + " |",
            "",
            *rows,
            "",
            f"Caller utterances with real words: {turns['utterances']}, answered "
            f"{turns['answered']}; excused by a documented reason: {reasons}.",
            "",
            f"Speed: {self.simulated:.0f} s of calls simulated in {self.wall:.0f} s of wall "
            f"time on {machine} with {self.workers} worker(s), mean load average "
            f"{self.load:.1f}: {speed:.1f}x real time, "
            f"{len(self.outcomes) / self.wall if self.wall else 0:.2f} scenarios/s.",
        ])

    def _per_setup(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for o in self.outcomes:
            r = out.setdefault(o.setup, dict.fromkeys(
                ("scenarios", "faults", "real_stt", "utterances", "answered", "excused",
                 "problems"), 0))
            r["scenarios"] += 1
            r["faults"] += o.fault is not None
            r["real_stt"] += o.stt != "oracle"
            r["utterances"] += o.turns.utterances
            r["answered"] += o.turns.answered
            r["excused"] += sum((o.turns.excused or {}).values())
            r["problems"] += len(o.problems)
        return dict(sorted(out.items()))


def outcome_lines(outcome: ScenarioOutcome, command: str) -> list[str]:
    """The problems of one scenario, each with the command that reruns it alone."""
    lines: list[str] = []
    for p in outcome.problems:
        at = f" at {p.time:.2f} s" if p.time is not None else ""
        lines.append(f"[{p.kind}] scenario {outcome.index} ({outcome.setup}, {outcome.stt} "
                     f"STT, fault {outcome.fault or 'none'}){at}: {p.detail}")
        lines.append(f"    reproduce: {command} --only {outcome.index}")
    return lines
