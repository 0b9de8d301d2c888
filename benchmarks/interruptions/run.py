"""Regenerate the committed interruption benchmark: tables, plot and per-case results.

Run: ``.venv/bin/python benchmarks/interruptions/run.py`` (prints the tables), or with
``--write`` to update the "Interruption benchmark" section of benchmarks/README.md (between
the ``<!-- interruptions:begin -->`` / ``<!-- interruptions:end -->`` markers) and write
``results.json`` (espeak callers), ``results-human.json`` (human callers) and ``plot.svg``
here. Same seed, same tables: only the speed lines (wall time) change between runs. See
README.md in this folder.

Rows, on the same cases in the same run:

- bargein's settings sweep with the oracle recognizer (``bargein.adapters.bench_agent``):
  every setting with the local stack's turn detector, and the two fixed-delay settings it
  replaces;
- the default setting and the best one again with real recognition (``+hybrid``:
  pocketsphinx interims + Whisper finals);
- LiveKit Agents with its default interruption and endpointing settings, through
  ``bargein.adapters.livekit``, and Pipecat with its defaults, through
  ``bargein.adapters.pipecat``, on the same offline providers (each opens with the same long
  reply; ``--no-livekit`` / ``--no-pipecat`` leave them out).

Then the human-voice family (``benchmarks/data/human``): the default and the best setting,
oracle and hybrid, LiveKit and Pipecat.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
HUMAN = HERE.parent / "data" / "human"
CASES, SEED = 300, 0
DEFAULT = "vad-0.5"  # the runtime's defaults (InterruptionOptions(), the turn detector)
#: The targets of issue 12 (benchmarks/README.md says which are met).
REPLY_TARGET = 0.8  # median reply latency of the default setting, seconds
REAL_TAKEOVER, REAL_FALSE = 0.97, 0.10  # with real recognition, best setting


def load_recipe(framework: str) -> Any:
    """The "interrupt user" recipe of ``examples/<framework>/``, imported under a name of its
    own (every framework's recipe file is called interrupt_user.py)."""
    name = f"{framework}_interrupt_user"
    spec = importlib.util.spec_from_file_location(
        name, ROOT / "examples" / framework / "interrupt_user.py")
    assert spec is not None and spec.loader is not None
    recipe = importlib.util.module_from_spec(spec)
    sys.modules[name] = recipe
    spec.loader.exec_module(recipe)
    return recipe


def livekit_setting() -> Any:
    """LiveKit Agents with its defaults: the "interrupt user" recipe on bargein's offline
    LiveKit plugins (oracle STT), opening with the benchmark's long reply when a case needs
    the agent talking, silent otherwise."""
    from bargein import bench
    from bargein.adapters.bench_agent import OPENING
    from bargein.adapters.livekit import LiveKitAgentAdapter
    from bargein.livekit import plugins

    recipe = load_recipe("livekit")

    def make(case: Any) -> Any:
        def build(_context: Any) -> Any:
            agent, session = recipe.create_session(stt=plugins.OracleSTT(),
                                                   vad=plugins.VAD.load())
            if case.agent_opens:
                agent.on_session_start = lambda: session.say(OPENING)
            else:
                agent.on_session_start = lambda: None
            return agent, session

        return LiveKitAgentAdapter(build, name="livekit")

    return bench.AdapterSetting(
        "livekit", "LiveKit Agents 1.8 with its default interruption and endpointing "
        "settings (the 'interrupt user' recipe, oracle STT)", make,
        {"framework": "livekit-agents"})


def pipecat_setting() -> Any:
    """Pipecat with its defaults: the "interrupt user" recipe as a Pipecat pipeline on
    bargein's offline Pipecat services (oracle STT, its default VAD analyzer and user-turn
    strategies), speaking the benchmark's long reply first when a case needs it."""
    from pipecat.frames.frames import TTSSpeakFrame
    from pipecat.processors.aggregators.llm_context import LLMContext
    from pipecat.processors.aggregators.llm_response_universal import (
        LLMContextAggregatorPair,
        LLMUserAggregatorParams,
    )

    from bargein import bench
    from bargein import pipecat as offline
    from bargein.adapters.bench_agent import AGENT_VOICE, OPENING
    from bargein.adapters.pipecat import PipecatAdapter

    sys.path.insert(0, str(ROOT / "examples" / "pipecat"))  # the recipe's _pipeline module
    recipe = load_recipe("pipecat")

    def make(case: Any) -> Any:
        def build(context: Any) -> Any:
            llm = offline.LLM()
            llm_context = LLMContext([{"role": "system",
                                       "content": "You are a support agent."}])
            cut_in = recipe.InterruptWhenTooLong(llm)
            user, assistant = LLMContextAggregatorPair(
                llm_context, user_params=LLMUserAggregatorParams(
                    vad_analyzer=offline.VADAnalyzer(),
                    user_mute_strategies=[recipe.MutedWhileCuttingIn(cut_in)]))
            bot = recipe.worker([context.transport.input(), offline.STT.oracle(), cut_in, user,
                                 llm, offline.TTS(voice=AGENT_VOICE),
                                 context.transport.output(), assistant], context.sample_rate)
            if case.agent_opens:
                @bot.event_handler("on_pipeline_started")
                async def on_started(_worker: Any, _frame: Any) -> None:
                    await bot.queue_frames([TTSSpeakFrame(OPENING)])
            return bot

        return PipecatAdapter(build, name="pipecat")

    return bench.AdapterSetting(
        "pipecat", "Pipecat 1.14 with its default interruption and turn settings (the "
        "'interrupt user' recipe, oracle STT)", make, {"framework": "pipecat-ai"})


def run_family(cases: list[Any], settings: list[Any], seed: int, *, workers: int = 1,
               ray: str | None = None) -> dict[str, Any]:
    """Every case under every setting; bargein's settings may spread over ``workers``
    processes or Ray (LiveKit's and Pipecat's are closures over a recipe: they run here)."""
    from bargein import bench

    suite = bench.run_suite(cases, settings, stt="oracle", seed=seed,
                            progress=bench.stderr_progress, workers=workers, ray=ray)
    return suite.to_dict()


def _other_frameworks(args: argparse.Namespace) -> list[Any]:
    """LiveKit's and Pipecat's settings, unless left out."""
    return ([] if args.no_livekit else [livekit_setting()]) + (
        [] if args.no_pipecat else [pipecat_setting()])


def issue_targets(data: dict[str, Any], best: str) -> list[str]:
    """The turn-taking targets (issue 12), each marked met or missed, from the summaries."""
    s = data["summary"]
    lines = []

    def mark(ok: bool | None) -> str:
        return "met" if ok else ("not measured" if ok is None else "**missed**")

    default = s.get(DEFAULT)
    if default is not None:
        reply, pause = default["response_latency_turn_p50"], default["pause_takeover_rate"]
        ok = None if reply is None or pause is None else reply <= REPLY_TARGET and pause <= 0.1
        lines.append(f"- Default setting `{DEFAULT}`: pause takeover {_pct(pause)} (<= 10%) and "
                     f"median reply {_secs(reply)} (<= {REPLY_TARGET} s): {mark(ok)}.")
    if "livekit" in s and default is not None:
        ours, theirs = default["response_latency_turn_p50"], s["livekit"][
            "response_latency_turn_p50"]
        ok = None if ours is None or theirs is None else ours < theirs
        lines.append(f"- Median reply below LiveKit's on the same cases: {_secs(ours)} vs "
                     f"{_secs(theirs)}: {mark(ok)}.")
    real = s.get(best + "+hybrid")
    if real is not None:
        take, false = real["takeover_rate"], real["false_interruption_rate"]
        ok = None if take is None or false is None else \
            take >= REAL_TAKEOVER and false <= REAL_FALSE
        lines.append(f"- With real recognition (`{best}+hybrid`): takeover {_pct(take)} "
                     f"(>= {REAL_TAKEOVER:.0%}) and false interruptions {_pct(false)} "
                     f"(<= {REAL_FALSE:.0%}): {mark(ok)}.")
    return lines


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def main(argv: list[str] | None = None) -> int:
    from bargein import bench
    from bargein.adapters.bench_agent import select_settings
    from bargein.bench.human import human_cases
    from bargein.bench.report import best_setting, markdown_table, speed_line
    from bargein.parallel import available_cores

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true",
                        help="update benchmarks/README.md, the results JSON and plot.svg")
    parser.add_argument("--cases", type=int, default=CASES)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--setting", action="append", default=[],
                        help="run only this setting of the sweep (repeatable)")
    parser.add_argument("--no-livekit", action="store_true", help="leave LiveKit out")
    parser.add_argument("--no-pipecat", action="store_true", help="leave Pipecat out")
    parser.add_argument("--no-human", action="store_true", help="leave the human voices out")
    parser.add_argument("--no-hybrid", action="store_true", help="leave real recognition out")
    parser.add_argument("--workers", type=int, default=available_cores(),
                        help="worker processes for bargein's settings (default: the machine's "
                             "cores; LiveKit and Pipecat run in this process)")
    parser.add_argument("--ray", metavar="ADDRESS", default=None,
                        help="run bargein's settings as Ray tasks: 'local', or a cluster address")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    where = {"workers": args.workers, "ray": args.ray}
    limit = bench.TURN_LIMIT_SENTENCES

    # espeak callers: the oracle sweep first (it says which setting is best)
    sweep = select_settings(args.setting, turn_limit_sentences=limit)
    cases = bench.generate_cases(args.cases, args.seed)
    data = run_family(cases, sweep, args.seed, **where)
    best = best_setting(data) or DEFAULT
    if not args.no_hybrid:
        hybrid = select_settings(sorted({DEFAULT, best}), turn_limit_sentences=limit,
                                 stt="hybrid")
        data = _merge(data, run_family(cases, hybrid, args.seed, **where))
    others = _other_frameworks(args)
    if others:
        data = _merge(data, run_family(cases, others, args.seed))

    human: dict[str, Any] | None = None
    if not args.no_human:
        people = select_settings(sorted({DEFAULT, best}), turn_limit_sentences=limit)
        if not args.no_hybrid:
            people += select_settings(sorted({DEFAULT, best}), turn_limit_sentences=limit,
                                      stt="hybrid")
        voices = human_cases(HUMAN, args.seed)
        human = run_family(voices, people, args.seed, **where)
        others = _other_frameworks(args)
        if others:
            human = _merge(human, run_family(voices, others, args.seed))

    command = f".venv/bin/python benchmarks/interruptions/run.py --write --workers {args.workers}"
    section = _section(data, human, best, command, bench.machine(), markdown_table,
                       speed_line)
    if args.write:
        bench.write_outputs(data, json_path=HERE / "results.json", plot_path=HERE / "plot.svg")
        if human is not None:
            bench.write_outputs(human, json_path=HERE / "results-human.json")
        bench.update_readme(HERE.parent / "README.md", section)
    print(section)
    return 0


