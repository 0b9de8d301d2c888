"""The ``bargein`` command line: thin wiring to the library (no logic of its own).

The commands live in :mod:`bargein.commands` (importing them registers them on ``app``);
this module is the entry point, :func:`main`.
"""

from __future__ import annotations

import sys

import typer

from bargein.commands.common import app, error_line, ray_alone

# isort: off
# Importing a command module registers its commands; this order is the order of `--help`.
from bargein.commands import scenarios  # noqa: F401
from bargein.commands import live  # noqa: F401
from bargein.commands import bench  # noqa: F401
# isort: on
from bargein.errors import BargeinError

__all__ = ["app", "main"]


#: click's exception base (typer vendors its own click in recent versions: take it from there).
_USAGE_ERRORS = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def main() -> None:
    """Entry point of the ``bargein`` command.

    Exit codes: 0 success, 1 a scenario failed, 2 bad input (usage, a scenario file or a
    path that cannot work, a missing extra), each told in one ``error:`` line on stderr.
    """
    try:
        code = app(args=ray_alone(sys.argv[1:]), standalone_mode=False)
    except _USAGE_ERRORS as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # the help was printed already
            sys.exit(exc.exit_code)
        where = getattr(exc, "ctx", None)
        hint = f" (see: {where.command_path} --help)" if where is not None else ""
        error_line(exc.format_message() + hint)
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except BargeinError as exc:  # anything a command did not turn into a message itself
        error_line(str(exc))
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
