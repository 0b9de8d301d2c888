"""``bargein console --text`` in a pseudo-terminal: a line typed while the agent speaks is a
real barge-in (the agent's own Silero VAD and pocketsphinx + Whisper STT hear the typed line
spoken by espeak), the agent's words stop appearing, and it answers the line."""

from __future__ import annotations

import io
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from bargein.audio import read_stereo_wav

pytestmark = pytest.mark.integration
pexpect = pytest.importorskip("pexpect")

ROOT = Path(__file__).resolve().parents[2]
AGENT_FILE = ROOT / "examples" / "agents" / "interrupt_user.py"
LINE = re.compile(r"^\s*(\d+\.\d+)  (\S+)\s+(.*)$")


def _spawn(args: list[str], log: io.StringIO):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = pexpect.spawn(sys.executable, args, cwd=str(ROOT), env=env, encoding="utf-8",
                          timeout=60, dimensions=(50, 220))
    child.logfile_read = log
    return child


def _lines(text: str) -> list[tuple[float, str, str]]:
    out = []
    for raw in text.replace("\r", "").splitlines():
        m = LINE.match(raw)
        if m:  # a late event ends with "(at <when it happened>)": keep the text alone
            what = re.sub(r" \(at \d+\.\d+\)$", "", m.group(3))
            out.append((float(m.group(1)), m.group(2), what))
    return out


def test_typing_over_the_agent_stops_it_and_the_agent_answers_the_line(tmp_path):
    wav = tmp_path / "console.wav"
    log = io.StringIO()
    child = _spawn(["-m", "bargein.cli", "console", str(AGENT_FILE), "--text",
                    "--record", str(wav)], log)
    child.expect(r"text mode")
    for _ in range(4):  # the greeting is being played: a few words have appeared
        child.expect(r"agent    \[1\] \S+")
    child.sendline("What are your business hours?")
    child.expect(r"\[1\] INTERRUPTED \(barge_in\), heard: ")
    child.expect(r"stt      final: ")
    child.expect(r"agent    \[2\] available", timeout=40)  # "...support team is available"
    child.sendintr()  # Ctrl+C
    child.expect(r"recording: ")
    child.expect(r"bye")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, log.getvalue()[-3000:]

    lines = _lines(log.getvalue())
    times = [t for t, _, _ in lines]
    assert times == sorted(times), "console lines out of time order"
    cut = next(i for i, (_, who, what) in enumerate(lines)
               if who == "agent" and what.startswith("[1] INTERRUPTED (barge_in)"))
    typed_at = next(t for t, who, what in lines if who == "you" and what.startswith("typed:"))
    spoken_words = [what[4:] for _, who, what in lines[:cut]
                    if who == "agent" and re.match(r"\[1\] [^ ]+$", what)]
    heard = re.search(r"heard: (['\"])(.*)\1$", lines[cut][2]).group(2)
    # the words shown as they played are exactly the words the session says were heard
    def bare(text: str) -> str:
        return re.sub(r"[^\w\s']", "", text)

    assert bare(" ".join(spoken_words)) == bare(heard)
    # after the barge-in, not one more word of the greeting
    later_greeting = [what for _, who, what in lines[cut + 1:] if who == "agent"
                      and re.match(r"\[1\] [^ ]+$", what)]
    assert later_greeting == [], later_greeting
    # the cut came within a second of the typed line starting to sound
    cut_at = lines[cut][0]
    assert 0.3 < cut_at - typed_at < 1.5, (typed_at, cut_at)
    # the user's final transcript is the line; the agent's next speech answers it
    final = next(what for _, who, what in lines if who == "stt" and what.startswith("final"))
    assert "business hours" in final.lower()
    reply = " ".join(what[4:] for _, who, what in lines if who == "agent"
                     and re.match(r"\[2\] [^ ]+$", what))
    assert "support team is available" in reply.replace(",", "")
    # the stereo recording: left (the typed line, spoken) overlaps right (the agent) only
    # briefly, then the agent is silent until its answer
    audio, rate = read_stereo_wav(wav)
    assert audio.ndim == 2 and audio.shape[1] == 2 and rate == 16000

    def loud(channel: np.ndarray) -> np.ndarray:
        frames = channel[: len(channel) // 160 * 160].astype(np.float64).reshape(-1, 160)
        return np.sqrt((frames ** 2).mean(axis=1)) > 100  # 10 ms windows

    user, agent = loud(audio[:, 0]), loud(audio[:, 1])
    onset = int(np.flatnonzero(user)[0])
    agent_after = np.flatnonzero(agent[onset:])
    gap = np.flatnonzero(np.diff(agent_after) > 50)  # first silence of over 0.5 s
    stop = (agent_after[gap[0]] if gap.size else agent_after[-1]) * 0.01
    assert 0.3 < stop < 1.2, f"the agent kept sounding {stop:.2f} s into the barge-in"
    print(f"\nbarge-in: typed at {typed_at:.2f} s, decided at {cut_at:.2f} s; on the "
          f"recording the agent fell silent {stop:.2f} s after the user's onset; heard: "
          f"{heard!r}")
