"""A private copy of a shared library that nothing can leave behind on disk.

:mod:`bargein.providers._espeak_lib` loads its own copy of espeak-ng, afresh for every
synthesis, so that no other user of the library in the process shares its state. Where the
copy lives:

- On Linux, in an anonymous memory file (``memfd_create``) loaded through
  ``/proc/self/fd/N``. There is no file on disk, so nothing is left behind however the process
  ends (Ctrl+C, SIGTERM, SIGHUP, even SIGKILL), and the kernel frees it with the process.
- Elsewhere, or where the memory file cannot be loaded (``/proc`` missing, memfd execution
  forbidden), in a temporary folder named ``bargein-lib-<pid>-...``. It is removed at normal
  exit; a signal that kills the process skips that, so each process removes the folders of
  processes that no longer exist when it makes its own.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import shutil
import sys
import tempfile
from pathlib import Path

_PREFIX = "bargein-lib-"
#: memfd descriptors kept open for the life of the process (closing one frees the copy).
_open_fds: list[int] = []


def private_copy(source: str, name: str) -> str:
    """A path that ``ctypes.CDLL`` can load as often as needed: a copy of the library at
    ``source``, private to this process, with the file name ``name``."""
    path = _memory_copy(source, name)
    return path if path is not None else _folder_copy(source, name)


def unload(lib: ctypes.CDLL) -> None:
    """Unload a library loaded with ``ctypes.CDLL`` (the next load starts afresh)."""
    import _ctypes

    if sys.platform == "win32":
        _ctypes.FreeLibrary(lib._handle)  # type: ignore[attr-defined]
    else:
        _ctypes.dlclose(lib._handle)  # type: ignore[attr-defined]


def _memory_copy(source: str, name: str) -> str | None:
    create = getattr(os, "memfd_create", None)
    if create is None or not os.path.isdir("/proc/self/fd"):
        return None
    fd = -1
    try:
        fd = create(name, getattr(os, "MFD_CLOEXEC", 0))
        with open(source, "rb") as src, os.fdopen(os.dup(fd), "wb") as dst:
            shutil.copyfileobj(src, dst)
        path = f"/proc/self/fd/{fd}"
        unload(ctypes.CDLL(path))  # it must load here, or the folder copy is used
    except OSError:
        if fd >= 0:
            os.close(fd)
        return None
    _open_fds.append(fd)
    return path


def _folder_copy(source: str, name: str) -> str:
    _sweep_dead_folders()
    folder = tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = os.path.join(folder, name)
    shutil.copyfile(source, path)
    return path


def _sweep_dead_folders() -> None:
    """Remove the copies of processes that ended without cleaning up (killed by a signal)."""
    if sys.platform == "win32":  # os.kill(pid, 0) would terminate the process there
        return
    for folder in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        pid = folder.name[len(_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, owned by someone else
        return True
    return True
