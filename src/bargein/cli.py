"""The ``bargein`` command line: thin wiring to the library (no logic of its own)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bargein.errors import BargeinError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Build and test voice agents that handle interruptions well.")
console = Console(soft_wrap=True)  # paths and reasons must stay copyable
err = Console(stderr=True, soft_wrap=True)


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(2)


@app.command()
def run(
    paths: list[Path] = typer.Argument(..., help="Scenario files or folders."),  # noqa: B008
    seed: int | None = typer.Option(None, help="Seed for every scenario (default: their own)."),
    report: Path = typer.Option(Path("out/reports"), "--report",  # noqa: B008
                                help="Where HTML/JSON/WAV reports go."),
    live: bool = typer.Option(False, "--live", help="Run in real time instead of simulation."),
) -> None:
    """Run scenarios; exit code 1 if any fails."""
    from bargein.scenario.suite import collect, run_suite

    try:
        entries = collect(paths)
    except BargeinError as exc:
        _fail(str(exc))
    if not entries:
        _fail("no scenarios found in " + ", ".join(str(p) for p in paths))
    started = time.perf_counter()  # wall-clock-ok: reported run time
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}"
                  "/{task.total}"), TimeElapsedColumn(), console=console,
                  transient=True) as progress:
        task = progress.add_task("running scenarios", total=len(entries))

        def done(entry):  # type: ignore[no-untyped-def]
            mark = "[green]PASS[/]" if entry.passed else "[red]FAIL[/]"
            progress.console.print(f"{mark} {entry.scenario.name}", highlight=False)
            progress.advance(task)

        results = run_suite(entries, seed=seed, live=live, report_dir=report, on_done=done)
    _summary(results, time.perf_counter() - started)  # wall-clock-ok
    failed = [e for e in results if not e.passed]
    for entry in failed:
        reason = entry.error or (entry.result.reasoning if entry.result else "")
        where = f" (report: {entry.report.parent / 'report.html'})" if entry.report else ""
        err.print(f"[red]FAILED[/] {entry.scenario.name}: {reason}{where}", highlight=False)
    console.print(f"reports: {report / 'index.html'}")
    raise typer.Exit(1 if failed else 0)


def _summary(results, wall: float) -> None:  # type: ignore[no-untyped-def]
    table = Table(title="bargein scenarios")
    # short headers: CI logs are 80 columns wide
    for col in ("scenario", "result", "stop p50", "reply p50", "false int.", "audio", "wall"):
        table.add_column(col, justify="left" if col == "scenario" else "right",
                         no_wrap=col != "scenario")
    for e in results:
        r = e.result
        if r is None:
            table.add_row(e.scenario.name, "[red]ERROR[/]", "", "", "", "", "")
            continue
        s = r.metrics.summary()
        table.add_row(
            e.scenario.name, "[green]PASS[/]" if e.passed else "[red]FAIL[/]",
            _ms(s["stop_latency_p50"]), _ms(s["response_latency_p50"]),
            "-" if s["false_interruption_rate"] is None else f"{s['false_interruption_rate']:.0%}",
            f"{r.duration:.1f} s", f"{r.wall_seconds:.1f} s")
    console.print(table)
    passed = sum(e.passed for e in results)
    console.print(f"{passed}/{len(results)} passed in {wall:.1f} s")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f} ms"


@app.command()
def demo(
    report: Path = typer.Option(Path("out/demo"), "--report", help="Where to write the report."),  # noqa: B008
) -> None:
    """Run the example agents against the example scenarios, offline, and write the report."""
    folder = _examples_folder()
    if folder is None:
        _fail("the example scenarios were not found: run `bargein demo` from a clone of the "
              "bargein repository (they live in examples/scenarios)")
    console.print(f"bargein demo: the example scenarios in {folder}, simulated offline\n")
    run([folder], seed=None, report=report, live=False)


def _examples_folder() -> Path | None:
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        candidate = base / "examples" / "scenarios"
        if candidate.is_dir():
            return candidate
    return None


def main() -> None:
    """Entry point of the ``bargein`` command."""
    try:
        app()
    except BargeinError as exc:  # anything a command did not turn into a message itself
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
