"""Runs benchmark cases against an agent adapter and measures them on the recording.

Each case is a short, self-contained call in a fresh :class:`~bargein.sim.Room` on a virtual
clock: the agent is already speaking a long reply (or is silent, for pause and monologue
cases), the user event happens, and the call goes on for a few seconds. This is a lighter
harness than :func:`bargein.scenario.run` (no script steps, no settle waits), built from the
same pieces: the room, the simulated user's hearing (triggers count *audible* agent speech),
the :class:`~bargein.adapters.AgentAdapter` interface, and the metric definitions of
:mod:`bargein.scenario.metrics`, applied to the recording.

Per case (seconds on the recording):

- barge-in: **stopped** (the public *yield* definition: the agent's turn ended within
  ``YIELD_WINDOW`` s of the user's onset), **stop latency** (onset -> last audible agent
  sample of the interrupted turn), **response latency** (end of the user's speech -> first
  audible agent sample after it, when the agent was silent by then);
- backchannel and noise: **false interruption** (the public definition: the agent's audio
  stopped for good, or paused for at least ``PAUSE_GAP`` s, opening between the onset and
  the end + ``PAUSE_GRACE``);
- pause: **pause takeover** (agent audio between the end of the first part and the end of
  the second: the agent took the turn in the middle of the sentence), and the response
  latency after the whole sentence;
- monologue: **cut in** (agent audio that starts before the end of the user's full
  monologue: the agent talked over the user; the simulated user then stops after hearing
  it for 0.4 s).

A suite summary per setting (:func:`summarize`) gives the rates and percentiles, and the
simulation speed: seconds of recording per wall second.
"""

from __future__ import annotations

import asyncio
import functools
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bargein.adapters.base import AdapterLink, AgentAdapter
from bargein.agent.agent import Agent
from bargein.agent.options import EndpointingOptions, InterruptionOptions, UserTurnLimit
from bargein.audio.frame import AudioFrame
from bargein.providers.oracle_stt import GroundTruth
from bargein.providers.tts import SynthesizedSpeech
from bargein.scenario.bench.cases import (
    KINDS,
    TURN_LIMIT_SENTENCES,
    BenchCase,
    RenderedCase,
    background_bed,
    render_case,
)
from bargein.scenario.hearing import Hearing
from bargein.scenario.metrics import TURN_GAP, UserUtterance, compute, merge_spans

__all__ = [
    "AGENT_VOICE",
    "OPENING",
    "TARGETS",
    "CaseResult",
    "Setting",
    "SuiteResult",
    "bargein_adapter_factory",
    "default_sweep",
    "meets",
    "run_case",
    "run_suite",
    "stderr_progress",
    "summarize",
]

SAMPLE_RATE = 16000
AGENT_VOICE = "en-gb+f3"
#: The long reply the agent is already speaking in barge-in, backchannel and noise cases.
OPENING = (
    "Thanks for waiting. Let me walk you through the three plans we offer, because the "
    "differences matter for a team like yours. The basic plan includes unlimited projects, "
    "five gigabytes of storage per person, and email support during office hours. The team "
    "plan adds shared workspaces, single sign on, an audit log, and priority support with a "
    "four hour response time. The enterprise plan adds a dedicated account manager, custom "
    "contracts, and data residency in the region of your choice. All plans can be paid "
    "monthly or yearly, and the yearly option saves about two months."
)
LEAD_IN = 0.3  # seconds of silence before the user speaks, when the agent is silent
YIELD_AFTER = 0.4  # a monologue speaker stops after hearing the agent this long
START_TIMEOUT = 12.0  # seconds to wait for the agent's speech to reach the case's delay
#: Seconds the call goes on after the user event (long enough for a reply to start).
TAIL = {"barge_in": 3.0, "backchannel": 2.0, "noise": 2.0, "pause": 3.5, "monologue": 3.5}
TAIL_AFTER_CUT_IN = 1.0
MAX_CASE_SECONDS = 60.0
_LEVEL = 64  # |sample| above this counts as audible user audio (as in the scenario runner)

#: Targets of the benchmark (issue 7): name -> (summary key, comparison, bound).
TARGETS: dict[str, tuple[str, str, float]] = {
    "takeover >= 0.99": ("takeover_rate", ">=", 0.99),
    "stop p95 <= 300 ms": ("stop_latency_p95", "<=", 0.300),
    "false int. <= 5%": ("false_interruption_rate", "<=", 0.05),
    "pause takeover <= 10%": ("pause_takeover_rate", "<=", 0.10),
}


