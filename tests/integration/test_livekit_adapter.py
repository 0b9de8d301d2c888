"""LiveKit Agents under bargein scenarios: the two recipe agents, offline, in virtual time.

The agents of ``examples/livekit/`` are real LiveKit ``Agent``/``AgentSession`` objects (only
their providers are bargein's plugins). Every behaviour is checked on the recording.
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
from bargein.errors import MissingExtraError
from bargein.text import normalize_words, word_error_rate

pytestmark = pytest.mark.integration

try:
    import livekit.agents  # noqa: F401

    HAVE_LIVEKIT = True
except ImportError:
    HAVE_LIVEKIT = False

needs_livekit = pytest.mark.skipif(
    not HAVE_LIVEKIT, reason="livekit-agents is not installed (pip install 'bargein[livekit]')")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "livekit"
FRAME = 0.02
QUESTION = "Tell me about your product features."
BARGE_IN = "Sorry, what are your business hours?"
OVER_IT = "Sorry to jump in, can you tell me about refunds instead?"
MONOLOGUE = (
    "Hi, I'm calling because my bill from last month looks wrong. "
    "I moved house in March and I changed my address on your website. "
    "My sister had the very same problem with her phone company last year. "
    "Anyway, the letters kept going to my old flat for weeks after that. "
    "The new tenants only passed some of them on to me. "
    "So now there is a late fee on my account and I don't know why."
)


def example(name: str):  # type: ignore[no-untyped-def]
    """The LiveKit example file ``name``, under its own module name: examples/agents has
    files with the same names, and whichever is imported first must not shadow the other."""
    key = f"livekit_example_{name}"
    if key not in sys.modules:
        if str(EXAMPLES) not in sys.path:
            sys.path.insert(0, str(EXAMPLES))
        spec = importlib.util.spec_from_file_location(key, EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


def adapter(name: str):  # type: ignore[no-untyped-def]
    from bargein.adapters.livekit import LiveKitAgentAdapter

    return LiveKitAgentAdapter(example(name).build, name=f"livekit {name}")


def agent_track(result) -> tuple[np.ndarray, int]:  # type: ignore[no-untyped-def]
    return result.recording.stereo[:, 1], result.recording.sample_rate


def audible(result, start: float, end: float) -> float:  # type: ignore[no-untyped-def]
    """Share of 20 ms frames in [start, end) where the agent is audible."""
    agent, rate = agent_track(result)
    frames = [agent[round(t * rate): round((t + FRAME) * rate)]
              for t in np.arange(start, end - FRAME / 2, FRAME)]
    return float(np.mean([np.abs(f).max() > 64 for f in frames if len(f)]))


def heard_words(result, start: float, stop: float) -> list[str]:  # type: ignore[no-untyped-def]
    return [w for e in result.timeline.of("agent_words") if start - 0.05 <= e.time < stop
            for w in e.data["words"]]


# -- barge-in recovery: unrolled and sugar forms --------------------------------------------------

@needs_livekit
def test_barge_in_recovery_unrolled_and_sugar_forms_on_the_interrupt_user_agent():
    head = [scenario.agent(), scenario.user(QUESTION)]
    tail = [scenario.agent(), scenario.expect_stopped_within(0.6),
            scenario.expect_reply_addresses_interruption()]
    unrolled = scenario.run("unrolled", agent=adapter("interrupt_user"), script=[
        *head, scenario.agent(wait=False), scenario.user(BARGE_IN), *tail])
    sugar = scenario.run("sugar", agent=adapter("interrupt_user"), script=[
        *head, scenario.interrupt(BARGE_IN), *tail])
    assert unrolled.success, unrolled.reasoning
    assert sugar.success, sugar.reasoning
    # both forms are the same conversation, to the sample
    assert unrolled.timeline.to_list() == sugar.timeline.to_list()
    assert unrolled.recording.stereo_wav() == sugar.recording.stereo_wav()
    # on the recording: the agent fell silent within a frame of the barge-in and then
    # answered the new question
    barge_in = sugar.utterances[1]
    assert sugar.metrics.stop_latency[0] <= FRAME
    assert audible(sugar, barge_in.onset + FRAME, barge_in.end) == 0.0
    reply_start = sugar.recording.segments[-1].start
    assert reply_start > barge_in.end
    assert "hours" in sugar.timeline.of("agent_message")[-1].data["text"]


@needs_livekit
def test_livekit_vad_barge_in_and_its_interrupted_message_against_what_was_heard():
    result = scenario.run("vad barge-in", agent=adapter("interrupt_user"), script=[
        scenario.agent(), scenario.user(QUESTION),
        scenario.interrupt(BARGE_IN, after=1.5, mode="vad"),
        scenario.agent(), scenario.expect_stopped_within(1.2)])
    assert result.success, result.reasoning
    barge_in = result.utterances[1]
    stop = result.metrics.stop_latency[0]
    # LiveKit's default: a barge-in needs 0.5 s of speech (min_duration) before it pauses
    assert 0.5 <= stop <= 0.5 + 0.2
    [cut] = [e for e in result.timeline.of("agent_message") if e.data["interrupted"]]
    reply_start = max(s.start for s in result.recording.segments
                      if s.party == "agent" and s.start < barge_in.onset)
    heard = heard_words(result, reply_start, barge_in.onset + stop)
    recorded = cut.data["text"]
    print(f"\nheard (recording): {' '.join(heard)!r}\nLiveKit recorded: {recorded!r}")
    # LiveKit keeps a prefix of the reply, close to what was heard
    assert normalize_words(" ".join(heard))[:2] == normalize_words(recorded)[:2]
    assert word_error_rate(" ".join(heard), recorded) <= 0.5
    assert result.metrics.truncation_accuracy is not None


# -- uninterruptible speech -----------------------------------------------------------------------

@needs_livekit
def test_uninterruptible_announcement_plays_to_the_end_over_the_caller():
    result = scenario.run("announcement", agent=adapter("uninterruptable"), script=[
        scenario.interrupt(OVER_IT, after=4.0),
        scenario.agent()])
    assert result.success, result.reasoning
    over = result.utterances[0]
    # the agent's audio never stopped while the caller talked over it
    assert audible(result, over.onset, over.end) > 0.9
    # LiveKit's speech boundaries mark it protected: not a failed yield, and it played on
    [m] = result.metrics.interruptions
    assert m.protected and m.not_interrupted
    assert result.metrics.yield_rate is None and result.metrics.stop_latency == []
    messages = result.timeline.of("agent_message")
    assert [m.data["interrupted"] for m in messages] == [False]
    assert messages[0].data["text"].endswith("That concludes my overview of paper sizes.")
    # the caller's words were discarded: no reply about refunds followed
    assert not any("refund" in m.data["text"].lower() for m in messages)


@needs_livekit
def test_barge_in_recovery_script_on_the_uninterruptable_agent_does_not_stop_it():
    result = scenario.run("barge-in on uninterruptible", agent=adapter("uninterruptable"),
                          script=[scenario.agent(wait=False), scenario.user(BARGE_IN),
                                  scenario.agent()])
    assert result.success, result.reasoning
    barge_in = result.utterances[0]
    assert audible(result, barge_in.onset, barge_in.end) > 0.9
    assert not any(m.data["interrupted"] for m in result.timeline.of("agent_message"))


# -- talkative user --------------------------------------------------------------------------------

@needs_livekit
def test_talkative_caller_is_cut_in_on_after_the_third_sentence():
    from bargein.providers.espeak_tts import EspeakTTS
    from bargein.sim import punctuated_words, run_simulation

    result = scenario.run("talkative", agent=adapter("interrupt_user"), script=[
        scenario.agent(), scenario.user(MONOLOGUE), scenario.agent()])
    assert result.success, result.reasoning
    monologue = result.utterances[0]
    speech = run_simulation(EspeakTTS(voice="en-us+m3").synthesize(MONOLOGUE))
    words = punctuated_words(speech)
    first = words[0].start
    ends = [monologue.onset + w.end - first for w in words if w.text.endswith(".")]
    cut_in_at = min(s.start for s in result.recording.segments
                    if s.party == "agent" and s.start > monologue.onset)
    print(f"\nsentence ends {[round(t, 2) for t in ends]}, cut-in audible at {cut_in_at:.2f}")
    # the cut-in came after the third sentence, while the caller was still talking
    assert ends[2] < cut_in_at < ends[3]
    assert cut_in_at < monologue.end
    messages = [m.data for m in result.timeline.of("agent_message")]
    cut_ins = [m for m in messages if m["text"] == "Sorry, can I pause you there?"]
    assert cut_ins and not any(m["interrupted"] for m in messages)
    # uninterruptible: the cut-in phrase kept playing although the caller talked over it
    assert audible(result, cut_in_at, cut_in_at + 1.2) > 0.9
    reply = messages[messages.index(cut_ins[0]) + 1]["text"]
    assert reply.startswith("I hear you") and "bill" in reply


# -- determinism and the extra -----------------------------------------------------------------

@needs_livekit
def test_same_script_gives_the_same_wav_bytes():
    def once() -> bytes:
        return scenario.run("det", agent=adapter("interrupt_user"), script=[
            scenario.agent(), scenario.user(QUESTION), scenario.interrupt(BARGE_IN, after=1.0),
            scenario.agent()]).recording.stereo_wav()

    assert once() == once()


def test_without_the_extra_the_adapter_names_bargein_livekit(monkeypatch):
    for name in list(sys.modules):
        if name == "livekit" or name.startswith(("livekit.", "bargein.adapters.livekit",
                                                 "bargein.livekit")):
            monkeypatch.delitem(sys.modules, name)
    real_import = builtins.__import__

    def hide_livekit(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name == "livekit" or name.startswith("livekit."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", hide_livekit)
    for module in ("bargein.adapters.livekit", "bargein.livekit", "bargein.livekit.plugins"):
        with pytest.raises(ImportError, match=r"bargein\[livekit\]") as info:
            importlib.import_module(module)
        assert isinstance(info.value, MissingExtraError)
