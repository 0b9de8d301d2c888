"""One simulated call: the harness the scenario runner, the benchmark and the tests share.

A :class:`SimulatedCall` wires a system under test (an :class:`~bargein.adapters.AgentAdapter`)
to a full-duplex :class:`~bargein.sim.Room`, keeps the ground truth of what the simulated
user said, follows what the user hears (:class:`~bargein.scenario.hearing.Hearing`), records
what the adapter reports on a :class:`~bargein.scenario.timeline.Timeline`, and measures the
call with the metrics of :mod:`bargein.scenario.metrics`.

Its lifecycle is linear, so a worker process can run one from start to end::

    call = SimulatedCall(adapter)
    await call.start()                        # the adapter starts, then the recording clock
    said = call.say(UserSpeech.synthesized(speech), barge_in=True)
    await said.done()                         # ...script the user...
    await call.close()                        # the adapter stops, the room closes
    metrics = call.metrics()                  # measured on the recording and ground truth

or ``async with SimulatedCall(adapter) as call:`` for the first and third steps. Everything
runs on the current event loop: virtual time under ``run_simulation``, real time live.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from bargein.adapters.base import AdapterLink, AgentAdapter
from bargein.audio.frame import AudioFrame
from bargein.audio.levels import Span
from bargein.providers.oracle_stt import GroundTruth
from bargein.scenario.hearing import Hearing
from bargein.scenario.metrics import CallRecord, Metrics, UserUtterance, compute
from bargein.scenario.timeline import Timeline
from bargein.scenario.turns import AgentSpeech, AgentTurn, agent_turns
from bargein.scenario.user_audio import UserSpeech
from bargein.sim.room import Room, Utterance
from bargein.text import BACKCHANNEL_WORDS, is_backchannel

__all__ = ["Said", "SimulatedCall"]


@dataclass
class Said:
    """One :meth:`SimulatedCall.say`: the room's utterance and its ground truth.

    ``await done()`` returns when the last frame reached the agent; if the utterance was
    cut short (``cancel()``, or a polite caller yielding), its ground truth is trimmed to
    what was really said."""

    call: SimulatedCall
    utterance: UserUtterance
    room_utterance: Utterance
    _closed: bool = field(default=False, repr=False)

    def cancel(self) -> None:
        """Stop talking at the next frame boundary."""
        self.room_utterance.cancel()

    async def done(self) -> None:
        """Wait until it has been said (or cut); records where it ended on the timeline."""
        await self.room_utterance.done()
        if self._closed:
            return
        self._closed = True
        u, utt = self.utterance, self.room_utterance
        if utt.cancelled:
            u.spans = [(a, min(b, utt.end)) for a, b in u.spans if a < utt.end]
            u.end = min(u.end, utt.end)
            self.call.timeline.add(u.end, "user_yielded", utterance=u.index)
        self.call.timeline.add(u.end, "user_stopped_speaking", utterance=u.index)


class SimulatedCall:
    """A system under test in a room with a simulated caller (see the module docstring).

    Args:
        adapter: the system under test.
        sample_rate: the room's rate (one of the adapter's ``sample_rates``).
        echo_gain: feed the agent's playout back into its input at this gain.
        backchannels: the words that make an utterance a backchannel (default: bargein's
            shared vocabulary, :data:`bargein.text.BACKCHANNEL_WORDS`).
    """

    def __init__(self, adapter: AgentAdapter, *, sample_rate: int = 16000,
                 echo_gain: float | None = None,
                 backchannels: frozenset[str] = BACKCHANNEL_WORDS) -> None:
        self.adapter = adapter
        self.truth = GroundTruth()
        self.room = Room(sample_rate, truth=self.truth, echo_gain=echo_gain)
        self.sample_rate = self.room.sample_rate
        self.backchannels = frozenset(backchannels)
        self.hearing = Hearing(clock=lambda: self.room.time)
        self.room.user.on_hear(self.hearing.on_frame)
        self.timeline = Timeline()
        self.utterances: list[UserUtterance] = []
        self.agent_messages: list[tuple[float, str, bool]] = []
        self.speeches: dict[str, AgentSpeech] = {}
        self.agent_state: str | None = None
        self.user_state: str | None = None
        self._state_waiters: list[tuple[str, float, asyncio.Future[float]]] = []
        #: ``(time, text, discarded)`` of every final transcript of the caller the adapter
        #: reported; ``discarded``: the agent dropped the words (said over protected speech)
        self.user_finals: list[tuple[float, str, bool]] = []
        self._discard_waiters: list[tuple[float, asyncio.Future[float]]] = []
        self.link = AdapterLink(self.sample_rate, self.room.agent_input, self.room.agent_output,
                                self.report, lambda: self.room.time, self.truth)
        self.started = False
        self.closed = False

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the adapter, then the room (time 0 of the recording).

        The agent is built and started before the recording clock starts: loading its models
        must not eat into the conversation (it would, live)."""
        if self.started:
            raise RuntimeError("this call was already started; a call runs once")
        self.started = True
        await self.adapter.start(self.link)
        await self.room.start()

    async def close(self) -> None:
        """Stop the adapter and close the room (idempotent)."""
        if self.closed:
            return
        self.closed = True
        try:
            if self.started:
                await self.adapter.close()
        finally:
            await self.room.aclose()
            for _, _, fut in self._state_waiters:
                fut.cancel()
            for _, fut in self._discard_waiters:
                fut.cancel()

    async def __aenter__(self) -> SimulatedCall:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def time(self) -> float:
        """Seconds on the recording."""
        return self.room.time

    # -- the caller --------------------------------------------------------------------------

    def say(self, speech: UserSpeech, *, at: float | None = None, barge_in: bool = False,
            trigger: str | None = None, mode: str | None = None,
            backchannel: bool | None = None) -> Said:
        """The caller starts saying ``speech`` now (or at recording time ``at``).

        ``barge_in`` marks speech said over the agent on purpose; ``backchannel`` (default:
        decided from the text with :func:`~bargein.text.is_backchannel`) marks speech not
        meant to take the turn. Returns at once; ``await said.done()`` to wait for the end.
        """
        if speech.synthesized_from is not None:
            utt = self.room.user.say(speech.synthesized_from, at=at)
        else:
            utt = self.room.user.say(speech.audio, at=at, words=speech.words or None)
        spans = [(utt.start + a, utt.start + b) for a, b in speech.spans]
        onset = spans[0][0] if spans else utt.start
        end = spans[-1][1] if spans else utt.end
        if backchannel is None:
            backchannel = is_backchannel(speech.text, self.backchannels)
        u = UserUtterance(len(self.utterances), onset, end, speech.text, barge_in, trigger,
                          mode, backchannel, spans)
        self.utterances.append(u)
        self.timeline.add(onset, "user_started_speaking", utterance=u.index, text=speech.text)
        return Said(self, u, utt)

    async def speak(self, speech: UserSpeech, *, yield_after: float | None = None,
                    **kw: Any) -> Said:
        """:meth:`say`, then wait until said. ``yield_after``: a polite caller stops talking
        once it has heard the agent for that many seconds (the agent cut in)."""
        said = self.say(speech, **kw)
        polite: asyncio.Future[float] | None = None
        if yield_after is not None:
            polite = self.hearing.heard_seconds(yield_after, said.room_utterance.start)
            polite.add_done_callback(lambda f: None if f.cancelled() else said.cancel())
        await said.done()
        if polite is not None and not polite.done():
            self.hearing.cancel(polite)
        return said

    def play_background(self, audio: AudioFrame) -> Utterance:
        """Mix ``audio`` under everything the caller says (room noise): it reaches the agent
        and the user track of the recording, but is no utterance and no ground truth."""
        return self.room.user.say(audio)

    # -- what the adapter reports ------------------------------------------------------------

    def report(self, kind: str, *, time: float | None = None, **data: Any) -> None:
        """The adapter's report callback (:data:`~bargein.adapters.base.ADAPTER_EVENTS`)."""
        t = self.room.time if time is None else time
        if kind == "agent_words":
            self.hearing.on_words(tuple(data.get("words", ())), t)
        elif kind == "agent_state":
            self.agent_state = data.get("state")
            self._wake_state(str(self.agent_state), t)
        elif kind == "user_state":
            self.user_state = data.get("state")
        elif kind == "agent_message":
            self.agent_messages.append((t, str(data.get("text", "")),
                                        bool(data.get("interrupted"))))
        elif kind == "agent_speech":
            self._on_speech(t, data)
        elif kind == "user_transcript" and data.get("final"):
            self._on_final(t, str(data.get("text", "")), bool(data.get("discarded")))
        self.timeline.add(t, kind, **data)

    def _on_final(self, t: float, text: str, discarded: bool) -> None:
        self.user_finals.append((t, text, discarded))
        for entry in list(self._discard_waiters):
            since, fut = entry
            if fut.done():
                self._discard_waiters.remove(entry)
            elif discarded and t >= since - 1e-9:
                self._discard_waiters.remove(entry)
                fut.set_result(t)

    def _on_speech(self, t: float, data: dict[str, Any]) -> None:
        sid = str(data.get("id", f"speech-{len(self.speeches)}"))
        speech = self.speeches.get(sid)
        if data.get("phase", "started") == "started":
            if speech is None:
                self.speeches[sid] = AgentSpeech(sid, t, None, bool(data.get("protected")))
            return
        if speech is None:
            speech = self.speeches[sid] = AgentSpeech(sid, t, None, bool(data.get("protected")))
        speech.end = t
        speech.interrupted = bool(data.get("interrupted"))

    def agent_state_entered(self, state: str, since: float) -> asyncio.Future[float]:
        """Resolves with the recording time the adapter reports ``agent_state`` = ``state``
        at or after ``since`` (needs an adapter that reports agent states)."""
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._state_waiters.append((state, since, fut))
        return fut

    def turn_discarded(self, since: float) -> asyncio.Future[float]:
        """Resolves with the recording time of the adapter's report that the caller's words
        since ``since`` were discarded (a final transcript flagged ``discarded``: said over
        uninterruptible speech, dropped by design). If the latest final since ``since`` is
        already such a report, it resolves at once."""
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        latest = next((f for f in reversed(self.user_finals) if f[0] >= since - 1e-9), None)
        if latest is not None and latest[2]:
            fut.set_result(latest[0])
        else:
            self._discard_waiters.append((since, fut))
        return fut

    def over_protected_speech(self, utterance: UserUtterance) -> bool | None:
        """True if ``utterance`` overlapped a speech the adapter reported as protected
        (uninterruptible), False if it overlapped none, None if the adapter reported no
        speech boundaries at all."""
        if not self.speeches:
            return None
        return any(s.protected and s.start <= utterance.end and
                   (s.end is None or s.end >= utterance.onset)
                   for s in self.speeches.values())

    def _wake_state(self, state: str, t: float) -> None:
        for entry in list(self._state_waiters):
            wanted, since, fut = entry
            if fut.done():
                self._state_waiters.remove(entry)
            elif wanted == state and t >= since - 1e-9:
                self._state_waiters.remove(entry)
                fut.set_result(t)

    # -- waiting -----------------------------------------------------------------------------

    async def wait_quiet(self, settle: float) -> None:
        """Until the agent has been inaudible for ``settle`` s and is not busy (thinking or
        speaking, as its adapter reports)."""
        while True:
            end = self.hearing.last_heard_end() or 0.0
            quiet_for = self.room.time - end
            busy = self.agent_state in ("thinking", "speaking")
            if quiet_for >= settle - 1e-9 and not busy:
                return
            await asyncio.sleep(max(settle - quiet_for, 0.05) if not busy else 0.1)

    # -- measuring ---------------------------------------------------------------------------

    def record(self) -> CallRecord:
        """What the metrics are computed from, as the call stands now."""
        return CallRecord(
            self.sample_rate, self.room.recorder.channel("agent"), list(self.utterances),
            list(self.speeches.values()), list(self.hearing.words), list(self.agent_messages),
            self.adapter.capabilities.streaming_transcripts)

    def agent_spans(self) -> list[Span]:
        """Audible spans of the agent lane."""
        return self.room.agent_audible_spans()

    def agent_turns(self, spans: list[Span] | None = None) -> list[AgentTurn]:
        """The agent turns (:mod:`bargein.scenario.turns`)."""
        return agent_turns(self.agent_spans() if spans is None else spans,
                           list(self.speeches.values()))

    def metrics(self) -> Metrics:
        """The call's :class:`~bargein.scenario.metrics.Metrics`."""
        spans = self.agent_spans()
        return compute(self.record(), spans, self.agent_turns(spans))