# -- settings and the agent under test ----------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """A named configuration of bargein's agent: interruption options and endpointing."""

    name: str
    description: str
    interruption: InterruptionOptions = field(default_factory=InterruptionOptions)
    endpointing: EndpointingOptions = field(default_factory=EndpointingOptions)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        opts = asdict(self.interruption)
        opts["backchannels"] = "default" if self.interruption.backchannels else "off"
        return {"name": self.name, "description": self.description, "interruption": opts,
                "endpointing": asdict(self.endpointing)}


def default_sweep() -> list[Setting]:
    """The settings the benchmark compares (see benchmarks/interruptions/README.md).

    "VAD only" is ``min_words=0``: the VAD alone decides, and with
    ``resume_false_interruption`` on the agent pauses first and resumes if no word comes.
    ``words<N>`` needs N transcribed words that are not backchannels."""
    off = frozenset[str]()

    def opts(**kw: Any) -> InterruptionOptions:
        return InterruptionOptions(**kw)

    return [
        Setting("vad-0.2", "VAD only, min_duration 0.2 s, pause then resume",
                opts(min_duration=0.2)),
        Setting("vad-0.3", "VAD only, min_duration 0.3 s, pause then resume",
                opts(min_duration=0.3)),
        Setting("vad-0.5", "VAD only, min_duration 0.5 s, pause then resume (the defaults)",
                opts(min_duration=0.5)),
        Setting("vad-0.8", "VAD only, min_duration 0.8 s, pause then resume",
                opts(min_duration=0.8)),
        Setting("vad-0.5-stop", "VAD only, min_duration 0.5 s, stop for good (no resume)",
                opts(min_duration=0.5, resume_false_interruption=False)),
        Setting("words1-0.5", "min_words 1, min_duration 0.5 s, backchannel filter",
                opts(min_duration=0.5, min_words=1)),
        Setting("words2-0.5", "min_words 2, min_duration 0.5 s, backchannel filter",
                opts(min_duration=0.5, min_words=2)),
        Setting("words1-0.5-nofilter", "min_words 1, min_duration 0.5 s, no backchannel filter",
                opts(min_duration=0.5, min_words=1, backchannels=off)),
        Setting("words1-0.3", "min_words 1, min_duration 0.3 s, backchannel filter",
                opts(min_duration=0.3, min_words=1)),
        Setting("words1-0.2", "min_words 1, min_duration 0.2 s, backchannel filter",
                opts(min_duration=0.2, min_words=1)),
        Setting("words1-0.2-end1.5",
                "min_words 1, min_duration 0.2 s, backchannel filter, endpointing 1.5 s",
                opts(min_duration=0.2, min_words=1), EndpointingOptions(min_delay=1.5)),
    ]


class BenchAgent(Agent):
    """The agent under test: opens with :data:`OPENING` when told to, else waits for the
    user; replies come from the session's LLM."""

    def __init__(self, opening: str | None) -> None:
        super().__init__(instructions="You are a support agent for a software company.")
        self.opening = opening

    async def on_enter(self) -> None:
        if self.opening:
            self.session.say(self.opening)


@functools.lru_cache(maxsize=1)
def _shared_providers() -> tuple[Any, Any, Any]:
    """Models loaded once per process: Silero VAD (a stream per session), the agent's
    espeak voice, the rule-based LLM."""
    from bargein.providers.espeak_tts import EspeakTTS
    from bargein.providers.rule_based_llm import RuleBasedLLM
    from bargein.providers.silero_vad import SileroVAD

    return SileroVAD(), EspeakTTS(voice=AGENT_VOICE, sample_rate=SAMPLE_RATE), RuleBasedLLM()


@functools.lru_cache(maxsize=1)
def _hybrid_stt() -> Any:
    from bargein.providers.hybrid_stt import HybridSTT
    from bargein.providers.pocketsphinx_stt import PocketsphinxSTT
    from bargein.providers.whisper_stt import WhisperSTT

    return HybridSTT(PocketsphinxSTT(), WhisperSTT())


AdapterFactory = Callable[[BenchCase], AgentAdapter]


