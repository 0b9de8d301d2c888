"""Fidelity: one scenario run live (real time) and simulated gives the same event sequence,
with each event time within 40 ms (the time bound is an expected failure for now: a race at
the end of a user turn, see the marker's reason).

The same script and the same agent (real Silero VAD, real espeak-ng speech, the oracle STT
on the scenario's ground truth, short canned replies) run twice: on the virtual clock and on
the ordinary event loop in real time (about 10 s of wall time). The major events of both
timelines must match one to one, in the same order, each within ``TOLERANCE`` seconds on the
recording.

Events are matched by kind (and, for ``agent_state``, by the state entered) and by how many of
that kind came before. Two events that happen in the same 20 ms frame of the simulation have
no defined order between them (for instance ``agent_started_speaking``, found on the
recording in 10 ms windows, and the ``agent_state`` "speaking" the session reports at the
same instant), so only their order may differ live; any other reordering fails.
"""

from __future__ import annotations

import threading
import time

import pytest

from bargein import scenario
from bargein.adapters import BargeinAgentAdapter, BuildContext
from bargein.agent import Agent, AgentSession, InterruptionOptions
from bargein.providers.latency import work_overrun
from bargein.scenario import ScenarioResult, TimelineEvent

pytestmark = pytest.mark.integration

TOLERANCE = 0.040  # seconds: the fidelity bound for every matched event
SAME_FRAME = 0.020  # seconds: events this close in simulation may be reordered live
# Modeled TTS time to first byte. Live, a latency model is a floor over the real work
# (bargein.providers.latency), so it is set above what espeak-ng really takes for one of
# these sentences on a busy 2-core machine (about 50 ms, more under load): the real work
# then hides under the model and both runs share one timeline. Below it, live replies start
# later by the excess, which is real compute, not a fidelity error.
TTS_FIRST_BYTE = 0.15

MAJOR_KINDS = frozenset({
    "user_started_speaking", "user_stopped_speaking",
    "agent_started_speaking", "agent_stopped_speaking",
    "interrupt_fired", "agent_interrupted", "agent_message", "agent_state",
})

GREETING = "Hi, how can I help?"
HOURS = "We open at nine and close at five, every weekday."
AFTER_INTERRUPTION = "Okay, go ahead."

SCRIPT = [
    scenario.agent(),                                # greeting
    scenario.user("When are you open?"),
    scenario.agent(wait=False),                      # the reply starts...
    scenario.user("Wait, what about refunds?"),      # ...and is cut at its first audio
    scenario.agent(),                                # the reply to the interruption
]


class _Greeter(Agent):
    async def on_enter(self) -> None:
        self.session.generate_reply(instructions="Greet the caller.")


def _factory(ctx: BuildContext) -> tuple[Agent, AgentSession]:
    from bargein.providers.espeak_tts import EspeakTTS
    from bargein.providers.latency import Fixed
    from bargein.providers.oracle_stt import OracleSTT
    from bargein.providers.rule_based_llm import Intent, RuleBasedLLM
    from bargein.providers.silero_vad import SileroVAD

    assert ctx.truth is not None
    llm = RuleBasedLLM(
        intents=[Intent("greeting", [], GREETING),
                 Intent("hours", ["open", "hours"], HOURS)],
        fallback="Sorry, could you say that again?",
        interrupted_fallback=AFTER_INTERRUPTION,
    )
    session = AgentSession(vad=SileroVAD(), stt=OracleSTT(ctx.truth), llm=llm,
                           tts=EspeakTTS(voice="en-us", ttfb=Fixed(TTS_FIRST_BYTE)),
                           interruption=InterruptionOptions(min_duration=0.3))
    return _Greeter(instructions="A short support line."), session


