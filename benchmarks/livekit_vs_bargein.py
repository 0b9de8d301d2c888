"""bargein's own agent vs a LiveKit Agents agent vs a Pipecat pipeline, on the same scenarios.

The three agents are the "interrupt user" recipe (``examples/agents/interrupt_user.py``,
``examples/livekit/interrupt_user.py`` and ``examples/pipecat/interrupt_user.py``) on the same
offline providers: Silero VAD, espeak-ng TTS, the rule-based LLM, the oracle STT. Each runs
with its framework's **default interruption settings**. Every scenario runs in bargein's
virtual-time loop; every figure is measured on the recording.

Scenarios (one run each, same seed):

- ``barge-in``: greeting, a question, then the caller barges in 1.5 s into the answer with a
  question of their own (audio only: the agent's VAD must stop it), then the answer.
- ``backchannel``: the same, but the caller only says "Uh-huh, yeah." 2 s into the answer.
- ``native``: the barge-in with the adapter's cancel signal along with the audio.

    .venv/bin/python benchmarks/livekit_vs_bargein.py            # print the table
    .venv/bin/python benchmarks/livekit_vs_bargein.py --write    # also into benchmarks/README.md

Under the table: Pipecat's end-of-turn model (smart-turn v3.2) on each of the caller's lines,
since it decides how long the Pipecat pipeline waits before it replies.

``--write`` replaces the part of ``benchmarks/README.md`` between ``<!-- livekit:begin -->``
and ``<!-- livekit:end -->`` (the section "bargein vs LiveKit Agents" is added if missing).
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import platform
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "agents"))  # for the examples' _common module

from bargein import scenario  # noqa: E402
from bargein.adapters import BargeinAgentAdapter, BuildContext  # noqa: E402
from bargein.adapters.base import AgentAdapter  # noqa: E402
from bargein.audio.levels import audible_spans  # noqa: E402
from bargein.markers import markers, update_file  # noqa: E402
from bargein.text import word_error_rate  # noqa: E402

README = ROOT / "benchmarks" / "README.md"
BEGIN, END = markers("livekit")
SECTION = "## bargein vs LiveKit Agents vs Pipecat"

QUESTION = "Tell me about your product features."
BARGE_IN = "Sorry, what are your business hours?"
BACKCHANNEL = "Uh-huh, yeah."


def _load(path: Path, name: str) -> Any:
    """Import an example file under its own module name (both examples are interrupt_user)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def bargein_adapter() -> AgentAdapter:
    from _common import local_providers

    example = _load(ROOT / "examples" / "agents" / "interrupt_user.py", "bargein_interrupt_user")

    def build(context: BuildContext) -> Any:
        return example.InterruptingAgent(), example.build_session(local_providers(context.truth))

    return BargeinAgentAdapter(build, name="bargein")


def livekit_adapter() -> AgentAdapter:
    from bargein.adapters.livekit import LiveKitAgentAdapter

    example = _load(ROOT / "examples" / "livekit" / "interrupt_user.py", "livekit_interrupt_user")
    return LiveKitAgentAdapter(example.build, name="livekit")


def pipecat_adapter() -> AgentAdapter:
    from bargein.adapters.pipecat import PipecatAdapter

    sys.path.insert(0, str(ROOT / "examples" / "pipecat"))  # for the example's _pipeline module
    example = _load(ROOT / "examples" / "pipecat" / "interrupt_user.py", "pipecat_interrupt_user")
    return PipecatAdapter(example.build, name="pipecat")


def scripts() -> dict[str, list[Any]]:
    head = [scenario.agent(), scenario.user(QUESTION)]
    return {
        "barge-in": [*head, scenario.interrupt(BARGE_IN, after=1.5, mode="vad"),
                     scenario.agent()],
        "backchannel": [*head, scenario.interrupt(BACKCHANNEL, after=2.0, mode="vad"),
                        scenario.agent()],
        "native": [*head, scenario.interrupt(BARGE_IN, after=1.5, mode="native"),
                   scenario.agent()],
    }


def heard_vs_recorded(result: Any) -> tuple[str, str] | None:
    """(words heard on the recording, text the agent recorded) for the first cut message."""
    cut = [e for e in result.timeline.of("agent_message") if e.data["interrupted"]]
    barge = [u for u in result.utterances if u.barge_in and not u.backchannel]
    if not cut or not barge or not result.metrics.interruptions:
        return None
    measure = result.metrics.interruptions[0]
    if measure.stopped_at is None:
        return None
    starts = [s.start for s in result.recording.segments
              if s.party == "agent" and s.start < barge[0].onset]
    if not starts:
        return None
    heard = [w for e in result.timeline.of("agent_words")
             if max(starts) - 0.05 <= e.time < measure.stopped_at for w in e.data["words"]]
    return " ".join(heard), cut[0].data["text"]


def backchannel_outcome(result: Any) -> str:
    """What the agent did when the caller only said "Uh-huh, yeah." over its answer."""
    rate = result.metrics.false_interruption_rate
    if rate is None:
        return "n/a"
    if not rate:
        return "kept talking"
    u = next(u for u in result.utterances if u.backchannel)
    cut = any(e.data["interrupted"] for e in result.timeline.of("agent_message"))
    resumed = [e for e in result.timeline.of("agent_false_interruption") if e.data["resumed"]]
    if cut:
        return "stopped for good: answer cut, then a reply to the backchannel"
    # the pause on the agent lane: the audible span playing at the onset ends, the next begins
    rec = result.recording
    spans = audible_spans(rec.stereo[:, 1], rec.sample_rate)
    stop = next((i for i, (_, end) in enumerate(spans) if end > u.onset), None)
    if resumed and stop is not None and stop + 1 < len(spans):
        paused, again = spans[stop][1], spans[stop + 1][0]
        return (f"paused {paused - u.onset:.2f} s after its onset, resumed "
                f"{again - paused:.2f} s later (false interruption)")
    return "stopped or paused"