def bargein_adapter_factory(setting: Setting, stt: str = "oracle") -> AdapterFactory:
    """Adapters for bargein's own agent with ``setting``: it opens with a long reply in
    cases that need the agent speaking, has a turn limit of ``TURN_LIMIT_SENTENCES``, and
    hears the user through ``stt``: ``"oracle"`` (the known words, 0.1 s interim and 0.2 s
    final delay) or ``"hybrid"`` (pocketsphinx interims + Whisper finals, real recognition).
    The adapter is ``limited``: barge-ins reach the agent as audio only (its VAD must hear
    them), never as a cancel signal."""
    from bargein.adapters.inprocess import BargeinAgentAdapter, BuildContext
    from bargein.agent.session import AgentSession
    from bargein.providers.oracle_stt import OracleSTT

    if stt not in ("oracle", "hybrid"):
        raise ValueError(f"stt must be 'oracle' or 'hybrid', got {stt!r}")

    def make(case: BenchCase) -> AgentAdapter:
        def build(ctx: BuildContext) -> tuple[Agent, AgentSession]:
            vad, tts, llm = _shared_providers()
            truth = ctx.truth if ctx.truth is not None else GroundTruth()  # empty is falsy
            recognizer = OracleSTT(truth) if stt == "oracle" else _hybrid_stt()
            session = AgentSession(
                vad=vad, stt=recognizer, llm=llm, tts=tts,
                interruption=setting.interruption, endpointing=setting.endpointing,
                turn_limit=UserTurnLimit(max_sentences=TURN_LIMIT_SENTENCES),
                sample_rate=ctx.sample_rate)
            return BenchAgent(OPENING if case.agent_opens else None), session

        return BargeinAgentAdapter(build, mode="limited", name=f"bargein ({setting.name})")

    return make


# -- one case -------------------------------------------------------------------------------


@dataclass
class CaseResult:
    """What one case measured (``None``: does not apply to this kind, or not measurable)."""

    id: str
    kind: str
    label: str
    duration: float  # seconds of recording
    error: str | None = None
    variant: str | None = None  # barge-in: short/long phrase; noise: cough/knock
    onset: float | None = None  # first audible sample of the user event
    stopped: bool | None = None  # barge-in: the agent yielded (public yield definition)
    stop_latency: float | None = None
    false_interruption: bool | None = None  # backchannel / noise
    pause_takeover: bool | None = None  # pause
    cut_in: bool | None = None  # monologue
    response_latency: float | None = None
    note: str | None = None
    wall: float = 0.0  # wall seconds (kept out of to_dict: not deterministic)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, without the wall time and the measures that do not apply."""
        data = asdict(self)
        data.pop("wall")
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in data.items()
                if v is not None}


def _bounds(audio: SynthesizedSpeech | AudioFrame) -> tuple[float, float]:
    """Seconds from the start to the first and past the last audible sample."""
    frame = audio.audio if isinstance(audio, SynthesizedSpeech) else audio
    loud = np.flatnonzero(np.abs(frame.to_int16().astype(np.int32)) > _LEVEL)
    if len(loud) == 0:
        return 0.0, frame.duration
    return int(loud[0]) / frame.sample_rate, (int(loud[-1]) + 1) / frame.sample_rate


def _plan_seconds(case: BenchCase, rendered: RenderedCase) -> float:
    """An upper bound of the case's length, for its background bed."""
    lead = (case.delay or 0.0) + START_TIMEOUT if case.agent_opens else LEAD_IN
    return lead + rendered.duration + (case.pause or 0.0) + TAIL[case.kind] + 2.0


_RENDERED: dict[tuple[str, int, int], tuple[RenderedCase, AudioFrame | None]] = {}


async def _render(case: BenchCase, sample_rate: int) -> tuple[RenderedCase, AudioFrame | None]:
    """The case's audio and background bed (cached: every setting hears the same audio)."""
    key = (case.id, case.seed, sample_rate)
    if key not in _RENDERED:
        rendered = await render_case(case, sample_rate)
        bed = await background_bed(case, _plan_seconds(case, rendered), rendered.speech_rms,
                                   sample_rate)
        _RENDERED[key] = (rendered, bed)
    return _RENDERED[key]


