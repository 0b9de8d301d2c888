"""``bargein run`` and ``bargein demo``: run scenario files and print their table."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bargein._paths import writable_folder
from bargein.commands.common import (
    RAY_HELP,
    WORKERS_HELP,
    app,
    check_ray,
    console,
    err,
    examples_folder,
    fail,
    worker_count,
)
from bargein.errors import BargeinError

__all__ = ["demo", "run"]


@app.command()
def run(
    paths: list[Path] = typer.Argument(..., help="Scenario files or folders."),  # noqa: B008
    seed: int | None = typer.Option(None, help="Seed for every scenario (default: their own)."),
    report: Path = typer.Option(Path("out/reports"), "--report",  # noqa: B008
                                help="Where HTML/JSON/WAV reports go."),
    live: bool = typer.Option(False, "--live", help="Run in real time instead of simulation."),
    embed_audio: bool = typer.Option(
        True, "--embed-audio/--link-audio",
        help="Put each recording inside its report page (default), or link the WAV file."),
    workers: int | None = typer.Option(None, "--workers", help=WORKERS_HELP),
    ray: str | None = typer.Option(None, "--ray", metavar="[ADDRESS]", help=RAY_HELP),
) -> None:
    """Run scenarios; exit code 1 if any fails."""
    from bargein.scenario.suite import LOG_FILE, collect, run_suite

    processes = worker_count(workers)
    check_ray(ray)
    try:
        writable_folder(report, "--report")
        entries = collect(paths)
    except BargeinError as exc:
        fail(str(exc))
    if not entries:
        fail("no scenarios found in " + ", ".join(str(p) for p in paths))
    started = time.perf_counter()  # wall-clock-ok: reported run time
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}"
                  "/{task.total}"), TimeElapsedColumn(), console=console,
                  transient=True) as progress:
        task = progress.add_task("running scenarios", total=len(entries))

        def done(entry):  # type: ignore[no-untyped-def]
            mark = "[green]PASS[/]" if entry.passed else "[red]FAIL[/]"
            progress.console.print(f"{mark} {escape(entry.scenario.name)}", highlight=False)
            progress.advance(task)

        results = run_suite(entries, seed=seed, live=live, report_dir=report, on_done=done,
                            embed_audio=embed_audio, workers=processes, ray=ray)
    _summary(results, time.perf_counter() - started)  # wall-clock-ok
    failed = [e for e in results if not e.passed]
    for entry in failed:
        reason = entry.error or (entry.result.reasoning if entry.result else "")
        where = [f"report: {entry.report.parent / 'report.html'}"] if entry.report else []
        where += [f"log: {entry.log_file}"] if entry.log_file else []
        where_text = f" ({', '.join(where)})" if where else ""
        err.print(f"[red]FAILED[/] {escape(entry.scenario.name)}: {escape(reason)}"
                  f"{escape(where_text)}", highlight=False)
    logged = sum(len(e.log) for e in results)
    if logged:
        console.print(f"{logged} log line(s) and warning(s) from the agents under test were "
                      f"kept in their report folders ({LOG_FILE}), not printed here",
                      highlight=False)
    console.print(f"reports: {escape(str(report / 'index.html'))}", highlight=False)
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
            table.add_row(escape(e.scenario.name), "[red]ERROR[/]", "", "", "", "", "")
            continue
        s = r.metrics.summary()
        table.add_row(
            escape(e.scenario.name), "[green]PASS[/]" if e.passed else "[red]FAIL[/]",
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
    folder = examples_folder()
    if folder is None:
        fail("the example scenarios were not found: run `bargein demo` from a clone of the "
              "bargein repository (they live in examples/scenarios)")
    console.print(f"bargein demo: the example scenarios in {folder}, simulated offline\n")
    run([folder], seed=None, report=report, live=False, embed_audio=True, workers=None,
        ray=None)
