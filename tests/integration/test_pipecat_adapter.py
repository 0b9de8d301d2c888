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


class Tally:
    """A bargein STT around another that notes which audio reaches the recognizer."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.pushed: list[tuple[float, float]] = []  # (stream time, seconds)
        self.skipped = 0.0

    @property
    def capabilities(self):  # type: ignore[no-untyped-def]
        return self.inner.capabilities

    async def recognize(self, audio):  # type: ignore[no-untyped-def]
        return await self.inner.recognize(audio)

    def stream(self, sample_rate: int):  # type: ignore[no-untyped-def]
        stream = self.inner.stream(sample_rate)
        push, skip = stream.push_frame, stream.skip

        def push_frame(frame):  # type: ignore[no-untyped-def]
            self.pushed.append((stream.time, frame.duration))
            push(frame)

        def skip_seconds(seconds: float) -> None:
            self.skipped += seconds
            skip(seconds)

        stream.push_frame, stream.skip = push_frame, skip_seconds
        return stream


@needs_pipecat
@pytest.mark.parametrize("preroll", [1.0, None])
def test_the_recognizer_hears_the_callers_speech_and_not_the_silence(preroll):
    """With Pipecat's VAD in the pipeline, bargein's STT service sends the recognizer only
    the caller's speech (from ``preroll`` before the VAD's start): a streaming decoder must
    not spend a live bot's CPU on a silent line. ``preroll=None`` sends everything."""
    from pipecat.frames.frames import LLMRunFrame
    from pipecat.processors.aggregators.llm_context import LLMContext
    from pipecat.processors.aggregators.llm_response_universal import (
        LLMContextAggregatorPair,
        LLMUserAggregatorParams,
    )

    from bargein import pipecat as offline
    from bargein.adapters.pipecat import PipecatAdapter
    from bargein.providers.oracle_stt import OracleSTT

    tallies: list[Tally] = []

    def build(context):  # type: ignore[no-untyped-def]
        tallies.append(Tally(OracleSTT(context.truth)))
        llm_context = LLMContext([{"role": "system", "content": "You are a support agent."}])
        user, assistant = LLMContextAggregatorPair(
            llm_context, user_params=LLMUserAggregatorParams(vad_analyzer=offline.VADAnalyzer()))
        bot = example("interrupt_user").worker(
            [context.transport.input(), offline.STT(tallies[-1], preroll=preroll), user,
             offline.LLM(), offline.TTS(voice="en-gb+f3"), context.transport.output(),
             assistant], context.sample_rate)

        @bot.event_handler("on_pipeline_started")
        async def greet(_worker, _frame):  # type: ignore[no-untyped-def]
            await bot.queue_frames([LLMRunFrame()])

        return bot

    result = scenario.run("gate", agent=PipecatAdapter(build), script=[
        scenario.agent(), scenario.silence(3.0), scenario.user(QUESTION), scenario.agent()])
    assert result.success, result.reasoning
    [tally] = tallies
    [question] = result.utterances
    pushed = sum(seconds for _, seconds in tally.pushed)
    spoke = question.end - question.onset
    print(f"\npreroll {preroll}: recognizer got {pushed:.2f} s, skipped {tally.skipped:.2f} s "
          f"of a {result.duration:.1f} s call (the caller spoke {spoke:.2f} s)")
    assert "unlimited projects" in result.timeline.of("agent_message")[-1].data["text"]
    if preroll is None:
        assert tally.skipped == 0.0 and pushed > result.duration - 1.0
        return
    # all of the question, from its pre-roll to the VAD's stop (0.2 s of silence and more)
    first, last = tally.pushed[0][0], tally.pushed[-1][0] + tally.pushed[-1][1]
    assert first < question.onset - 0.5 and last > question.end
    assert pushed < spoke + preroll + 1.0
    assert tally.skipped > result.duration - 10.0  # the greeting and the silence: skipped


@needs_pipecat
def test_a_bad_preroll_is_refused():
    from bargein import pipecat as offline

    for bad in (-0.5, float("nan"), float("inf"), "1", True):
        with pytest.raises(ValueError, match="preroll must be None or a number of seconds"):
            offline.STT.oracle(preroll=bad)


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