async def run_case(case: BenchCase, adapter: AgentAdapter,
                   sample_rate: int = SAMPLE_RATE) -> CaseResult:
    """Run one case against ``adapter`` in the current (virtual-time) loop."""
    from bargein.sim.room import Room

    started = time.perf_counter()  # wall-clock-ok: reported run cost, not runtime timing
    rendered, bed = await _render(case, sample_rate)
    truth = GroundTruth()
    room = Room(sample_rate, truth=truth)
    hearing = Hearing(clock=lambda: room.time)
    room.user.on_hear(hearing.on_frame)

    def report(kind: str, *, time: float | None = None, **data: Any) -> None:
        pass  # the benchmark measures the recording only

    link = AdapterLink(sample_rate, room.agent_input, room.agent_output, report,
                       lambda: room.time, truth)
    run = _CaseRun(case, rendered, room, hearing)
    error: str | None = None
    try:
        await adapter.start(link)
        await room.start()
        if bed is not None:
            room.user.say(bed)  # mixed under everything the user says
        async with asyncio.timeout(MAX_CASE_SECONDS):
            error = await run.play()
    except TimeoutError:
        error = f"the case ran past {MAX_CASE_SECONDS:g} s"
    finally:
        await adapter.close()
        await room.aclose()
    result = run.measure(error)
    result.wall = time.perf_counter() - started  # wall-clock-ok
    return result


class _CaseRun:
    """Plays one case into a started room and measures its recording."""

    def __init__(self, case: BenchCase, rendered: RenderedCase, room: Any,
                 hearing: Hearing) -> None:
        self.case, self.rendered, self.room, self.hearing = case, rendered, room, hearing
        self.utterances: list[UserUtterance] = []
        self.scripted_end: float | None = None
        self.silenced = False  # the agent never reached the case's delay (noise stopped it)

    def _say(self, audio: SynthesizedSpeech | AudioFrame, *, at: float | None = None,
             barge_in: bool = False, backchannel: bool = False) -> Any:
        utt = self.room.user.say(audio, at=at)
        first, last = _bounds(audio)
        text = audio.text if isinstance(audio, SynthesizedSpeech) else ""
        self.utterances.append(UserUtterance(
            len(self.utterances), utt.start + first, utt.start + last, text, barge_in,
            "after" if barge_in else None, "vad" if barge_in else None, backchannel))
        return utt

    async def play(self) -> str | None:
        case, room = self.case, self.room
        speech = self.rendered.speech
        if case.agent_opens:
            moment = self.hearing.heard_seconds(case.delay or 0.0, 0.0)
            try:
                fire_at = await asyncio.wait_for(asyncio.shield(moment), START_TIMEOUT)
            except TimeoutError:
                self.hearing.cancel(moment)
                self.silenced = True
                return None
            if fire_at > room.time:
                await asyncio.sleep(fire_at - room.time)
            utt = self._say(speech[0], barge_in=True, backchannel=case.kind != "barge_in")
            await utt.done()
            await asyncio.sleep(TAIL[case.kind])
            return None
        await asyncio.sleep(LEAD_IN)
        if case.kind == "pause":
            first = self._say(speech[0])
            at = first.start + _bounds(speech[0])[1] + (case.pause or 0.0) - _bounds(speech[1])[0]
            second = self._say(speech[1], at=at)
            await second.done()
            await asyncio.sleep(TAIL["pause"])
            return None
        utt = self._say(speech[0])
        self.scripted_end = self.utterances[-1].end
        polite = self.hearing.heard_seconds(YIELD_AFTER, utt.start)
        polite.add_done_callback(lambda f: None if f.cancelled() else utt.cancel())
        await utt.done()
        if not polite.done():
            self.hearing.cancel(polite)
        if utt.cancelled:
            self.utterances[-1].end = min(self.utterances[-1].end, utt.end)
        await asyncio.sleep(TAIL_AFTER_CUT_IN if utt.cancelled else TAIL["monologue"])
        return None

    def measure(self, error: str | None) -> CaseResult:
        case, room = self.case, self.room
        result = CaseResult(case.id, case.kind, case.label, round(room.time, 4), error,
                            case.phrase or case.burst)
        if error is None and self.silenced:
            # Background noise kept the agent from speaking for the case's delay: for a
            # backchannel or noise case that is a false interruption already; a barge-in
            # case cannot be measured.
            if case.kind in ("backchannel", "noise"):
                result.false_interruption = True
                result.note = "the background noise stopped the agent before the event"
            else:
                result.error = (f"the agent was not heard for {case.delay} s within "
                                f"{START_TIMEOUT:g} s (background noise stopped it)")
            return result
        if error is not None or not self.utterances:
            return result
        spans = room.agent_audible_spans()
        turns = merge_spans(spans, TURN_GAP)
        result.onset = self.utterances[0].onset
        if case.kind == "barge_in":
            metrics = compute(room, self.utterances, [], [], False)
            m = metrics.interruptions[0]
            if not m.agent_was_speaking:
                result.error = "the agent was not speaking at the onset"
                return result
            result.stopped = m.yielded
            result.stop_latency = m.stop_latency
            if metrics.response_latency:
                result.response_latency = metrics.response_latency[0]
        elif case.kind in ("backchannel", "noise"):
            metrics = compute(room, self.utterances, [], [], False)
            if metrics.false_interruption_rate is None:
                result.error = "the agent was not speaking at the onset"
                return result
            result.false_interruption = metrics.false_interruption_rate > 0
        elif case.kind == "pause":
            first, second = self.utterances
            result.pause_takeover = any(s < second.end and e > first.end for s, e in spans)
            result.response_latency = _response(room, turns, second.end)
        else:
            u = self.utterances[0]
            end = self.scripted_end if self.scripted_end is not None else u.end
            result.cut_in = any(s < end - 1e-9 and e > u.onset for s, e in spans)
            if not result.cut_in:
                result.response_latency = _response(room, turns, u.end)
        return result


