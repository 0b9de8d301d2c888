"""Runs benchmark cases against an agent adapter and measures them on the recording.

Each case is a short, self-contained call (:class:`~bargein.scenario.call.SimulatedCall`, the
harness the scenario runner and the tests use) on a virtual clock: the agent is already
speaking a long reply (or is silent, for pause and monologue cases), the user event happens,
and the call goes on for a few seconds. The caller's onsets and ends are the ground truth of
what its mouth emitted (the clean case audio, not the noisy mix), the agent's audio is
audible relative to its lane's noise floor, and every figure uses the public metric
definitions (docs/metrics.md). Per case (seconds on the recording):

- barge-in: **stopped** (the public *yield*: the agent's audio stopped within
  ``YIELD_WINDOW`` s of the onset and did not come back over the caller before the caller
  finished), **stop latency**, **talked over** (agent audio after the stop while the caller
  still spoke), **overlap** (both audible from the onset to the caller's end), **response
  gap** (caller's end -> the agent's next audio; negative when it came back over the caller);
- backchannel and noise: **false interruption** (the agent's audio stopped, or paused for
  at least ``PAUSE_GAP`` s, between the onset and the end + ``PAUSE_GRACE``);
- pause: **pause takeover** (agent audio between the end of the first part and the end of
  the second: the agent took the turn in the middle of the sentence), and the response
  latency after the whole sentence;
- monologue: **cut in** (agent audio that starts before the end of the user's full
  monologue: the agent talked over the user; the simulated user then stops after hearing
  it for 0.4 s).

The benchmark reaches the agent only through adapters: a :class:`Setting` makes a fresh
adapter for each case (bargein's own sweep is ``bargein.adapters.bench_agent``). Suites of
cases and their summaries are in :mod:`bargein.bench.suite`.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from bargein.adapters.base import AgentAdapter
from bargein.audio.frame import AudioFrame
from bargein.bench.cases import (
    BenchCase,
    RenderedCase,
    background_bed,
    render_case,
)
from bargein.providers.tts import SynthesizedSpeech
from bargein.scenario.call import SimulatedCall
from bargein.scenario.metrics import compute, response_after
from bargein.scenario.user_audio import UserSpeech

__all__ = ["AdapterSetting", "CaseResult", "Setting", "run_case", "run_case_settings"]

SAMPLE_RATE = 16000
LEAD_IN = 0.3  # seconds of silence before the user speaks, when the agent is silent
YIELD_AFTER = 0.4  # a monologue speaker stops after hearing the agent this long
START_TIMEOUT = 12.0  # seconds to wait for the agent's speech to reach the case's delay
#: Seconds the call goes on after the user event (long enough for a reply to start).
TAIL = {"barge_in": 3.0, "backchannel": 2.0, "noise": 2.0, "pause": 3.5, "monologue": 3.5}
TAIL_AFTER_CUT_IN = 1.0
MAX_CASE_SECONDS = 60.0



# -- what is run ----------------------------------------------------------------------------


@runtime_checkable
class Setting(Protocol):
    """A named configuration of the agent under test: it makes a fresh adapter per case.

    For the cases that start with the agent talking (``case.agent_opens``), the agent must
    open with a long reply of its own (at least 10 s). ``to_dict()`` describes the setting
    in the JSON result.
    """

    name: str
    description: str

    def adapter(self, case: BenchCase) -> AgentAdapter:
        """A fresh adapter for ``case``."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description."""
        ...


@dataclass(frozen=True)
class AdapterSetting:
    """A :class:`Setting` from a plain adapter factory (any agent: LiveKit, Pipecat, ...);
    ``params`` describe it in the JSON result."""

    name: str
    description: str
    make_adapter: Callable[[BenchCase], AgentAdapter]
    params: dict[str, Any] = field(default_factory=dict)

    def adapter(self, case: BenchCase) -> AgentAdapter:
        """``make_adapter(case)``."""
        return self.make_adapter(case)

    def to_dict(self) -> dict[str, Any]:
        """Name, description and ``params``."""
        return {"name": self.name, "description": self.description, **self.params}


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
    talked_over: float | None = None  # barge-in: agent audio over the caller after the stop
    overlap: float | None = None  # barge-in: both audible from the onset to the caller's end
    response_gap: float | None = None  # barge-in: caller's end -> the agent's next audio
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


def _plan_seconds(case: BenchCase, rendered: RenderedCase) -> float:
    """An upper bound of the case's length, for its background bed."""
    lead = (case.delay or 0.0) + START_TIMEOUT if case.agent_opens else LEAD_IN
    return lead + rendered.duration + (case.pause or 0.0) + TAIL[case.kind] + 2.0


_Rendered = tuple[RenderedCase, list[UserSpeech], AudioFrame | None]
#: Rendered cases kept per process (a suite runs all settings of one case in a row).
_RENDERED_KEPT = 8
_RENDERED: OrderedDict[tuple[str, int, int], _Rendered] = OrderedDict()


