"""What the ``bargein`` commands share: the typer app, the two consoles, and the checks of
options every command words the same way (workers, Ray, one-line errors)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

__all__ = [
    "RAY_HELP",
    "STT_HELP",
    "WORKERS_HELP",
    "app",
    "check_ray",
    "console",
    "err",
    "error_line",
    "examples_folder",
    "fail",
    "ray_alone",
    "worker_count",
]

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Build and test voice agents that handle interruptions well.")
console = Console(soft_wrap=True)  # paths and reasons must stay copyable
err = Console(stderr=True, soft_wrap=True)


WORKERS_HELP = "Worker processes (default: the machine's cores; 1 runs in this process)."
RAY_HELP = ("Run as Ray tasks (extra 'ray'): --ray alone (last, or before another option) "
            "starts Ray on this machine, --ray=ADDRESS joins a running cluster (e.g. "
            "--ray=auto, --ray=ray://head:10001).")


def check_ray(ray: str | None) -> None:
    """Refuse --ray at once when its extra is missing (before any work)."""
    if ray is not None:
        from bargein.parallel.ray_tasks import require_ray

        require_ray()


def ray_alone(argv: list[str]) -> list[str]:
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


def worker_count(workers: int | None) -> int:
    """--workers, checked (default: the machine's cores)."""
    from bargein.parallel import available_cores

    if workers is None:
        return available_cores()
    if workers < 1:
        fail(f"--workers must be at least 1, got {workers}")
    return workers


def fail(message: str) -> None:
    """Print ``message`` as one ``error:`` line and exit with code 2 (bad input)."""
    error_line(message)
    raise typer.Exit(2)


def error_line(message: str) -> None:
    """Print ``message`` as one ``error:`` line on stderr."""
    # escape(): "pip install 'bargein[local]'" must not lose "[local]" as console markup
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)


def examples_folder() -> Path | None:
    """The example scenarios of a bargein checkout (from the working folder, or beside this
    package), or None."""
    for base in (Path.cwd(), Path(__file__).resolve().parents[3]):
        candidate = base / "examples" / "scenarios"
        if candidate.is_dir():
            return candidate
    return None


STT_HELP = ("local: pocketsphinx interims + Whisper finals; whisper: Whisper finals only "
            "(lighter); oracle: the typed words, no recognition (console --text only)")
