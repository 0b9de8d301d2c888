"""Log records and Python warnings emitted while a scenario runs, kept instead of printed.

Libraries under test log on their own: LiveKit Agents warns "skipping reply to user input"
when a turn lands on uninterruptible speech, and about deprecated options. Without a logging
handler, Python prints such records on stderr, in the middle of ``bargein run``'s progress
lines. :func:`capture_logs` collects them (and warnings) as text lines for the scenario's
report folder, where they sit next to the recording they explain.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from typing import Any

_FORMAT = logging.Formatter("%(levelname)s %(name)s: %(message)s")


class _ListHandler(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.NOTSET)
        self.lines = lines
        self.setFormatter(_FORMAT)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a record that cannot be formatted must not break the run
            self.handleError(record)


@contextlib.contextmanager
def capture_logs() -> Iterator[list[str]]:
    """Within the block, log records that reach the root logger and warnings that would be
    shown become lines of the yielded list (in the order they happened), not stderr output.

    Loggers keep their levels: a record is captured when Python would have shown it
    (WARNING and above by default).
    """
    lines: list[str] = []
    handler = _ListHandler(lines)
    root = logging.getLogger()
    root.addHandler(handler)

    def show(message: Any, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        lines.append(f"WARNING {category.__name__}: {message} ({filename}:{lineno})")

    try:
        with warnings.catch_warnings():
            warnings.showwarning = show
            yield lines
    finally:
        root.removeHandler(handler)
