"""The ``bargein`` command line: thin wiring to the library (no logic of its own)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bargein._paths import writable_file, writable_folder
from bargein.errors import BargeinError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Build and test voice agents that handle interruptions well.")
console = Console(soft_wrap=True)  # paths and reasons must stay copyable
err = Console(stderr=True, soft_wrap=True)


_WORKERS_HELP = "Worker processes (default: the machine's cores; 1 runs in this process)."
_RAY_HELP = ("Run as Ray tasks (extra 'ray'): --ray alone (last, or before another option) "
             "starts Ray on this machine, --ray=ADDRESS joins a running cluster (e.g. "
             "--ray=auto, --ray=ray://head:10001).")


def _check_ray(ray: str | None) -> None:
    """Refuse --ray at once when its extra is missing (before any work)."""
    if ray is not None:
        from bargein.parallel.ray_tasks import require_ray

        require_ray()


def _ray_alone(argv: list[str]) -> list[str]:
    """``--ray`` without an address (last, or followed by another option) means Ray on this
    machine: click has no option with an optional value, so it is spelled out here."""
    from bargein.parallel import RAY_LOCAL

    out = []
    for i, arg in enumerate(argv):
        follower = argv[i + 1] if i + 1 < len(argv) else None
        if arg == "--ray" and (follower is None or follower.startswith("-")):
            out.append(f"--ray={RAY_LOCAL}")
        else:
            out.append(arg)
    return out


def _workers(workers: int | None) -> int:
    """--workers, checked (default: the machine's cores)."""
    from bargein.parallel import available_cores

    if workers is None:
        return available_cores()
    if workers < 1:
        _fail(f"--workers must be at least 1, got {workers}")
    return workers


def _fail(message: str) -> None:
    _error_line(message)
    raise typer.Exit(2)


def _error_line(message: str) -> None:
    # escape(): "pip install 'bargein[local]'" must not lose "[local]" as console markup
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)


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
    workers: int | None = typer.Option(None, "--workers", help=_WORKERS_HELP),
    ray: str | None = typer.Option(None, "--ray", metavar="[ADDRESS]", help=_RAY_HELP),
) -> None:
    """Run scenarios; exit code 1 if any fails."""
    from bargein.scenario.suite import LOG_FILE, collect, run_suite

    processes = _workers(workers)
    _check_ray(ray)
    try:
        writable_folder(report, "--report")
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
    folder = _examples_folder()
    if folder is None:
        _fail("the example scenarios were not found: run `bargein demo` from a clone of the "
              "bargein repository (they live in examples/scenarios)")
    console.print(f"bargein demo: the example scenarios in {folder}, simulated offline\n")
    run([folder], seed=None, report=report, live=False, embed_audio=True, workers=None,
        ray=None)


def _examples_folder() -> Path | None:
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        candidate = base / "examples" / "scenarios"
        if candidate.is_dir():
            return candidate
    return None


_STT_HELP = ("local: pocketsphinx interims + Whisper finals; whisper: Whisper finals only "
             "(lighter); oracle: the typed words, no recognition (console --text only)")


@app.command("console")
def console_command(
    path: Path = typer.Argument(..., help="Agent file (.py) defining build_session()."),  # noqa: B008
    text: bool = typer.Option(False, "--text",
                              help="Type lines; the local TTS says them to the agent."),
    record: Path | None = typer.Option(None, "--record",  # noqa: B008
                                       help="Write the stereo recording to this WAV file."),
    stt: str = typer.Option("local", "--stt", help=_STT_HELP),
) -> None:
    """Talk to an agent in the terminal, live (microphone, or typed lines with --text)."""
    from bargein.live.agent_file import STT_CHOICES, load_agent_file
    from bargein.live.console import main as run_console

    if stt not in STT_CHOICES or (stt == "oracle" and not text):
        _fail(f"--stt must be one of {', '.join(STT_CHOICES)} (oracle only with --text)")
    if record is not None:
        if record.suffix.lower() != ".wav":
            _fail(f"--record {record}: the recording is a WAV file; give a name ending in .wav")
        writable_file(record, "--record")
    raise typer.Exit(run_console(load_agent_file(path), text=text, record=record, stt=stt))