async def _render(case: BenchCase, sample_rate: int) -> _Rendered:
    """The case's audio with its ground truth, and its background bed (cached: every setting
    hears the same audio)."""
    key = (case.id, case.seed, sample_rate)
    if key not in _RENDERED:
        rendered = await render_case(case, sample_rate)
        speech = [s if isinstance(s, UserSpeech) else UserSpeech.synthesized(s)
                  if isinstance(s, SynthesizedSpeech) else UserSpeech.sound(s)
                  for s in rendered.speech]
        bed = await background_bed(case, _plan_seconds(case, rendered), rendered.speech_rms,
                                   sample_rate)
        _RENDERED[key] = (rendered, speech, bed)
        while len(_RENDERED) > _RENDERED_KEPT:
            _RENDERED.popitem(last=False)
    _RENDERED.move_to_end(key)
    return _RENDERED[key]


async def run_case(case: BenchCase, adapter: AgentAdapter,
                   sample_rate: int = SAMPLE_RATE) -> CaseResult:
    """Run one case against ``adapter`` in the current (virtual-time) loop."""
    started = time.perf_counter()  # wall-clock-ok: reported run cost, not runtime timing
    _, speech, bed = await _render(case, sample_rate)
    call = SimulatedCall(adapter, sample_rate=sample_rate)
    run = _CaseRun(case, speech, call)
    error: str | None = None
    try:
        await call.start()
        if bed is not None:
            call.play_background(bed)  # mixed under everything the user says
        async with asyncio.timeout(MAX_CASE_SECONDS):
            error = await run.play()
    except TimeoutError:
        error = f"the case ran past {MAX_CASE_SECONDS:g} s"
    finally:
        await call.close()
    result = run.measure(error)
    result.wall = time.perf_counter() - started  # wall-clock-ok
    return result


def run_case_settings(case: BenchCase, settings: Sequence[Setting],
                      sample_rate: int = SAMPLE_RATE) -> list[CaseResult]:
    """Run ``case`` under each setting, each in its own virtual-time loop (one job of a
    suite: the case's audio is rendered once and heard by every setting)."""
    from bargein.sim.run import run_simulation

    return [run_simulation(run_case(case, setting.adapter(case), sample_rate))
            for setting in settings]


class _CaseRun:
    """Plays one case into a started call and measures it."""

    def __init__(self, case: BenchCase, speech: list[UserSpeech], call: SimulatedCall) -> None:
        self.case, self.speech, self.call = case, speech, call
        self.scripted_end: float | None = None
        self.silenced = False  # the agent never reached the case's delay (noise stopped it)

    async def play(self) -> str | None:
        case, call = self.case, self.call
        speech = self.speech
        if case.agent_opens:
            moment = call.hearing.heard_seconds(case.delay or 0.0, 0.0)
            try:
                fire_at = await asyncio.wait_for(asyncio.shield(moment), START_TIMEOUT)
            except TimeoutError:
                call.hearing.cancel(moment)
                self.silenced = True
                return None
            if fire_at > call.time:
                await asyncio.sleep(fire_at - call.time)
            said = call.say(speech[0], barge_in=True, trigger="after", mode="vad",
                            backchannel=case.kind != "barge_in")
            await said.done()
            await asyncio.sleep(TAIL[case.kind])
            return None
        await asyncio.sleep(LEAD_IN)
        if case.kind == "pause":
            first = call.say(speech[0])
            at = first.room_utterance.start + speech[0].end + (case.pause or 0.0) \
                - speech[1].onset
            second = call.say(speech[1], at=at)
            await second.done()
            await asyncio.sleep(TAIL["pause"])
            return None
        said = await call.speak(speech[0], yield_after=YIELD_AFTER)
        self.scripted_end = said.room_utterance.start + speech[0].end
        cut = said.room_utterance.cancelled
        await asyncio.sleep(TAIL_AFTER_CUT_IN if cut else TAIL["monologue"])
        return None

    def measure(self, error: str | None) -> CaseResult:
        case, call = self.case, self.call
        result = CaseResult(case.id, case.kind, case.label, round(call.time, 4), error,
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
        utterances = call.utterances
        if error is not None or not utterances:
            return result
        spans = call.agent_spans()
        turns = call.agent_turns(spans)
        result.onset = utterances[0].onset
        if case.kind == "barge_in":
            m = compute(call.record(), spans, turns).interruptions[0]
            if not m.agent_was_speaking:
                result.error = "the agent was not speaking at the onset"
                return result
            result.stopped = m.yielded
            result.stop_latency = m.stop_latency
            result.talked_over = m.talked_over
            result.overlap = m.overlap
            result.response_gap = m.response_gap
        elif case.kind in ("backchannel", "noise"):
            metrics = compute(call.record(), spans, turns)
            if metrics.false_interruption_rate is None:
                result.error = "the agent was not speaking at the onset"
                return result
            result.false_interruption = metrics.false_interruption_rate > 0
        elif case.kind == "pause":
            first, second = utterances
            result.pause_takeover = any(s < second.end and e > first.end for s, e in spans)
            result.response_latency = response_after(spans, turns, second.end)
        else:
            u = utterances[0]
            end = self.scripted_end if self.scripted_end is not None else u.end
            result.cut_in = any(s < end - 1e-9 and e > u.onset for s, e in spans)
            if not result.cut_in:
                result.response_latency = response_after(spans, turns, u.end)
        return result
