"""Checks that a place to write results is usable, made before the work that fills it.

A report folder that turns out to be unwritable after a ten-minute run loses the run; these
checks run first and raise :class:`~bargein.errors.OutputPathError` with one line that names
the option, the path and the reason.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bargein.errors import OutputPathError


def writable_folder(path: str | Path, what: str, *, given: Path | None = None) -> Path:
    """``path`` as a folder that exists (made, with its parents, if needed) and in which a
    file can be written. ``what`` names it in errors, e.g. ``"--report"``; ``given`` is the
    path the user gave, when it is a file in that folder."""
    folder = Path(path)
    shown = given if given is not None else folder
    if folder.exists() and not folder.is_dir():
        raise OutputPathError(f"{what} {shown}: {folder} is a file, not a folder"
                              if given is not None else f"{what} {folder}: is a file, not a "
                              "folder")
    blocking = next((p for p in folder.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise OutputPathError(f"{what} {shown}: {blocking} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise OutputPathError(f"{what} {shown}: cannot write in {folder} "
                              f"({exc.strerror or type(exc).__name__})") from None
    return folder


def writable_file(path: str | Path, what: str) -> Path:
    """``path`` as a file that can be written: not a folder, in a folder that exists (made
    if needed) and is writable, and writable itself if it already exists."""
    file = Path(path)
    if file.is_dir():
        raise OutputPathError(f"{what} {file}: is a folder; give a file name")
    writable_folder(file.parent, what, given=file)
    if file.exists() and not os.access(file, os.W_OK):
        raise OutputPathError(f"{what} {file}: the file exists and is not writable")
    return file
