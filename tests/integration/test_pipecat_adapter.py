"""Pipecat pipelines under bargein scenarios: offline, in virtual time, measured on the recording.

The pipelines are real Pipecat pipelines (``examples/pipecat/``): Pipecat's transports, user
and assistant aggregators, turn strategies and interruption frames; only the services are
bargein's offline ones.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from bargein import scenario
from bargein.errors import BargeinError, MissingExtraError
from bargein.text import normalize_words, word_error_rate

pytestmark = pytest.mark.integration

try:
    import pipecat  # noqa: F401

    HAVE_PIPECAT = True
except ImportError:
    HAVE_PIPECAT = False

needs_pipecat = pytest.mark.skipif(
    not HAVE_PIPECAT, reason="pipecat-ai is not installed (pip install 'bargein[pipecat]')")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "pipecat"
FRAME = 0.02
QUESTION = "Tell me about your product features."
BARGE_IN = "Sorry, what are your business hours?"


def example(name: str):  # type: ignore[no-untyped-def]
    """The Pipecat example ``name`` under its own module name (other example folders have
    files with the same names)."""
    key = f"pipecat_example_{name}"
    if key not in sys.modules:
        if str(EXAMPLES) not in sys.path:
            sys.path.insert(0, str(EXAMPLES))
        spec = importlib.util.spec_from_file_location(key, EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


def adapter(name: str = "interrupt_user"):  # type: ignore[no-untyped-def]
    from bargein.adapters.pipecat import PipecatAdapter

    return PipecatAdapter(example(name).build, name=f"pipecat {name}")


def audible(result, start: float, end: float) -> float:  # type: ignore[no-untyped-def]
    """Share of 20 ms frames in [start, end) where the agent is audible."""
    agent, rate = result.recording.stereo[:, 1], result.recording.sample_rate
    frames = [agent[round(t * rate): round((t + FRAME) * rate)]
              for t in np.arange(start, end - FRAME / 2, FRAME)]
    return float(np.mean([np.abs(f).max() > 64 for f in frames if len(f)]))


def heard_words(result, start: float, stop: float) -> list[str]:  # type: ignore[no-untyped-def]
    return [w for e in result.timeline.of("agent_words") if start - 0.05 <= e.time < stop
            for w in e.data["words"]]


def barge_in_script(mode: str) -> list:  # type: ignore[type-arg]
    return [scenario.agent(), scenario.user(QUESTION),
            scenario.interrupt(BARGE_IN, after=1.5, mode=mode), scenario.agent()]


@needs_pipecat
def test_vad_barge_in_stops_the_pipeline_and_pipecat_keeps_what_was_heard():
    result = scenario.run("vad barge-in", agent=adapter(), script=barge_in_script("vad"))
    assert result.success, result.reasoning
    barge_in = result.utterances[1]
    [stop] = result.metrics.stop_latency
    # Pipecat's default: the VAD confirms speech after start_secs=0.2 s, then interrupts
    assert 0.2 <= stop <= 0.2 + 0.3
    assert audible(result, barge_in.onset + stop + FRAME, barge_in.end) == 0.0
    [cut] = [e for e in result.timeline.of("agent_message") if e.data["interrupted"]]
    answer_start = max(s.start for s in result.recording.segments
                       if s.party == "agent" and s.start < barge_in.onset)
    heard = " ".join(heard_words(result, answer_start, barge_in.onset + stop))
    print(f"\nheard (recording): {heard!r}\nPipecat recorded: {cut.data['text']!r}")
    # Pipecat's context keeps the words it played before the interruption
    assert normalize_words(heard)[:3] == normalize_words(cut.data["text"])[:3]
    assert word_error_rate(heard, cut.data["text"]) <= 0.25
    assert result.metrics.truncation_accuracy is not None
    assert result.metrics.truncation_accuracy >= 0.75
    # then it answered the new question
    assert "hours" in result.timeline.of("agent_message")[-1].data["text"]


@needs_pipecat
def test_native_cancel_stops_within_a_frame_of_the_barge_in():
    result = scenario.run("native barge-in", agent=adapter(), script=barge_in_script("native"))
    assert result.success, result.reasoning
    barge_in = result.utterances[1]
    assert result.metrics.stop_latency[0] <= FRAME
    assert audible(result, barge_in.onset + FRAME, barge_in.end) == 0.0
    reasons = [e.data["reason"] for e in result.timeline.of("agent_interrupted")]
    assert reasons[0] == "forced"
    cut = [e for e in result.timeline.of("agent_message") if e.data["interrupted"]]
    assert cut and result.metrics.truncation_accuracy is not None


@needs_pipecat
def test_uninterruptible_answer_plays_to_the_end_over_the_caller():
    result = example("uninterruptable").SCENARIO.run()
    assert result.success, result.reasoning
    over = result.utterances[0]
    assert audible(result, over.onset, over.end) > 0.9
    messages = result.timeline.of("agent_message")
    assert [m.data["interrupted"] for m in messages] == [False]
    assert messages[0].data["text"].endswith("That concludes my overview of paper sizes.")


@needs_pipecat
def test_talkative_caller_is_cut_in_on_while_still_talking():
    result = example("interrupt_user").SCENARIO.run()
    assert result.success, result.reasoning
    monologue = result.utterances[0]
    cut_in_at = min(s.start for s in result.recording.segments
                    if s.party == "agent" and s.start > monologue.onset)
    assert cut_in_at < monologue.end  # cut in while the caller was still talking
    messages = [m.data for m in result.timeline.of("agent_message")]
    cut_in = messages.index({"text": "Sorry, can I pause you there?", "interrupted": False})
    reply = messages[cut_in + 1]
    assert not reply["interrupted"] and reply["text"].startswith("I hear you")
    assert "bill" in reply["text"]
    # uninterruptible: the phrase kept playing although the caller talked over it
    assert audible(result, cut_in_at, cut_in_at + 1.2) > 0.9


@needs_pipecat
def test_same_script_gives_the_same_wav_bytes():
    def once() -> bytes:
        return scenario.run("det", agent=adapter(), script=barge_in_script("vad"),
                            ).recording.stereo_wav()

    assert once() == once()


@needs_pipecat
def test_a_factory_that_returns_no_worker_or_forgets_the_room_is_named():
    from pipecat.pipeline.pipeline import Pipeline
    from pipecat.pipeline.worker import PipelineWorker

    from bargein import pipecat as offline
    from bargein.adapters.pipecat import PipecatAdapter

    with pytest.raises(TypeError, match="must return a pipecat PipelineWorker, got str"):
        scenario.run("wrong type", agent=PipecatAdapter(lambda ctx: "a pipeline"),
                     script=[scenario.agent()])
    no_room = PipecatAdapter(lambda ctx: PipelineWorker(Pipeline([offline.TTS()])))
    with pytest.raises(BargeinError, match=r"context\.transport\.input"):
        scenario.run("no room", agent=no_room, script=[scenario.agent()])


def test_without_the_extra_the_adapter_names_bargein_pipecat(monkeypatch):
    for name in list(sys.modules):
        if name == "pipecat" or name.startswith(("pipecat.", "bargein.adapters.pipecat",
                                                 "bargein.pipecat")):
            monkeypatch.delitem(sys.modules, name)
    real_import = builtins.__import__

    def hide_pipecat(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name == "pipecat" or name.startswith("pipecat."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", hide_pipecat)
    monkeypatch.setitem(sys.modules, "pipecat", None)  # importlib.import_module too
    for module in ("bargein.adapters.pipecat", "bargein.pipecat"):
        with pytest.raises(ImportError, match=r"bargein\[pipecat\]") as info:
            importlib.import_module(module)
        assert isinstance(info.value, MissingExtraError)
