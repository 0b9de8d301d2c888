"""The capability matrix in docs/capabilities.md is the one the adapters' code declares."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bargein.adapters import BargeinAgentAdapter, Capabilities
from bargein.adapters.matrix import (
    BEGIN,
    END,
    barge_in_path,
    capability_matrix,
    is_up_to_date,
    known_adapters,
    main,
    render_section,
    replace_section,
)

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "capabilities.md"
COLUMNS = ["adapter", "streaming_transcripts", "native_vad", "interruption", "dtmf",
           "sample_rates", "barge-in path"]


def parse(table: str) -> list[dict[str, str]]:
    lines = [line.strip() for line in table.strip().splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header == COLUMNS
    assert all(set(c.strip()) == {"-"} for c in lines[1].strip("|").split("|"))
    return [dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True))
            for line in lines[2:]]


def test_committed_doc_matches_the_code():
    text = DOC.read_text()
    assert render_section(capability_matrix()) in text
    assert is_up_to_date(DOC)


def test_check_command_passes_on_the_committed_doc():
    proc = subprocess.run([sys.executable, "-m", "bargein.adapters.matrix", "--check",
                           str(DOC)], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_rows_and_columns():
    rows = {row["adapter"]: row for row in parse(capability_matrix())}
    assert list(rows)[:2] == ["bargein (full)", "bargein (limited)"]
    # livekit and pipecat with their extras installed; twilio and realtime always (lazy imports)
    assert set(list(rows)[2:]) <= {"livekit", "pipecat", "twilio", "realtime"}
    assert "twilio" in rows and "realtime" in rows
    assert (rows["twilio"]["native_vad"], rows["twilio"]["interruption"],
            rows["twilio"]["barge-in path"]) == ("yes", "no", "VAD")
    full, limited = rows["bargein (full)"], rows["bargein (limited)"]
    realtime = rows["realtime"]
    assert (realtime["streaming_transcripts"], realtime["native_vad"],
            realtime["interruption"], realtime["barge-in path"]) == ("yes", "yes", "yes",
                                                                    "native")
    assert (full["streaming_transcripts"], full["native_vad"], full["interruption"]) == (
        "yes", "yes", "yes")
    assert full["barge-in path"] == "native"
    assert (limited["streaming_transcripts"], limited["interruption"]) == ("no", "no")
    assert limited["native_vad"] == "yes"
    assert limited["barge-in path"] == "VAD"
    for row in rows.values():
        assert row["sample_rates"] == "8000, 16000, 24000"


def test_table_follows_the_declared_capabilities():
    for mode in ("full", "limited"):
        adapter = BargeinAgentAdapter(lambda ctx: None, mode=mode)  # type: ignore[arg-type,return-value]
        assert known_adapters()[adapter.name] == adapter.capabilities
    custom = {"phone line": Capabilities(False, False, False, dtmf=True, sample_rates=(8000,))}
    [row] = parse(capability_matrix(custom))
    assert row == {"adapter": "phone line", "streaming_transcripts": "no", "native_vad": "no",
                   "interruption": "no", "dtmf": "yes", "sample_rates": "8000",
                   "barge-in path": "none"}


def test_barge_in_path_prefers_native():
    assert barge_in_path(Capabilities(False, True, True)) == "native"
    assert barge_in_path(Capabilities(False, False, True)) == "native"
    assert barge_in_path(Capabilities(True, True, False)) == "VAD"
    assert barge_in_path(Capabilities(True, False, False)) == "none"


def test_write_and_check(tmp_path, capsys):
    doc = tmp_path / "caps.md"
    doc.write_text(f"# Title\n\nbefore\n\n{BEGIN}\n| stale |\n{END}\n\nafter\n")
    assert main(["--check", str(doc)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert main(["--write", str(doc)]) == 0
    text = doc.read_text()
    assert text.startswith("# Title\n\nbefore\n\n") and text.endswith("\n\nafter\n")
    assert capability_matrix() in text and "| stale |" not in text
    assert main(["--check", str(doc)]) == 0
    assert main(["--write", str(doc)]) == 0
    assert "already up to date" in capsys.readouterr().out


def test_doc_without_markers_is_an_error(tmp_path, capsys):
    with pytest.raises(ValueError, match="matrix:begin"):
        replace_section("no markers here", capability_matrix())
    doc = tmp_path / "caps.md"
    doc.write_text("no markers\n")
    assert main(["--check", str(doc)]) == 2
    assert "matrix:begin" in capsys.readouterr().err
