"""Runs a scenario script against an adapter in a full-duplex room, and builds the result."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from pathlib import Path
from typing import Any

from bargein.adapters.base import AgentAdapter
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
from bargein.scenario.call import SimulatedCall
from bargein.scenario.expectations import ExpectStep
from bargein.scenario.judging import JudgeStep
from bargein.scenario.outcome import build_result
from bargein.scenario.recordings import recorded_speech
from bargein.scenario.result import ScenarioResult
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
from bargein.scenario.user_audio import UserSpeech
from bargein.scenario.user_lines import Turn, conversation_so_far
from bargein.text import BACKCHANNEL_WORDS, is_backchannel


class _Verdict(Exception):
    def __init__(self, step: VerdictStep) -> None:
        self.step = step


class _StepError(Exception):
    """A step could not do what it says (the run stops; the result fails with this)."""


class ScenarioRun:
    """One execution of a script. Use :func:`bargein.scenario.run` rather than this class."""

    def __init__(self, name: str, description: str, adapter: AgentAdapter,
                 script: list[Any], *, seed: int = 0, sample_rate: int = 16000,
                 user_voice: str = "en-us+m3", interrupt_mode: str = "auto",
                 max_duration: float = 600.0, settle: float = 1.0,
                 echo_gain: float | None = None, live: bool = False,
                 user: UserSimulator | None = None, judge_llm: Any = None,
                 backchannels: frozenset[str] | set[str] = BACKCHANNEL_WORDS) -> None:
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
        if isinstance(backchannels, str) or not all(isinstance(w, str) for w in backchannels):
            raise ScenarioError("backchannels= takes a set of words, e.g. {'uh-huh', 'yeah'}")
        self.backchannels = frozenset(w.lower() for w in backchannels)
        self.call: SimulatedCall | None = None
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

    async def _prepare(self) -> dict[int, UserSpeech]:
        """Turn every user line into audio before the call starts (so bad files fail early)."""
        from bargein.providers.espeak_tts import EspeakTTS

        # the simulated user's mouth has no synthesis latency: its lines are "already thought"
        tts = EspeakTTS(voice=self.user_voice, sample_rate=self.sample_rate, ttfb=Fixed(0.0))
        self.tts = tts
        audio: dict[int, UserSpeech] = {}
        for i, step in enumerate(self.steps, 1):
            if not isinstance(step, (UserStep, InterruptStep)):
                continue
            content = as_audio_or_text(step.content)
            if isinstance(content, str):
                if not content.strip():
                    raise ScenarioError(f"step {i} ({step.describe()}) has nothing to say")
                audio[i] = await self._synthesize(content)
                continue
            try:
                frame = content if isinstance(content, AudioFrame) else read_wav(content)
                audio[i] = recorded_speech(
                    resample(frame, self.sample_rate), transcript=step.transcript,
                    words=step.words, source=content if isinstance(content, Path) else None)
            except (FileNotFoundError, AudioFormatError, ScenarioError) as exc:
                raise ScenarioError(f"step {i} ({step.describe()}): {exc}") from exc
        return audio

    async def _synthesize(self, text: str) -> UserSpeech:
        return UserSpeech.synthesized(await self.tts.synthesize(text))

    # -- what the call holds ------------------------------------------------------------------

    @property
    def _call(self) -> SimulatedCall:
        if self.call is None:
            raise RuntimeError("the scenario has not started")
        return self.call

    @property
    def room(self):  # type: ignore[no-untyped-def]
        """The call's room."""
        return self._call.room

    @property
    def hearing(self):  # type: ignore[no-untyped-def]
        """What the simulated user hears."""
        return self._call.hearing

    @property
    def timeline(self):  # type: ignore[no-untyped-def]
        """The call's timeline."""
        return self._call.timeline

    @property
    def utterances(self):  # type: ignore[no-untyped-def]
        """What the simulated user said so far."""
        return self._call.utterances

    @property
    def agent_messages(self) -> list[tuple[float, str, bool]]:
        """``(time, text, interrupted)`` of each agent message so far."""
        return self._call.agent_messages

    # -- running ---------------------------------------------------------------------------

    async def run(self) -> ScenarioResult:
        wall = time.perf_counter()  # wall-clock-ok: reported run cost, not runtime timing
        audio = await self._prepare()
        self.call = SimulatedCall(self.adapter, sample_rate=self.sample_rate,
                                  echo_gain=self.echo_gain, backchannels=self.backchannels)
        verdict: VerdictStep | None = None
        error: str | None = None
        try:
            await self.call.start()
            async with asyncio.timeout(self.max_duration):
                try:
                    for i, step in enumerate(self.steps, 1):
                        await self._do(i, step, audio)
                    await self.call.wait_quiet(self.settle)
                except _Verdict as v:
                    verdict = v.step
        except TimeoutError as exc:
            error = str(exc) if isinstance(exc, AgentTimeoutError) else (
                f"the scenario ran past max_duration={self.max_duration:g} s of audio")
        except _StepError as exc:
            error = str(exc)
        finally:
            await self.call.close()
        result = await self._result(verdict, error)
        result.wall_seconds = time.perf_counter() - wall  # wall-clock-ok
        return result

    async def _do(self, index: int, step: Step, audio: dict[int, UserSpeech]) -> None:
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
            await self._say(await self._synthesize(line), barge_in=False)
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
        speech = await self._synthesize(phrase)
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

    async def _barge_in(self, index: int, step: UserStep | InterruptStep, speech: UserSpeech,
                        trigger: str, mode: str) -> None:
        since = self._pending_since if self._pending_since is not None else self.room.time
        fire_at = await self._trigger(index, step, trigger, since)
        if fire_at > self.room.time:
            await asyncio.sleep(fire_at - self.room.time)
        resolved = self._mode(mode, index)
        if is_backchannel(speech.text, self.backchannels):
            # "uh-huh" is not meant to stop anyone: never send the cancel signal with it
            resolved = "vad" if self.adapter.capabilities.native_vad else "audio"
        self.timeline.add(self.room.time, "interrupt_fired", trigger=trigger, mode=resolved,
                          content=speech.text)
        if resolved == "native":
            await self.adapter.interrupt()
        self._pending_since = None
        await self._say(speech, barge_in=True, trigger=trigger, mode=resolved)

    async def _trigger(self, index: int, step: UserStep | InterruptStep, trigger: str,
                       since: float) -> float:
        """The recording time the barge-in fires at (see :class:`InterruptStep`)."""
        if trigger == "at":
            at = float(step.at)  # type: ignore[union-attr, arg-type]
            if at < self.room.time - 1e-9:
                raise _StepError(f"step {index} ({step.describe()}) was reached at "
                                 f"{self.room.time:.2f} s, after the time it should fire")
            return at
        if trigger == "thinking":
            return await self._thinking(index, step, since)
        if trigger == "after":
            moment = self.hearing.heard_seconds(step.after, since)  # type: ignore[union-attr, arg-type]
        elif trigger == "after_words":
            moment = self.hearing.heard_words(step.after_words, since)  # type: ignore[union-attr, arg-type]
        else:
            moment = self.hearing.first_audio(since)
        timeout = getattr(step, "timeout", 30.0)
        try:
            return await asyncio.wait_for(asyncio.shield(moment), timeout)
        except TimeoutError:
            self.hearing.cancel(moment)
            raise AgentTimeoutError(
                f"step {index} ({step.describe()}) waited {timeout:g} s for the agent's "
                f"speech ({trigger.replace('_', ' ')}) and it never came") from None

    async def _thinking(self, index: int, step: UserStep | InterruptStep, since: float) -> float:
        """When the agent has taken the turn (its adapter reports ``agent_state`` thinking)
        and is not audible yet."""
        call = self._call
        if call.agent_state == "thinking" and not self.hearing.speaking():
            return self.room.time
        thinking = call.agent_state_entered("thinking", since)
        audible = self.hearing.first_audio(since)
        timeout = getattr(step, "timeout", 30.0)
        done, _ = await asyncio.wait([thinking, audible], timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        self.hearing.cancel(audible)
        thinking.cancel()
        if thinking in done:
            return thinking.result()
        if audible in done:
            raise _StepError(
                f"step {index} ({step.describe()}): the agent was audible at "
                f"{audible.result():.2f} s without being reported thinking first; "
                "when='thinking' needs an adapter that reports agent_state")
        raise AgentTimeoutError(f"step {index} ({step.describe()}) waited {timeout:g} s for "
                                "the agent to start thinking and it never did")

    async def _say(self, speech: UserSpeech, *, barge_in: bool, trigger: str | None = None,
                   mode: str | None = None, yield_after: float | None = None) -> None:
        await self._call.speak(speech, barge_in=barge_in, trigger=trigger, mode=mode,
                               yield_after=yield_after)

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
        await self._call.wait_quiet(self.settle)

    # -- the result --------------------------------------------------------------------------

    async def _result(self, verdict: VerdictStep | None, error: str | None) -> ScenarioResult:
        return await build_result(
            self._call, name=self.name, description=self.description, steps=self.steps,
            anchors=self._anchors, judge_llm=self.judge_llm, seed=self.seed, live=self.live,
            verdict=verdict, error=error)
