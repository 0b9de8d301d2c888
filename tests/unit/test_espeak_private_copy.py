"""bargein's private copy of espeak-ng leaves nothing behind, whatever ends the process
(issue 17 item 16: the temporary folder stayed after SIGTERM and SIGHUP)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("espeakng_loader")
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

# Loads espeak-ng (one synthesis), says where its copy is, then waits to be killed.
SPEAKER = '''
import signal
import sys
# a launcher run under nohup passes on "ignore SIGHUP": give the signal its default action,
# the one a process on a closed terminal gets
signal.signal(signal.SIGHUP, signal.SIG_DFL)
from bargein.providers import _espeak_lib, _private_library
if sys.argv[1] == "folder":  # as where no memory file can be loaded (macOS, no /proc)
    _private_library._memory_copy = lambda *args: None
with _espeak_lib.session() as espeak:
    espeak.synth("Hello there.")
print(_espeak_lib._private_copy()[0], flush=True)
sys.stdin.read()
'''


def start_speaker(tmp: Path, where: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "TMPDIR": str(tmp)}
    proc = subprocess.Popen([sys.executable, "-c", SPEAKER, where], env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    path = proc.stdout.readline().strip()
    assert path, "the speaker did not start"
    return proc, path


def leftovers(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.iterdir())


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL])
def test_nothing_is_left_on_disk_whatever_signal_ends_the_process(tmp_path, sig):
    proc, path = start_speaker(tmp_path, "memory")
    if not path.startswith("/proc/self/fd/"):
        pytest.skip("this system cannot load a library from a memory file")
    assert leftovers(tmp_path) == []
    proc.send_signal(sig)
    assert proc.wait(timeout=60) == -sig
    assert leftovers(tmp_path) == []


def test_a_folder_copy_left_by_a_killed_process_is_removed_by_the_next_one(tmp_path):
    proc, path = start_speaker(tmp_path, "folder")
    folder = Path(path).parent
    assert folder.parent == tmp_path and folder.name.startswith(f"bargein-lib-{proc.pid}-")
    proc.send_signal(signal.SIGTERM)  # atexit handlers do not run
    proc.wait(timeout=60)
    assert leftovers(tmp_path) == [folder.name]
    proc, path = start_speaker(tmp_path, "folder")
    assert leftovers(tmp_path) == [Path(path).parent.name]  # the dead one's folder is gone
    assert proc.stdin is not None
    proc.stdin.close()  # a normal exit removes its own folder
    assert proc.wait(timeout=60) == 0
    assert leftovers(tmp_path) == []
