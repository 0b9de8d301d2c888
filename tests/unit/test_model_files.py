"""Pinned model files: missing, tampered and good directories; the verification cache."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from bargein.errors import ModelFileError
from bargein.providers import model_files
from bargein.providers.model_files import (
    PinnedFile,
    clear_verification_cache,
    file_sha256,
    verify_model_dir,
)

HINT = "the example-models package"


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_verification_cache()
    yield
    clear_verification_cache()


def _model_dir(tmp_path: Path) -> tuple[Path, list[PinnedFile]]:
    files = {"model.bin": os.urandom(3 * (1 << 20) + 17), "config.json": b'{"a": 1}\n'}
    pinned = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        pinned.append(PinnedFile(name, hashlib.sha256(data).hexdigest()))
    return tmp_path, pinned


def test_good_directory_passes(tmp_path: Path) -> None:
    directory, pinned = _model_dir(tmp_path)
    assert verify_model_dir(directory, pinned, package_hint=HINT) == directory


def test_file_sha256_matches_hashlib(tmp_path: Path) -> None:
    data = os.urandom(5 * (1 << 20) + 3)  # several chunks and a partial one
    (tmp_path / "f").write_bytes(data)
    assert file_sha256(tmp_path / "f") == hashlib.sha256(data).hexdigest()


def test_missing_file_is_named_with_the_install_hint(tmp_path: Path) -> None:
    directory, pinned = _model_dir(tmp_path)
    (directory / "model.bin").unlink()
    with pytest.raises(ModelFileError) as info:
        verify_model_dir(directory, pinned, package_hint=HINT)
    message = str(info.value)
    assert str(directory / "model.bin") in message
    assert HINT in message
    assert "pip install 'bargein[local]'" in message


def test_tampered_file_names_file_and_both_hashes(tmp_path: Path) -> None:
    directory, pinned = _model_dir(tmp_path)
    path = directory / "model.bin"
    data = bytearray(path.read_bytes())
    data[1000] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError) as info:
        verify_model_dir(directory, pinned, package_hint=HINT)
    message = str(info.value)
    assert "model.bin" in message
    assert pinned[0].sha256 in message
    assert hashlib.sha256(bytes(data)).hexdigest() in message


def test_successful_check_is_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory, pinned = _model_dir(tmp_path)
    calls: list[Path] = []
    real = model_files.file_sha256

    def counting(path):  # type: ignore[no-untyped-def]
        calls.append(Path(path))
        return real(path)

    monkeypatch.setattr(model_files, "file_sha256", counting)
    verify_model_dir(directory, pinned, package_hint=HINT)
    assert len(calls) == 2
    verify_model_dir(directory, pinned, package_hint=HINT)
    assert len(calls) == 2  # nothing re-hashed

    # A changed file (new size/mtime) is hashed again, and caught.
    (directory / "config.json").write_bytes(b'{"a": 2, "b": 3}\n')
    with pytest.raises(ModelFileError, match=r"config\.json"):
        verify_model_dir(directory, pinned, package_hint=HINT)
    assert len(calls) == 3

    clear_verification_cache()
    (directory / "config.json").write_bytes(b'{"a": 1}\n')
    verify_model_dir(directory, pinned, package_hint=HINT)
    assert len(calls) == 5


def test_failed_check_is_not_cached(tmp_path: Path) -> None:
    directory, _ = _model_dir(tmp_path)
    bad = [PinnedFile("config.json", "0" * 64)]
    for _ in range(2):
        with pytest.raises(ModelFileError, match=r"0{64}"):
            verify_model_dir(directory, bad, package_hint=HINT)


def test_pinned_hash_must_be_hex() -> None:
    with pytest.raises(ValueError, match="64 hex digits"):
        PinnedFile("model.bin", "abc")
    assert PinnedFile("x", "A" * 64).sha256 == "a" * 64