def _response(room: Any, turns: list[tuple[float, float]], end: float) -> float | None:
    """The public response latency: end of user speech -> first audible agent sample after
    it, for a user turn the agent was silent at."""
    if any(s - 1e-9 <= end <= e + 1e-9 for s, e in turns):
        return None
    start = room.first_agent_sample_after(end)
    return None if start is None else start - end


# -- a suite ----------------------------------------------------------------------------------


@dataclass
class SuiteResult:
    """Every case result per setting, and the wall time of each setting's run."""

    settings: list[Setting]
    cases: list[BenchCase]
    results: dict[str, list[CaseResult]] = field(default_factory=dict)
    wall: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    stt: str = "oracle"

    def summaries(self) -> dict[str, dict[str, Any]]:
        """:func:`summarize` of each setting, by name."""
        return {s.name: summarize(self.results[s.name]) for s in self.settings}

    @property
    def simulated_seconds(self) -> float:
        """Seconds of recording over all settings."""
        return sum(r.duration for rs in self.results.values() for r in rs)

    @property
    def wall_seconds(self) -> float:
        """Wall seconds of all runs."""
        return sum(self.wall.values())

    @property
    def speed(self) -> float:
        """Simulated seconds per wall second, over the whole suite."""
        return self.simulated_seconds / self.wall_seconds if self.wall_seconds else 0.0

    def to_dict(self, *, cases: bool = True) -> dict[str, Any]:
        """JSON-ready form. Deterministic for a seed, except the ``speed`` section."""
        out: dict[str, Any] = {
            "seed": self.seed,
            "stt": self.stt,
            "count": len(self.cases),
            "counts": {k: sum(c.kind == k for c in self.cases) for k in KINDS},
            "turn_limit_sentences": TURN_LIMIT_SENTENCES,
            "targets": {name: {"metric": k, "op": op, "bound": b}
                        for name, (k, op, b) in TARGETS.items()},
            "settings": [s.to_dict() for s in self.settings],
            "summary": self.summaries(),
        }
        if cases:
            out["cases"] = [c.to_dict() for c in self.cases]
            # kind, label and variant are in "cases" (same id)
            out["results"] = {name: [{k: v for k, v in r.to_dict().items()
                                      if k not in ("kind", "label", "variant")} for r in rs]
                              for name, rs in self.results.items()}
        out["speed"] = {  # wall-time figures: the only part that changes between runs
            "simulated_seconds": round(self.simulated_seconds, 1),
            "wall_seconds": round(self.wall_seconds, 2),
            "speed": round(self.speed, 1),
            "per_setting": {name: {"wall_seconds": round(w, 2),
                                   "speed": round(sum(r.duration for r in self.results[name])
                                                  / w, 1) if w else None}
                            for name, w in self.wall.items()},
        }
        return out