@app.command("serve")
def serve_command(
    path: Path = typer.Argument(..., help="Agent file (.py) defining build_session()."),  # noqa: B008
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind."),
    port: int = typer.Option(8765, "--port", help="Port (0: any free port)."),
    token: str | None = typer.Option(None, "--token", envvar="BARGEIN_TOKEN",
                                     help="Required on /ws when binding beyond loopback."),
    stt: str = typer.Option("local", "--stt", help=_STT_HELP),
    record: Path | None = typer.Option(None, "--record",  # noqa: B008
                                       help="Folder for one stereo WAV per conversation."),
    protocol: str = typer.Option("bargein", "--protocol",
                                 help="bargein: the page and /ws; realtime: the OpenAI "
                                      "Realtime protocol on /v1/realtime."),
    allow_host: list[str] = typer.Option([], "--allow-host",  # noqa: B008
                                         help="Another Host name clients use (NAME or "
                                              "NAME:PORT; repeatable), e.g. a proxy's."),
    max_sessions: int | None = typer.Option(None, "--max-sessions",
                                            help="Open sessions at most (default: the "
                                                 "measured capacity for --stt on this "
                                                 "machine's cores)."),
    busy_lag: float = typer.Option(25.0, "--busy-lag",
                                   help="Refuse new sessions while the server's loop runs "
                                        "this many ms late (median over 2 s)."),
) -> None:
    """Serve an agent over WebSocket with a web page to talk to it in the browser."""
    from bargein.live.agent_file import load_agent_file
    from bargein.live.server import PROTOCOLS
    from bargein.live.server import main as run_server

    if stt not in ("local", "whisper", "oracle"):
        _fail("--stt must be local, whisper or oracle (oracle: clients send 'truth' "
              "messages; for tests)")
    if not 0 <= port <= 65535:
        _fail(f"--port must be between 0 and 65535 (0: any free port), got {port}")
    if protocol not in PROTOCOLS:
        _fail(f"--protocol must be one of {', '.join(PROTOCOLS)}")
    if max_sessions is not None and max_sessions < 1:
        _fail("--max-sessions must be at least 1")
    if not 0 < busy_lag < 60000:  # also refuses NaN
        _fail("--busy-lag must be a number of milliseconds above 0")
    spec = load_agent_file(path)

    def ready(server) -> None:  # type: ignore[no-untyped-def]
        where = (f" (Realtime endpoint ws://{server.host}:{server.port}/v1/realtime)"
                 if server.protocol == "realtime" else "")
        console.print(f"bargein serve: {spec.name} on {server.url}{where} ({server.protocol} "
                      f"protocol, at most {server.max_sessions} sessions; Ctrl+C to stop)",
                      highlight=False)

    raise typer.Exit(run_server(spec, host=host, port=port, token=token, stt=stt,
                                record_dir=record, protocol=protocol,
                                allowed_hosts=allow_host, max_sessions=max_sessions,
                                busy_lag=busy_lag / 1000, on_ready=ready))


@app.command("bench")
def bench_command(
    cases: int = typer.Option(300, "--cases", help="Number of labelled cases."),
    seed: int = typer.Option(0, "--seed", help="Seed of the case generator."),
    setting: list[str] = typer.Option([], "--setting",  # noqa: B008
                                      help="A setting of the sweep (repeatable; default: all)."),
    json_path: Path | None = typer.Option(None, "--json", help="Write the JSON result here."),  # noqa: B008
    plot: Path | None = typer.Option(None, "--plot", help="Write the SVG plot here."),  # noqa: B008
    write_readme: bool = typer.Option(False, "--write-readme",
                                      help="Update the table in benchmarks/README.md."),
    workers: int | None = typer.Option(None, "--workers", help=_WORKERS_HELP),
    ray: str | None = typer.Option(None, "--ray", metavar="[ADDRESS]", help=_RAY_HELP),
) -> None:
    """Run the interruption benchmark against bargein's agent and print the table."""
    from bargein import bench
    from bargein.adapters.bench_agent import select_settings

    processes = _workers(workers)
    _check_ray(ray)
    try:
        chosen = select_settings(setting, turn_limit_sentences=bench.TURN_LIMIT_SENTENCES)
    except ValueError as exc:
        _fail(str(exc))
    if cases < 1:
        _fail(f"--cases must be at least 1, got {cases}")
    try:
        for option, target in (("--json", json_path), ("--plot", plot)):
            if target is not None:
                writable_file(target, option)
    except BargeinError as exc:
        _fail(str(exc))
    readme = None
    if write_readme:
        base = _examples_folder()
        readme = (base.parents[1] if base else Path.cwd()) / "benchmarks" / "README.md"
    data = bench.run_benchmark(chosen, cases, seed, workers=processes, ray=ray)
    bench.write_outputs(data, json_path=json_path, plot_path=plot, readme=readme,
                        command=f"bargein bench --cases {cases} --seed {seed}")
    console.print(bench.markdown_table(data), highlight=False)
    console.print(bench.targets_note(data), highlight=False)
    console.print(bench.speed_line(data, bench.machine()), highlight=False)


