"""Speed of a whole simulated scenario: a minute of conversation through the real local stack.

Run: ``make bench-scenario`` (or ``.venv/bin/python benchmarks/scenario_speed.py``). Prints a
Markdown table; ``--write`` also replaces the scenario-speed section of benchmarks/README.md.

The scenario is a multi-turn support call with two barge-ins the agent must hear by itself
(VAD barge-in: the simulated user just talks over it), about a minute of recording. The
agent runs real Silero VAD, real espeak-ng speech (agent and simulated user), the
rule-based LLM, and one of two real STT setups:

- ``whisper``: Whisper tiny.en for final transcripts only;
- ``hybrid``: pocketsphinx interims + Whisper finals (``HybridSTT``).

The speed factor is seconds of recording per wall second of the run, on the virtual clock
(``scenario.run(..., live=False)``); the speed per CPU second (this process's CPU time, every
thread of it; numeric libraries on one thread, as in a one-process ``bargein run``) is what
one core gets through when other jobs share the machine, and the load
average before each setup says how busy it was. Models are loaded once before any timed run (their
load time is printed separately); each setup then runs ``--repeat`` times and the median
run is reported.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bargein.markers import update_file

HERE = Path(__file__).resolve().parent
TARGET = 10.0  # x real time
RATE = 16000



def progress(msg: str) -> None:
    print(f"... {msg}", file=sys.stderr, flush=True)


def script() -> list[Any]:
    """About a minute of a support call, with two VAD barge-ins."""
    from bargein import scenario

    return [
        scenario.agent(),  # the greeting
        scenario.user("Hi. Tell me about your product features."),
        scenario.interrupt("Sorry, what are your business hours?", after=2.0, mode="vad"),
        scenario.agent(),
        scenario.user("Okay. And how do refunds work?"),
        scenario.interrupt("Wait, can I speak to a person?", after=1.5, mode="vad"),
        scenario.agent(),
        scenario.user("Thanks. What about my billing?"),
        scenario.agent(),
        scenario.user("And can you help with my account?"),
        scenario.agent(),
    ]


@dataclass
class Setup:
    name: str
    description: str
    make_stt: Callable[[], Any]
    note: str = ""


@dataclass
class Row:
    setup: Setup
    audio_s: float
    walls: list[float]
    cpus: list[float]
    load: float
    success: bool
    barge_ins: int
    transcripts: list[str]

    @property
    def wall_s(self) -> float:
        return statistics.median(self.walls)

    @property
    def factor(self) -> float:
        return self.audio_s / self.wall_s

    @property
    def cpu_factor(self) -> float:
        return self.audio_s / statistics.median(self.cpus)

    def markdown(self) -> str:
        met = "yes" if self.factor >= TARGET else "**no**"
        spread = f"{min(self.walls):.2f}-{max(self.walls):.2f}"
        return (f"| {self.setup.name} | {self.setup.description} | {self.audio_s:.1f} | "
                f"{self.wall_s:.2f} ({spread}) | {self.factor:.1f}x | {met} | "
                f"{statistics.median(self.cpus):.2f} | {self.cpu_factor:.1f}x | {self.load:.1f} | "
                f"{self.setup.note} |")


def load_models() -> tuple[list[Setup], list[str]]:
    """Load every model once, before timing; returns the setups and load-time notes."""
    from bargein.providers.espeak_tts import EspeakTTS
    from bargein.providers.hybrid_stt import HybridSTT
    from bargein.providers.pocketsphinx_stt import PocketsphinxSTT
    from bargein.providers.silero_vad import SileroVAD
    from bargein.providers.whisper_stt import WhisperSTT

    notes = []
    t = time.perf_counter()
    SileroVAD().stream(RATE)  # the ONNX runtime and model file, into the OS cache
    notes.append(f"Silero VAD {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    EspeakTTS(voice="en-us").voice  # noqa: B018 - loads the espeak-ng library and data
    notes.append(f"espeak-ng {time.perf_counter() - t:.2f} s")
    whisper = WhisperSTT()
    t = time.perf_counter()
    whisper.load()  # shared by every WhisperSTT in the process
    notes.append(f"Whisper tiny.en {time.perf_counter() - t:.2f} s")
    sphinx = PocketsphinxSTT()
    t = time.perf_counter()
    sphinx.load()  # a decoder in this instance's pool, reused by its streams
    notes.append(f"pocketsphinx {time.perf_counter() - t:.2f} s")
    setups = [
        Setup("whisper", "Whisper tiny.en finals", lambda: whisper),
        Setup("hybrid", "pocketsphinx interims + Whisper finals",
              lambda: HybridSTT(sphinx, whisper)),
    ]
    return setups, notes


def make_factory(setup: Setup) -> Callable[[Any], Any]:
    from bargein.agent import Agent, AgentSession, InterruptionOptions
    from bargein.providers.espeak_tts import EspeakTTS
    from bargein.providers.rule_based_llm import RuleBasedLLM
    from bargein.providers.silero_vad import SileroVAD

    class Support(Agent):
        async def on_enter(self) -> None:
            self.session.generate_reply(instructions="Greet the caller.")

    def factory(ctx: Any) -> tuple[Agent, AgentSession]:
        session = AgentSession(
            vad=SileroVAD(), stt=setup.make_stt(), llm=RuleBasedLLM(),
            tts=EspeakTTS(voice="en-gb+f3"),
            interruption=InterruptionOptions(min_duration=0.4))
        return Support(instructions="Acme support line."), session

    return factory


def run_setup(setup: Setup, repeat: int) -> Row:
    from bargein.parallel import one_thread_per_process

    with one_thread_per_process():  # one core's work, as `bargein run` in one process
        return _run_setup(setup, repeat)


def _run_setup(setup: Setup, repeat: int) -> Row:
    from bargein import scenario
    from bargein.adapters import BargeinAgentAdapter

    walls: list[float] = []
    cpus: list[float] = []
    load = os.getloadavg()[0]
    result = None
    for i in range(repeat):
        progress(f"{setup.name}: run {i + 1}/{repeat}")
        adapter = BargeinAgentAdapter(make_factory(setup), mode="limited")
        t, cpu = time.perf_counter(), time.process_time()
        result = scenario.run(f"scenario speed ({setup.name})", agent=adapter,
                              script=script())
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - cpu)
        progress(f"{setup.name}: {result.duration:.1f} s of audio in {walls[-1]:.2f} s "
                 f"({result.duration / walls[-1]:.1f}x), {result!r}")
    assert result is not None
    finals = [str(e.data.get("text", "")) for e in result.timeline.of("user_transcript")
              if e.data.get("final")]
    return Row(setup, result.duration, walls, cpus, load, result.success,
               sum(u.barge_in for u in result.utterances), finals)


def render(rows: list[Row], notes: list[str], repeat: int) -> str:
    cpu = platform.processor() or platform.machine()
    head = [
        f"Machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}. "
        f"Scenario: {len(script())} steps, {rows[0].barge_ins} VAD barge-ins, real Silero "
        "VAD, espeak-ng (agent and user), rule-based LLM, default latency models; "
        f"median of {repeat} runs (min-max in brackets). Models loaded before timing: "
        + ", ".join(notes) + ".",
        "",
        "| STT setup | recognizers | recording s | wall s | speed (sim s / wall s) "
        f"| >= {TARGET:g}x | CPU s | speed per CPU s | load avg before | note |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    return "\n".join(head + [r.markdown() for r in rows])


def write_readme(table: str) -> None:
    update_file(HERE / "README.md", "scenario-speed", table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update benchmarks/README.md")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per setup")
    parser.add_argument("--only", choices=["whisper", "hybrid"], help="run one setup")
    args = parser.parse_args()
    progress("loading models (not timed)")
    setups, notes = load_models()
    progress("; ".join(notes))
    rows = []
    for setup in setups:
        if args.only and setup.name != args.only:
            continue
        rows.append(run_setup(setup, args.repeat))
        progress(f"{setup.name}: final transcripts {rows[-1].transcripts}")
    table = render(rows, notes, args.repeat)
    print(table)
    if args.write:
        write_readme(table)
        print("\nwrote benchmarks/README.md", file=sys.stderr)


if __name__ == "__main__":
    main()
