"""Runs a scenario script against an adapter in a full-duplex room, and builds the result."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from typing import Any

import numpy as np

from bargein.adapters.base import AdapterLink, AgentAdapter
from bargein.audio.frame import AudioFrame
from bargein.audio.resample import resample
from bargein.audio.wav import read_wav
from bargein.errors import (
    AgentTimeoutError,
    AudioFormatError,
    ScenarioError,
    UnsupportedCapabilityError,
)
from bargein.providers.latency import Fixed
from bargein.providers.oracle_stt import GroundTruth
from bargein.providers.tts import SynthesizedSpeech
from bargein.scenario.expectations import CheckContext, CheckResult, ExpectStep
from bargein.scenario.hearing import Hearing
from bargein.scenario.judging import JudgeStep, evaluate
from bargein.scenario.metrics import TURN_GAP, UserUtterance, compute, merge_spans
from bargein.scenario.result import Recording, ScenarioResult, Segment
from bargein.scenario.simulator import InterruptionConfig, UserSimulator
from bargein.scenario.steps import (
    AgentStep,
    InterruptStep,
    ProceedStep,
    SilenceStep,
    SleepStep,
    Step,
    UserStep,
    VerdictStep,
    as_audio_or_text,
    validate,
)
from bargein.scenario.timeline import Timeline
from bargein.scenario.user_lines import Turn, conversation_so_far
from bargein.sim.room import Room
from bargein.text import BACKCHANNEL_WORDS, normalize_words

_LEVEL = 64  # |sample| above this (about -54 dBFS) counts as audible speech

Speech = tuple[AudioFrame | SynthesizedSpeech, str]


class _Verdict(Exception):
    def __init__(self, step: VerdictStep) -> None:
        self.step = step


class ScenarioRun:
    """One execution of a script. Use :func:`bargein.scenario.run` rather than this class."""

    def __init__(self, name: str, description: str, adapter: AgentAdapter,
                 script: list[Any], *, seed: int = 0, sample_rate: int = 16000,
                 user_voice: str = "en-us+m3", interrupt_mode: str = "auto",
                 max_duration: float = 600.0, settle: float = 1.0,
                 echo_gain: float | None = None, live: bool = False,
                 user: UserSimulator | None = None, judge_llm: Any = None) -> None:
        if not isinstance(adapter, AgentAdapter):
            raise ScenarioError(
                f"agent= must be an adapter (bargein.adapters.AgentAdapter), got "
                f"{type(adapter).__name__}; wrap a bargein agent in BargeinAgentAdapter")
        self.name, self.description = name, description
        self.adapter = adapter
        self.steps = validate(script)
        if user is not None and not isinstance(user, UserSimulator):
            raise ScenarioError(f"user= must be a UserSimulator, got {type(user).__name__}")
        # a fresh copy: a simulator object reused across runs starts over each time
        self.user = dataclasses.replace(user) if user else UserSimulator(voice=user_voice)
        self.judge_llm = judge_llm
        self.seed, self.sample_rate = seed, sample_rate
        self.user_voice = self.user.voice if user is not None else user_voice
        self.interrupt_mode = interrupt_mode
        self.max_duration, self.settle = max_duration, settle
        self.echo_gain, self.live = echo_gain, live
        self.timeline = Timeline()
        self.utterances: list[UserUtterance] = []
        self.agent_messages: list[tuple[float, str, bool]] = []
        self.agent_state: str | None = None
        self._anchors: dict[int, tuple[int, int]] = {}
        self._pending_since: float | None = None
        self._check_capabilities()
        for i, step in enumerate(self.steps, 1):
            if isinstance(step, JudgeStep) and step.needs_llm and step.llm is None \
                    and judge_llm is None:
                raise ScenarioError(
                    f"step {i} ({step.describe()}) has free-text criteria, which need an LLM "
                    "judge: pass judge(..., llm=...) or run(..., judge_llm=...), or use "
                    "deterministic criteria (said, not_said, recovered_after_interruptions, "
                    "metric)")

    # -- before the start -------------------------------------------------------------------

    def _check_capabilities(self) -> None:
        caps = self.adapter.capabilities
        if self.interrupt_mode not in ("auto", "native", "vad"):
            raise ScenarioError(f"interrupt_mode must be 'auto', 'native' or 'vad', got "
                                f"{self.interrupt_mode!r}")
        previous: Step | None = None
        for i, step in enumerate(self.steps, 1):
            if isinstance(step, InterruptStep) and step.after_words is not None \
                    and not caps.streaming_transcripts:
                raise UnsupportedCapabilityError(
                    "streaming_transcripts", self.adapter.name,
                    f"step {i} ({step.describe()}) counts heard agent words, which needs "
                    "streaming transcripts; use interrupt(..., after=<seconds>) instead")
            unrolled = isinstance(step, UserStep) and isinstance(previous, AgentStep) \
                and not previous.wait
            if isinstance(step, InterruptStep) or unrolled:
                self._mode(getattr(step, "mode", "auto"), i)
            if not isinstance(step, ExpectStep):
                previous = step
        if self.sample_rate not in caps.sample_rates:
            suggestion = 16000 if 16000 in caps.sample_rates else caps.sample_rates[0]
            raise UnsupportedCapabilityError(
                "sample_rate", self.adapter.name,
                f"it runs at {caps.sample_rates} Hz; use sample_rate={suggestion}")

    def _mode(self, requested: str, index: int) -> str:
        caps = self.adapter.capabilities
        mode = requested if requested != "auto" else self.interrupt_mode
        if mode == "auto":
            mode = "native" if caps.interruption else "vad"
        if mode == "native" and not caps.interruption:
            raise UnsupportedCapabilityError(
                "interruption", self.adapter.name,
                f"step {index} asks for a native barge-in; use mode='vad' (audio only)")
        if mode == "vad" and not caps.native_vad:
            raise UnsupportedCapabilityError(
                "native_vad", self.adapter.name,
                f"step {index} needs the agent to hear the barge-in by itself; "
                "use mode='native' (cancel signal)")
        return mode

    async def _prepare(self) -> dict[int, Speech]:
        """Turn every user line into audio before the call starts (so bad files fail early)."""
        from bargein.providers.espeak_tts import EspeakTTS

        # the simulated user's mouth has no synthesis latency: its lines are "already thought"
        tts = EspeakTTS(voice=self.user_voice, sample_rate=self.sample_rate, ttfb=Fixed(0.0))
        self.tts = tts
        audio: dict[int, Speech] = {}
        for i, step in enumerate(self.steps, 1):
            if not isinstance(step, (UserStep, InterruptStep)):
                continue
            content = as_audio_or_text(step.content)
            if isinstance(content, str):
                if not content.strip():
                    raise ScenarioError(f"step {i} ({step.describe()}) has nothing to say")
                audio[i] = (await tts.synthesize(content), content)
                continue
            try:
                frame = content if isinstance(content, AudioFrame) else read_wav(content)
            except (FileNotFoundError, AudioFormatError) as exc:
                raise ScenarioError(f"step {i} ({step.describe()}): {exc}") from exc
            audio[i] = (resample(frame, self.sample_rate), step.transcript or "")
        return audio

    # -- running ---------------------------------------------------------------------------

    async def run(self) -> ScenarioResult:
        wall = time.perf_counter()  # wall-clock-ok: reported run cost, not runtime timing
        audio = await self._prepare()
        truth = GroundTruth()
        room = Room(self.sample_rate, truth=truth, echo_gain=self.echo_gain)
        self.room, self.truth = room, truth
        self.hearing = Hearing(clock=lambda: room.time)
        room.user.on_hear(self.hearing.on_frame)
        link = AdapterLink(self.sample_rate, room.agent_input, room.agent_output,
                           self._report, lambda: room.time, truth)
        verdict: VerdictStep | None = None
        error: str | None = None
        try:
            # The agent is built and started before the recording clock starts: loading its
            # models must not eat into the conversation (it would, live).
            await self.adapter.start(link)
            await room.start()
            async with asyncio.timeout(self.max_duration):
                try:
                    for i, step in enumerate(self.steps, 1):
                        await self._do(i, step, audio)
                    await self._wait_quiet(self.settle)
                except _Verdict as v:
                    verdict = v.step
        except TimeoutError as exc:
            error = str(exc) if isinstance(exc, AgentTimeoutError) else (
                f"the scenario ran past max_duration={self.max_duration:g} s of audio")
        finally:
            await self.adapter.close()
            await room.aclose()
        result = await self._result(verdict, error)
        result.wall_seconds = time.perf_counter() - wall  # wall-clock-ok
        return result

    async def _do(self, index: int, step: Step, audio: dict[int, Speech]) -> None:
        if isinstance(step, VerdictStep):
            raise _Verdict(step)
        if isinstance(step, ExpectStep):
            barge_ins = sum(u.barge_in for u in self.utterances)
            self._anchors[index] = (barge_ins, len(self.utterances))
        elif isinstance(step, AgentStep):
            if step.wait:
                await self._wait_reply(index, step)
            elif self._pending_since is None:
                self._pending_since = self.room.time
        elif isinstance(step, InterruptStep):
            if self._pending_since is None:
                self._pending_since = self.room.time
            await self._barge_in(index, step, audio[index], step.trigger, step.mode)
        elif isinstance(step, UserStep):
            if self._pending_since is not None or self.hearing.speaking():
                await self._barge_in(index, step, audio[index], "first_audio", "auto")
            else:
                await self._say(audio[index], barge_in=False, yield_after=step.yield_after)
        elif isinstance(step, ProceedStep):
            await self._proceed(index, step)
        elif isinstance(step, JudgeStep):
            barge_ins = sum(u.barge_in for u in self.utterances)
            self._anchors[index] = (barge_ins, len(self.utterances))
        elif isinstance(step, (SilenceStep, SleepStep)):
            await asyncio.sleep(step.seconds)

    async def _proceed(self, index: int, step: ProceedStep) -> None:
        """Simulated-user turns with seeded random barge-ins (the step's config wins over the
        user simulator's interrupt_probability)."""
        config = step.interruptions or self.user.interruptions()
        if config is not None and config.seed is not None:
            rng = random.Random(config.seed)
        else:
            rng = random.Random(f"{self.seed}/{index}")
        for turn in range(step.turns):
            line = await self.user.write_line(self._conversation(), rng)
            await self._say((await self.tts.synthesize(line), line), barge_in=False)
            roll, delay, phrase = rng.random(), 0.0, ""
            if config is not None:
                delay = rng.uniform(*config.delay_range)
                phrase = rng.choice(config.phrases)
            if config is None or roll >= config.probability:
                self.timeline.add(self.room.time, "proceed_turn", step=index, turn=turn,
                                  interrupt=False)
                await self._wait_reply(index, AgentStep())
                continue
            self.timeline.add(self.room.time, "proceed_turn", step=index, turn=turn,
                              interrupt=True, delay=delay)
            await self._random_barge_in(index, config, delay, phrase, rng)

    async def _random_barge_in(self, index: int, config: InterruptionConfig, delay: float,
                               phrase: str, rng: random.Random) -> None:
        since = self.room.time
        moment = self.hearing.heard_seconds(delay, since)
        finished = asyncio.ensure_future(self._reply_finished(index, since))
        done, _ = await asyncio.wait([moment, finished], return_when=asyncio.FIRST_COMPLETED)
        if moment not in done:  # the reply was shorter than the delay: nothing to cut
            self.hearing.cancel(moment)
            self.timeline.add(self.room.time, "interrupt_skipped", step=index,
                              reason="reply ended before the delay")
            return
        finished.cancel()
        fire_at = moment.result()
        if fire_at > self.room.time:
            await asyncio.sleep(fire_at - self.room.time)
        heard = self.hearing.words_heard_before(self.room.time, since)
        phrase = await self.user.interjection(config, heard, self._conversation(), rng, phrase)
        speech = (await self.tts.synthesize(phrase), phrase)
        resolved = self._mode("auto", index)
        self.timeline.add(self.room.time, "interrupt_fired", trigger="after", mode=resolved,
                          content=phrase, delay=delay)
        if resolved == "native":
            await self.adapter.interrupt()
        await self._say(speech, barge_in=True, trigger="after", mode=resolved)
        await self._wait_reply(index, AgentStep())

    async def _reply_finished(self, index: int, since: float) -> None:
        await self._wait_reply(index, AgentStep(), since=since)

    def _conversation(self) -> list[Turn]:
        return conversation_so_far(self.utterances, self.agent_messages)

    async def _barge_in(self, index: int, step: UserStep | InterruptStep, speech: Speech,
                        trigger: str, mode: str) -> None:
        since = self._pending_since if self._pending_since is not None else self.room.time
        if trigger == "after":
            moment = self.hearing.heard_seconds(step.after, since)  # type: ignore[union-attr, arg-type]
        elif trigger == "after_words":
            moment = self.hearing.heard_words(step.after_words, since)  # type: ignore[union-attr, arg-type]
        else:
            moment = self.hearing.first_audio(since)
        timeout = getattr(step, "timeout", 30.0)
        try:
            fire_at = await asyncio.wait_for(asyncio.shield(moment), timeout)
        except TimeoutError:
            self.hearing.cancel(moment)
            raise AgentTimeoutError(
                f"step {index} ({step.describe()}) waited {timeout:g} s for the agent's "
                f"speech ({trigger.replace('_', ' ')}) and it never came") from None
        if fire_at > self.room.time:
            await asyncio.sleep(fire_at - self.room.time)
        resolved = self._mode(mode, index)
        if _is_backchannel(speech[1]):
            # "uh-huh" is not meant to stop anyone: never send the cancel signal with it
            resolved = "vad" if self.adapter.capabilities.native_vad else "audio"
        self.timeline.add(self.room.time, "interrupt_fired", trigger=trigger, mode=resolved,
                          content=speech[1])
        if resolved == "native":
            await self.adapter.interrupt()
        self._pending_since = None
        await self._say(speech, barge_in=True, trigger=trigger, mode=resolved)

    async def _say(self, speech: Speech, *, barge_in: bool, trigger: str | None = None,
                   mode: str | None = None, yield_after: float | None = None) -> None:
        audio, text = speech
        utt = self.room.user.say(audio)
        polite: asyncio.Future[float] | None = None
        if yield_after is not None:
            polite = self.hearing.heard_seconds(yield_after, utt.start)
            polite.add_done_callback(lambda f: None if f.cancelled() else utt.cancel())
        frame = audio.audio if isinstance(audio, SynthesizedSpeech) else audio
        first, last = _audible_bounds(frame)
        onset, end = utt.start + first, utt.start + last
        if not isinstance(audio, SynthesizedSpeech) and text:
            self.truth.add_text(text, onset, end)
        backchannel = _is_backchannel(text)
        u = UserUtterance(len(self.utterances), onset, end, text, barge_in, trigger, mode,
                          backchannel)
        self.utterances.append(u)
        self.timeline.add(onset, "user_started_speaking", utterance=u.index, text=text)
        await utt.done()
        if polite is not None and not polite.done():
            self.hearing.cancel(polite)
        if utt.cancelled:
            u.end = min(u.end, utt.end)
            self.timeline.add(u.end, "user_yielded", utterance=u.index)
        self.timeline.add(u.end, "user_stopped_speaking", utterance=u.index)

    async def _wait_reply(self, index: int, step: AgentStep, since: float | None = None) -> None:
        if since is None:
            since = self._pending_since if self._pending_since is not None else self.room.time
            self._pending_since = None
        heard = [at for at, _ in self.hearing.frames if at >= since - 1e-9]
        if not heard:
            moment = self.hearing.first_audio(since)
            try:
                await asyncio.wait_for(asyncio.shield(moment), step.timeout)
            except TimeoutError:
                self.hearing.cancel(moment)
                raise AgentTimeoutError(
                    f"step {index} ({step.describe()}): the agent did not start speaking "
                    f"within {step.timeout:g} s") from None
        await self._wait_quiet(self.settle)

    async def _wait_quiet(self, settle: float) -> None:
        """Until the agent has been silent for ``settle`` s and is not busy."""
        while True:
            end = self.hearing.last_heard_end() or 0.0
            quiet_for = self.room.time - end
            busy = self.agent_state in ("thinking", "speaking")
            if quiet_for >= settle - 1e-9 and not busy:
                return
            await asyncio.sleep(max(settle - quiet_for, 0.05) if not busy else 0.1)

    def _report(self, kind: str, *, time: float | None = None, **data: Any) -> None:
        t = self.room.time if time is None else time
        if kind == "agent_words":
            self.hearing.on_words(tuple(data.get("words", ())), t)
        elif kind == "agent_state":
            self.agent_state = data.get("state")
        elif kind == "agent_message":
            self.agent_messages.append((t, str(data.get("text", "")),
                                        bool(data.get("interrupted"))))
        self.timeline.add(t, kind, **data)

    # -- the result --------------------------------------------------------------------------

    async def _result(self, verdict: VerdictStep | None, error: str | None) -> ScenarioResult:
        room = self.room
        caps = self.adapter.capabilities
        agent_turns = merge_spans(room.agent_audible_spans(), TURN_GAP)
        for start, end in agent_turns:
            self.timeline.add(start, "agent_started_speaking")
            self.timeline.add(end, "agent_stopped_speaking")
        metrics = compute(room, self.utterances, self.hearing.words, self.agent_messages,
                          caps.streaming_transcripts)
        ctx_base = dict(metrics=metrics, utterances=self.utterances,
                        agent_messages=self.agent_messages,
                        user_spans=room.user_audible_spans(),
                        agent_spans=room.agent_audible_spans())
        checks: list[CheckResult] = []
        for index, step in enumerate(self.steps, 1):
            if index not in self._anchors:
                continue
            barge_ins, count = self._anchors[index]
            ctx = CheckContext(**ctx_base, barge_ins_before=barge_ins, utterances_before=count)
            if isinstance(step, ExpectStep):
                ok, detail = step.check(ctx)
                checks.append(CheckResult(step.description, ok, detail))
            elif isinstance(step, JudgeStep) and error is None:
                try:
                    checks += await evaluate(step, ctx, self.judge_llm)
                except ScenarioError as exc:
                    checks.append(CheckResult(f"judge: {step.describe()}", False, str(exc)))
        failed = [c for c in checks if not c.passed]
        if error is not None:
            success, reasoning = False, error
        elif verdict is not None and not verdict.success:
            success, reasoning = False, verdict.reasoning or "the script called fail()"
        elif failed:
            success = False
            reasoning = "; ".join(f"{c.description}: {c.detail}" for c in failed)
        else:
            success = True
            reasoning = (verdict.reasoning if verdict is not None and verdict.reasoning else
                         f"all {len(checks)} checks passed" if checks else "script completed")
        segments = self._segments(agent_turns)
        recording = Recording(room.recorder.stereo(), room.sample_rate, segments)
        return ScenarioResult(
            name=self.name, description=self.description, success=success,
            reasoning=reasoning, adapter=self.adapter.name, capabilities=caps.as_row(),
            seed=self.seed, live=self.live, timeline=self.timeline, metrics=metrics,
            checks=checks, utterances=self.utterances, recording=recording, error=error)

    def _segments(self, agent_turns: list[tuple[float, float]]) -> list[Segment]:
        turns = [("user", u.onset, u.end, u.text) for u in self.utterances]
        for start, end in agent_turns:
            text = next((t for at, t, _ in self.agent_messages if start <= at), "")
            turns.append(("agent", start, end, text))
        turns.sort(key=lambda t: (t[1], t[0]))
        return [Segment(party, i + 1, start, end, text)
                for i, (party, start, end, text) in enumerate(turns)]


def _is_backchannel(text: str) -> bool:
    words = normalize_words(text)
    return bool(words) and all(w in BACKCHANNEL_WORDS for w in words)


def _audible_bounds(frame: AudioFrame) -> tuple[float, float]:
    """Seconds from the frame's start to its first and past its last audible sample."""
    loud = np.flatnonzero(np.abs(frame.to_int16().astype(np.int32)) > _LEVEL)
    if len(loud) == 0:
        return 0.0, frame.duration
    return int(loud[0]) / frame.sample_rate, (int(loud[-1]) + 1) / frame.sample_rate