def smart_turn_scores(voice: str = "en-us+m3") -> dict[str, float]:
    """Pipecat's default end-of-turn model (smart-turn v3.2) on each line the caller says:
    the probability that the turn is complete. Below 0.5 Pipecat's turn analyzer waits for
    its ``stop_secs`` (3 s) of silence before it ends the turn.

    The audio is the scenario's: the caller's espeak-ng voice at 16 kHz, fed as Pipecat's
    turn analyzer gets it (0.5 s before the speech, 20 ms frames, the VAD's 0.2 s stop).
    """
    import asyncio

    from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3

    from bargein.audio.frame import concat
    from bargein.providers.espeak_tts import EspeakTTS

    async def score(analyzer: LocalSmartTurnAnalyzerV3, text: str) -> float:
        tts = EspeakTTS(voice=voice, sample_rate=16000)
        speech = concat([chunk.frame async for chunk in tts.stream(text)]).to_int16()
        frame, silence = 320, bytes(2 * 320)
        for _ in range(25):
            analyzer.append_audio(silence, False)
        for i in range(0, len(speech), frame):
            analyzer.append_audio(speech[i:i + frame].tobytes(), True)
        for _ in range(10):
            analyzer.append_audio(silence, False)
        _state, metrics = await analyzer.analyze_end_of_turn()
        analyzer.clear()
        return float(metrics.probability)

    async def all_lines() -> dict[str, float]:
        analyzer = LocalSmartTurnAnalyzerV3()
        analyzer.set_sample_rate(16000)
        return {text: await score(analyzer, text) for text in (QUESTION, BARGE_IN, BACKCHANNEL)}

    return asyncio.run(all_lines())


def run_all(make: Callable[[], AgentAdapter]) -> dict[str, Any]:
    results = {name: scenario.run(name, agent=make(), script=script, seed=0)
               for name, script in scripts().items()}
    return results


def summarize(results: dict[str, Any]) -> dict[str, str]:
    vad, back, native = results["barge-in"], results["backchannel"], results["native"]
    out: dict[str, str] = {}
    out["stop latency, VAD barge-in (s)"] = _s(vad.metrics.stop_latency)
    out["stop latency, native cancel (s)"] = _s(native.metrics.stop_latency)
    out['backchannel "Uh-huh, yeah." over the answer'] = backchannel_outcome(back)
    acc = vad.metrics.truncation_accuracy
    out["history truncation accuracy (1 - WER)"] = "n/a" if acc is None else f"{acc:.2f}"
    pair = heard_vs_recorded(vad)
    if pair is not None:
        heard, recorded = pair
        out["  heard on the recording"] = f'"{heard}"'
        wer = word_error_rate(heard, recorded)
        out["  recorded as interrupted message"] = f'"{recorded}" (WER {wer:.2f})'
    latencies = [x for r in results.values() for x in r.metrics.response_latency]
    out["response latency, median (s)"] = _s(latencies)
    out["response latency, slowest reply (s)"] = f"{max(latencies):.3f}" if latencies else "n/a"
    wall = sum(r.wall_seconds for r in results.values())
    audio = sum(r.duration for r in results.values())
    out["wall time per simulated minute (s)"] = f"{wall / (audio / 60):.2f}"
    out["scenarios passed"] = f"{sum(r.success for r in results.values())}/{len(results)}"
    return out


def _s(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"{statistics.median(values):.3f}"


def table(columns: dict[str, dict[str, str]]) -> str:
    names = list(columns)
    rows = [f"| metric | {' | '.join(names)} |", "|---" * (len(names) + 1) + "|"]
    keys = list(next(iter(columns.values())))
    for key in keys:
        rows.append(f"| {key} | " + " | ".join(columns[n].get(key, "") for n in names) + " |")
    return "\n".join(rows)


def render(columns: dict[str, dict[str, str]], scores: dict[str, float]) -> str:
    from importlib.metadata import version

    cores = os.cpu_count() or 1
    head = (f"Machine: {cores} cores ({platform.machine()}), Python {platform.python_version()}, "
            f"livekit-agents {version('livekit-agents')}, pipecat-ai {version('pipecat-ai')}. "
            "One run, seed 0, virtual time.")
    lines = ", ".join(f'"{text}" {p:.2f}' for text, p in scores.items())
    foot = ("Pipecat's end-of-turn model (smart-turn v3.2) on the caller's lines, probability "
            f"that the turn is complete (below 0.5 Pipecat waits for 3 s of silence): {lines}.")
    return f"{BEGIN}\n{head}\n\n{table(columns)}\n\n{foot}\n{END}"


def write(section: str) -> None:
    body = section.removeprefix(f"{BEGIN}\n").removesuffix(f"\n{END}")
    heading = (f"{SECTION}\n\nCommand: `.venv/bin/python benchmarks/livekit_vs_bargein.py "
               "--write`.")
    update_file(README, "livekit", body, heading=heading)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true",
                        help=f"write the table into {README.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    logging.getLogger("interrupt-user").setLevel(logging.WARNING)
    logging.getLogger("livekit.agents").setLevel(logging.ERROR)
    from loguru import logger  # Pipecat logs through loguru

    logger.remove()
    logger.add(sys.stderr, level="ERROR")
    columns = {
        "bargein agent": summarize(run_all(bargein_adapter)),
        "LiveKit agent (defaults)": summarize(run_all(livekit_adapter)),
        "Pipecat pipeline (defaults)": summarize(run_all(pipecat_adapter)),
    }
    section = render(columns, smart_turn_scores())
    print(section)
    if args.write:
        write(section)
        print(f"written to {README.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