class _Starvation:
    """Measures how late a thread that asks to wake every 5 ms really wakes (the process is
    starved of CPU on a busy machine): the worst lateness seen while it runs."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            asked = time.perf_counter()  # wall-clock-ok: measures machine load in a test
            time.sleep(0.005)
            late = time.perf_counter() - asked - 0.005  # wall-clock-ok: same
            self.worst = max(self.worst, late)

    def __enter__(self) -> _Starvation:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _run(live: bool) -> ScenarioResult:
    return scenario.run("fidelity", agent=BargeinAgentAdapter(_factory), script=SCRIPT,
                        live=live)


def _label(event: TimelineEvent) -> str:
    if event.kind == "agent_state":
        return f"agent_state:{event.data.get('state')}"
    return event.kind


def _keyed(result: ScenarioResult) -> list[tuple[tuple[str, int], TimelineEvent]]:
    """Major events in time order, each keyed by (label, occurrence of that label)."""
    seen: dict[str, int] = {}
    out = []
    for event in result.timeline.events:
        if event.kind not in MAJOR_KINDS:
            continue
        label = _label(event)
        out.append(((label, seen.get(label, 0)), event))
        seen[label] = seen.get(label, 0) + 1
    return out


def _table(sim: list[tuple[tuple[str, int], TimelineEvent]],
           live: dict[tuple[str, int], TimelineEvent]) -> tuple[str, float]:
    rows = ["| event | sim s | live s | diff ms |", "|---|---|---|---|"]
    worst = 0.0
    for key, event in sim:
        other = live.get(key)
        if other is None:
            rows.append(f"| {key[0]} #{key[1]} | {event.time:.3f} | missing | |")
            continue
        diff = other.time - event.time
        worst = max(worst, abs(diff))
        rows.append(f"| {key[0]} #{key[1]} | {event.time:.3f} | {other.time:.3f} | "
                    f"{diff * 1000:+.1f} |")
    extra = [key for key in live if key not in dict(sim)]
    for key in extra:
        rows.append(f"| {key[0]} #{key[1]} | missing | {live[key].time:.3f} | |")
    rows.append(f"\nmax |diff| = {worst * 1000:.1f} ms (bound {TOLERANCE * 1000:.0f} ms)")
    return "\n".join(rows), worst


def _order_violations(sim: list[tuple[tuple[str, int], TimelineEvent]],
                      live: list[tuple[tuple[str, int], TimelineEvent]]) -> list[str]:
    """Pairs in a different order live, unless simultaneous (same frame) in simulation."""
    sim_time = {key: event.time for key, event in sim}
    rank = {key: i for i, (key, _) in enumerate(live)}
    problems = []
    keys = [key for key, _ in sim if key in rank]
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            if rank[b] < rank[a] and sim_time[b] - sim_time[a] > SAME_FRAME + 1e-9:
                problems.append(f"{a[0]} #{a[1]} ({sim_time[a]:.3f} s) came after "
                                f"{b[0]} #{b[1]} ({sim_time[b]:.3f} s) live")
    return problems


@pytest.fixture(scope="module")
def runs() -> tuple[ScenarioResult, ScenarioResult, float]:
    """The simulated run, the live run and the live run's measured slack (seconds)."""
    simulated = _run(live=False)
    before = work_overrun()
    with _Starvation() as starvation:
        live = _run(live=True)
    # On a busy machine the real work (espeak, Silero) outlasts its latency model, and the
    # process waits for a core: the live run falls behind by that much. Both are measured and
    # allowed on top of the bound (on an idle machine they are a few ms).
    overrun = work_overrun() - before
    print(f"\nsimulated: {simulated.duration:.2f} s of audio in {simulated.wall_seconds:.2f} s"
          f"; live: {live.duration:.2f} s of audio in {live.wall_seconds:.2f} s; provider work "
          f"beyond its latency model: {overrun * 1000:.0f} ms; worst wait for a core: "
          f"{starvation.worst * 1000:.0f} ms")
    return simulated, live, overrun + starvation.worst


def test_live_and_simulated_runs_have_the_same_events_texts_and_order(runs) -> None:
    simulated, live, _slack = runs
    assert simulated.success, simulated.reasoning
    assert live.success, live.reasoning
    sim_events = _keyed(simulated)
    live_events = _keyed(live)
    live_by_key = dict(live_events)
    table, _worst = _table(sim_events, live_by_key)
    print(f"\n{table}")
    # The same events happened...
    assert sorted(live_by_key) == sorted(dict(sim_events)), table
    # ...saying the same things...
    sim_messages = [(e.data["text"], e.data["interrupted"]) for e in simulated.timeline.events
                    if e.kind == "agent_message"]
    live_messages = [(e.data["text"], e.data["interrupted"]) for e in live.timeline.events
                     if e.kind == "agent_message"]
    assert sim_messages == live_messages
    assert [text for text, _ in sim_messages] == [GREETING, "We", AFTER_INTERRUPTION]
    # ...in the same order.
    order = _order_violations(sim_events, live_events)
    assert not order, "\n".join(order) + "\n" + table


@pytest.mark.xfail(strict=False, reason=(
    "open: the end of a user turn races the recognizer's final against the endpointing "
    "delay; live, the first turn ends either within 20 ms of the simulation or about 90 ms "
    "before it (both seen on an idle machine), so the 40 ms bound fails in about half the "
    "live runs"))
def test_live_and_simulated_runs_give_the_same_times(runs) -> None:
    simulated, live, slack = runs
    table, worst = _table(_keyed(simulated), dict(_keyed(live)))
    assert worst <= TOLERANCE + slack + 1e-9, table