def _merge(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """One suite's JSON from two runs over the same cases (the settings of both, in order)."""
    out = dict(first)
    out["settings"] = [*first["settings"], *second["settings"]]
    out["summary"] = {**first["summary"], **second["summary"]}
    out["results"] = {**first["results"], **second["results"]}
    a, b = first["speed"], second["speed"]
    simulated = a["simulated_seconds"] + b["simulated_seconds"]
    wall = a["wall_seconds"] + b["wall_seconds"]
    ran = [a.get("ran_on", "1 process"), b.get("ran_on", "1 process")]
    out["speed"] = {"simulated_seconds": round(simulated, 1), "wall_seconds": round(wall, 2),
                    "speed": round(simulated / wall, 1) if wall else 0.0,
                    "ran_on": ran[0] if ran[0] == ran[1] else " then ".join(ran),
                    "per_setting": {**a["per_setting"], **b["per_setting"]}}
    return out


def _section(data: dict[str, Any], human: dict[str, Any] | None, best: str, command: str,
             machine: str, table: Any, speed: Any) -> str:
    from bargein import bench

    counts = ", ".join(f"{n} {k}" for k, n in data["counts"].items())
    lines = [
        f"Command: `{command}` (about {_hours(data, human)} on the 2-core machine). "
        f"{data['count']} cases ({counts}), seed {data['seed']}, espeak-ng callers; "
        "bargein's agent with real Silero VAD, espeak-ng, the rule-based LLM and the turn "
        "detector (smart-turn v3.2 with the words), the oracle STT (the known words, 0.1 s "
        "interim / 0.2 s final delay) unless the name ends in `+hybrid` (pocketsphinx "
        "interims + Whisper finals); `livekit`: LiveKit Agents with its defaults on the same "
        "providers; `pipecat`: Pipecat with its defaults, likewise. Turn limit "
        f"{data['turn_limit_sentences']} sentences. Plot: "
        "[interruptions/plot.svg](interruptions/plot.svg); every case: "
        "[interruptions/results.json](interruptions/results.json).",
        "",
        table(data),
        "",
        bench.targets_note(data),
        "",
        *issue_targets(data, best),
        "",
        speed(data, machine),
    ]
    if human is not None:
        hc = ", ".join(f"{n} {k}" for k, n in human["counts"].items())
        lines += [
            "",
            "### Human callers",
            "",
            f"{human['count']} cases ({hc}) spoken by real people "
            "([data/human](data/human/README.md): openly licensed recordings, word timings "
            "from the recordings; paused sentences are edits of real sentences, the "
            "backchannels are read words, the corpus has no conversational ones). Same "
            "agents; every case: [interruptions/results-human.json]"
            "(interruptions/results-human.json).",
            "",
            table(human),
            "",
            speed(human, machine),
        ]
    return "\n".join(lines)


def _hours(data: dict[str, Any], human: dict[str, Any] | None) -> str:
    wall = data["speed"]["wall_seconds"] + (human["speed"]["wall_seconds"] if human else 0.0)
    return f"{wall / 60:.0f} minutes"


if __name__ == "__main__":
    sys.exit(main())
