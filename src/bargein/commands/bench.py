"""``bargein bench`` and ``bargein soak``: the interruption benchmark and the soak run."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from bargein._paths import writable_file
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

__all__ = ["bench_command", "soak_command"]


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
    workers: int | None = typer.Option(None, "--workers", help=WORKERS_HELP),
    ray: str | None = typer.Option(None, "--ray", metavar="[ADDRESS]", help=RAY_HELP),
) -> None:
    """Run the interruption benchmark against bargein's agent and print the table."""
    from bargein import bench
    from bargein.adapters.bench_agent import select_settings

    processes = worker_count(workers)
    check_ray(ray)
    try:
        chosen = select_settings(setting, turn_limit_sentences=bench.TURN_LIMIT_SENTENCES)
    except ValueError as exc:
        fail(str(exc))
    if cases < 1:
        fail(f"--cases must be at least 1, got {cases}")
    try:
        for option, target in (("--json", json_path), ("--plot", plot)):
            if target is not None:
                writable_file(target, option)
    except BargeinError as exc:
        fail(str(exc))
    readme = None
    if write_readme:
        base = examples_folder()
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
        fail("--setups needs at least one setup name")
    try:
        chosen = select_setups(names) if names or not agent else []
    except ValueError as exc:
        fail(str(exc))
    for file in agent:
        if not file.is_file() or file.suffix != ".py":
            fail(f"--agent {file}: no such agent file (a .py file defining build_session())")
        try:
            load_agent_file(file)  # a file that cannot load fails here, not in every worker
        except BargeinError as exc:
            fail(str(exc))
        chosen.append(AgentFileSetup(str(file.resolve())))
    if len({s.name for s in chosen}) != len(chosen):
        fail("two setups have the same name: " + ", ".join(s.name for s in chosen))
    if scenarios < 1:
        fail(f"--scenarios must be at least 1, got {scenarios}")
    processes = worker_count(workers)
    if not wall_limit > 0 or wall_limit == float("inf"):
        fail(f"--wall-limit must be a number of seconds > 0, got {wall_limit}")
    if any(k < 0 for k in only):
        fail("--only takes scenario numbers >= 0")
    try:
        if json_path is not None:
            writable_file(json_path, "--json")
    except BargeinError as exc:
        fail(str(exc))
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
            base = examples_folder()
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