@app.command("soak")
def soak_command(
    scenarios: int = typer.Option(100, "--scenarios", help="Number of random scenarios."),
    seed: int = typer.Option(0, "--seed", help="Seed of the run (scenario K of seed S is "
                             "always the same)."),
    setups: str | None = typer.Option(
        None, "--setups", help="Built-in setups to draw from, comma-separated (default: all; "
        "none when --agent is given)."),
    agent: list[Path] = typer.Option([], "--agent",  # noqa: B008
                                     help="An agent file (.py, as for console/serve) to soak "
                                     "as a setup (repeatable)."),
    only: list[int] = typer.Option([], "--only",  # noqa: B008
                                   help="Run only scenario K (repeatable): a failure alone."),
    workers: int | None = typer.Option(
        None, "--workers", help="Worker processes (default: the machine's cores); each "
        "scenario runs in one, killed after --wall-limit."),
    wall_limit: float = typer.Option(600.0, "--wall-limit",
                                     help="Wall seconds a scenario may take (then: a hang)."),
    json_path: Path | None = typer.Option(None, "--json", help="Write every outcome here."),  # noqa: B008
    write_readme: bool = typer.Option(False, "--write-readme",
                                      help="Update the soak section of benchmarks/README.md."),
) -> None:
    """Run random seeded calls against agent setups; exit code 1 if any has a problem."""
    from bargein import bench
    from bargein.adapters.soak_agent import AgentFileSetup, select_setups
    from bargein.bench import soak
    from bargein.live.agent_file import load_agent_file

    names = [n.strip() for n in setups.split(",") if n.strip()] if setups is not None else []
    if setups is not None and not names:
        _fail("--setups needs at least one setup name")
    try:
        chosen = select_setups(names) if names or not agent else []
    except ValueError as exc:
        _fail(str(exc))
    for file in agent:
        if not file.is_file() or file.suffix != ".py":
            _fail(f"--agent {file}: no such agent file (a .py file defining build_session())")
        try:
            load_agent_file(file)  # a file that cannot load fails here, not in every worker
        except BargeinError as exc:
            _fail(str(exc))
        chosen.append(AgentFileSetup(str(file.resolve())))
    if len({s.name for s in chosen}) != len(chosen):
        _fail("two setups have the same name: " + ", ".join(s.name for s in chosen))
    if scenarios < 1:
        _fail(f"--scenarios must be at least 1, got {scenarios}")
    processes = _workers(workers)
    if not wall_limit > 0 or wall_limit == float("inf"):
        _fail(f"--wall-limit must be a number of seconds > 0, got {wall_limit}")
    if any(k < 0 for k in only):
        _fail("--only takes scenario numbers >= 0")
    try:
        if json_path is not None:
            writable_file(json_path, "--json")
    except BargeinError as exc:
        _fail(str(exc))
    command = f"bargein soak --seed {seed}"
    command += f" --setups {','.join(names)}" if names else ""
    command += "".join(f" --agent {file}" for file in agent)
    made = f"bargein soak --scenarios {scenarios}" + command[len("bargein soak"):]
    made += f" --workers {processes}"

    def save(result: soak.SoakResult) -> None:
        """Write what was asked for (also every 100 scenarios: a long run stopped early
        keeps what it did)."""
        if json_path is not None:
            json_path.write_text(result.dumps())
        if write_readme:
            base = _examples_folder()
            readme = (base.parents[1] if base else Path.cwd()) / "benchmarks" / "README.md"
            soak.update_readme(readme, result, bench.machine(), made)

    result = soak.run_soak(scenarios, seed=seed, setups=chosen, only=only or None,
                           workers=processes, wall_limit=wall_limit, command=command,
                           progress=lambda line: err.print(escape(line), highlight=False),
                           checkpoint=save)
    for line in result.summary_lines() + result.problem_lines():
        console.print(escape(line), highlight=False)
    save(result)
    raise typer.Exit(1 if result.failed else 0)


#: click's exception base (typer vendors its own click in recent versions: take it from there).
_USAGE_ERRORS = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def main() -> None:
    """Entry point of the ``bargein`` command.

    Exit codes: 0 success, 1 a scenario failed, 2 bad input (usage, a scenario file or a
    path that cannot work, a missing extra), each told in one ``error:`` line on stderr.
    """
    try:
        code = app(args=_ray_alone(sys.argv[1:]), standalone_mode=False)
    except _USAGE_ERRORS as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # the help was printed already
            sys.exit(exc.exit_code)
        where = getattr(exc, "ctx", None)
        hint = f" (see: {where.command_path} --help)" if where is not None else ""
        _error_line(exc.format_message() + hint)
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except BargeinError as exc:  # anything a command did not turn into a message itself
        _error_line(str(exc))
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
