"""The example agents behave like the recipes they reproduce, on the audio timeline.

Each example is run in simulation by importing it and calling ``simulate_call`` (real Silero
VAD on real espeak speech, oracle STT), then once as a subprocess exactly as documented.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bargein.agent import DEFAULT_CUT_IN_PHRASE
from bargein.audio import read_stereo_wav
from bargein.sim import run_simulation
from bargein.text import normalize_words

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "agents"


def load_example(name: str):
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


def run_example(*args: str) -> str:
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def interrupt_call():
    example = load_example("interrupt_user")
    return example, run_simulation(example.simulate_call())


@pytest.fixture(scope="module")
def uninterruptable_call():
    example = load_example("uninterruptable")
    return example, run_simulation(example.simulate_call())


# -- interrupt_user ------------------------------------------------------------------------


def test_turn_limit_fires_during_the_callers_third_sentence(interrupt_call):
    example, result = interrupt_call
    assert example.build_session.__doc__
    exceeded = result.named("user_turn_exceeded")
    assert len(exceeded) == 1
    event = exceeded[0]
    assert event.reason == "sentences" and event.sentences == 3
    ends = result.marks["sentence_ends"]
    assert len(ends) == 6  # a six-sentence monologue, as scripted
    assert ends[2] < event.time < ends[3]


def test_cut_in_starts_while_the_caller_is_still_talking(interrupt_call):
    _, result = interrupt_call
    event = result.marks["cut_in"]
    monologue = result.utterances[0]
    first_agent = result.room.first_agent_sample_after(event.time)
    assert first_agent is not None
    assert event.time <= first_agent < monologue.end
    # ...and the polite caller then stopped before the end of the monologue.
    assert monologue.cancelled and monologue.end < result.marks["sentence_ends"][-1]


def test_cut_in_and_refocus_reply_are_uninterrupted(interrupt_call):
    _, result = interrupt_call
    assert len(result.speeches) == 3  # greeting, cut-in phrase, refocus reply
    greeting, cut_in, reply = result.speeches
    assert not greeting.interrupted
    assert cut_in.text == DEFAULT_CUT_IN_PHRASE
    for handle in (cut_in, reply):
        assert not handle.allow_interruptions
        assert not handle.interrupted
        assert handle.heard_text == handle.text
    assistant = [m for m in result.history if m.role == "assistant"]
    assert [m.content for m in assistant] == [greeting.text, cut_in.text, reply.text]
    assert not any(m.interrupted for m in assistant)
    assert cut_in.started_at < reply.started_at  # the phrase first, then the reply
    assert not result.named("agent_interrupted")


def test_refocus_reply_acknowledges_what_the_caller_said(interrupt_call):
    example, result = interrupt_call
    reply = result.speeches[2]
    said = set(normalize_words(example.CALLER_MONOLOGUE)) - {"i", "a", "the", "my", "and"}
    quoted = said & set(normalize_words(reply.text))
    assert {"calling", "bill"} <= quoted
    users = [m for m in result.history if m.role == "user"]
    assert len(users) == 1  # the cut-off monologue, taken as one turn
    assert "My sister had the very same problem" in users[0].content
    assert "tenants" not in users[0].content  # sentences after the cut were not taken


# -- uninterruptable -----------------------------------------------------------------------


def test_long_reply_plays_to_its_end_over_the_caller(uninterruptable_call):
    example, result = uninterruptable_call
    assert example.UninterruptableAgent().allow_interruptions is False
    reply, over = result.marks["reply"], result.marks["barge_in"]
    assert not reply.allow_interruptions
    assert not reply.interrupted
    assert reply.started_at < over.start and over.end < reply.ended_at
    assert not result.named("agent_interrupted")
    assert not result.named("agent_false_interruption")
    # the agent track is audible without a break all the while the caller speaks
    spans = result.room.agent_audible_spans()
    assert any(a <= over.start and over.end <= b for a, b in spans), spans
    # the full text went into the history, not truncated
    assistant = [m for m in result.history if m.role == "assistant"]
    assert len(assistant) == 1
    assert assistant[0].content == reply.text == example.LONG_AND_DULL
    assert not assistant[0].interrupted


def test_words_said_over_it_are_discarded(uninterruptable_call):
    example, result = uninterruptable_call
    users = [m.content for m in result.history if m.role == "user"]
    assert users == [example.LONG_REQUEST]
    assert len(result.speeches) == 1  # no reply to the words said over it
    transcripts = result.named("user_input_transcribed")
    assert transcripts and all(t.discarded for t in transcripts)
    assert any(t.is_final and "refunds" in t.transcript for t in transcripts)


def test_keep_option_answers_after_the_uninterruptible_reply():
    example = load_example("uninterruptable")
    result = run_simulation(example.simulate_call(discard_audio_if_uninterruptible=False))
    reply = result.marks["reply"]
    assert not reply.interrupted
    users = [m.content for m in result.history if m.role == "user"]
    assert users == [example.LONG_REQUEST, example.CALLER_OVER_IT]
    assert len(result.speeches) == 2
    assert result.speeches[1].started_at >= reply.ended_at
    assert "refund" in result.speeches[1].text.lower()


# -- run as documented ---------------------------------------------------------------------


def test_interrupt_user_runs_as_documented(tmp_path):
    out = run_example("examples/agents/interrupt_user.py", "--out", str(tmp_path))
    assert "USER TURN EXCEEDED (sentences: 3 sentences" in out
    assert f"speech 2 audio starts: {DEFAULT_CUT_IN_PHRASE!r}" in out
    assert "while the caller was still talking" in out
    assert "cut-in interrupted: False; reply interrupted: False" in out
    samples, rate = read_stereo_wav(tmp_path / "conversation.wav")
    assert rate == 16000 and samples.shape[1] == 2
    assert np.abs(samples[:, 0]).max() > 0 and np.abs(samples[:, 1]).max() > 0
    assert (tmp_path / "conversation-mono.wav").exists()


def test_uninterruptable_runs_as_documented(tmp_path):
    out = run_example("examples/agents/uninterruptable.py", "--out", str(tmp_path))
    assert "no barge-in, it keeps playing" in out
    assert "DISCARDED" in out
    assert "speech 1 ends, played to the end" in out
    assert "caller's words kept for the next turn: no (discarded)" in out
    assert (tmp_path / "conversation.wav").exists()


@pytest.mark.parametrize("name", ["interrupt_user", "uninterruptable"])
def test_console_text_mode_runs_the_example_and_exits_cleanly(name):
    proc = subprocess.run([sys.executable, f"examples/agents/{name}.py", "console", "--text"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert "text mode" in proc.stdout and "[1] done (played to the end)" in proc.stdout