def run_suite(cases: list[BenchCase], settings: Iterable[Setting], *,
              stt: str = "oracle", seed: int = 0,
              factory: Callable[[Setting], AdapterFactory] | None = None,
              progress: Callable[[str], None] | None = None,
              sample_rate: int = SAMPLE_RATE) -> SuiteResult:
    """Run every case under every setting, each case in its own virtual-time loop.

    ``factory(setting)`` gives an adapter factory (default: bargein's own agent,
    :func:`bargein_adapter_factory` with ``stt``). ``progress`` gets one line now and then.
    """
    from bargein.sim.run import run_simulation

    settings = list(settings)
    suite = SuiteResult(settings, list(cases), seed=seed, stt=stt)
    make_factory = factory or (lambda s: bargein_adapter_factory(s, stt))
    for number, setting in enumerate(settings, 1):
        adapters = make_factory(setting)
        results: list[CaseResult] = []
        started = time.perf_counter()  # wall-clock-ok: reported speed
        for i, case in enumerate(suite.cases, 1):
            results.append(run_simulation(run_case(case, adapters(case), sample_rate)))
            if progress is not None and (i % 25 == 0 or i == len(suite.cases)):
                wall = time.perf_counter() - started  # wall-clock-ok
                sim = sum(r.duration for r in results)
                progress(f"[{number}/{len(settings)} {setting.name}] {i}/{len(suite.cases)} "
                         f"cases, {sim:.0f} s simulated in {wall:.1f} s "
                         f"({sim / wall if wall else 0:.0f}x real time)")
        suite.wall[setting.name] = time.perf_counter() - started  # wall-clock-ok
        suite.results[setting.name] = results
    return suite


def stderr_progress(line: str) -> None:
    """A progress callback that writes to stderr."""
    print(line, file=sys.stderr, flush=True)


# -- summaries --------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return round(float(np.percentile(np.asarray(values, dtype=np.float64), q)), 4)


def _rate(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def summarize(results: list[CaseResult]) -> dict[str, Any]:
    """Per-setting figures (rates are shares of the measured cases of that kind)."""
    by = {k: [r for r in results if r.kind == k and r.error is None] for k in KINDS}
    barge = by["barge_in"]
    stopped = [r for r in barge if r.stopped]
    latencies = [r.stop_latency for r in stopped if r.stop_latency is not None]
    bc = [bool(r.false_interruption) for r in by["backchannel"]]
    noise = [bool(r.false_interruption) for r in by["noise"]]
    mono = by["monologue"]
    predicted = [r for r in mono if r.cut_in]
    positives = [r for r in mono if r.label == "cut_in"]
    hits = [r for r in predicted if r.label == "cut_in"]
    after_barge = [r.response_latency for r in stopped if r.response_latency is not None]
    turn_end = [r.response_latency for r in by["pause"] if r.response_latency is not None
                and not r.pause_takeover]
    return {
        "cases": len(results),
        "errors": sum(r.error is not None for r in results),
        "takeover_rate": _rate([bool(r.stopped) for r in barge]),
        "takeover_rate_short": _rate([bool(r.stopped) for r in barge if r.variant == "short"]),
        "stop_latency_p50": _pct(latencies, 50),
        "stop_latency_p95": _pct(latencies, 95),
        "false_interruption_rate": _rate(bc + noise),
        "false_interruption_backchannel": _rate(bc),
        "false_interruption_noise": _rate(noise),
        "pause_takeover_rate": _rate([bool(r.pause_takeover) for r in by["pause"]]),
        "cut_in_precision": round(len(hits) / len(predicted), 4) if predicted else None,
        "cut_in_recall": round(len(hits) / len(positives), 4) if positives else None,
        "response_latency_after_barge_in_p50": _pct(after_barge, 50),
        "response_latency_turn_p50": _pct(turn_end, 50),
        "simulated_seconds": round(sum(r.duration for r in results), 2),
    }


def meets(summary: dict[str, Any]) -> dict[str, bool | None]:
    """Each target of :data:`TARGETS`: met (True), missed (False), not measured (None)."""
    out: dict[str, bool | None] = {}
    for name, (key, op, bound) in TARGETS.items():
        value = summary.get(key)
        out[name] = None if value is None else (value >= bound if op == ">=" else value <= bound)
    return out

