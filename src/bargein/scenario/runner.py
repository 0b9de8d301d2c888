"""Runs a scenario script against an adapter in a full-duplex room, and builds the result."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path
from typing import Any

from bargein.adapters.base import AgentAdapter
from bargein.audio.frame import AudioFrame
from bargein.audio.resample import resample
from bargein.audio.wav import read_wav
from bargein.errors import AgentTimeoutError, AudioFormatError, ScenarioError
from bargein.providers.latency import Fixed
from bargein.scenario.barge_in_path import barge_in_mode, check_capabilities
from bargein.scenario.call import Said, SimulatedCall
from bargein.scenario.expectations import CheckResult, ExpectStep
from bargein.scenario.judging import Criteria, JudgeStep, needs_llm, scenario_criteria
from bargein.scenario.metrics import UserUtterance
from bargein.scenario.options import DEFAULT_MAX_TURNS
from bargein.scenario.outcome import build_result
from bargein.scenario.proceeding import JudgeDecided, run_proceed
from bargein.scenario.recordings import recorded_speech
from bargein.scenario.result import ScenarioResult
from bargein.scenario.simulator import UserSimulator
from bargein.scenario.steps import (
    AgentStep,
    InterruptStep,
    ProceedStep,
    SilenceStep,
    SleepStep,
    Step,
    StepFailed,
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


class ScenarioRun:
    """One execution of a script. Use :func:`bargein.scenario.run` rather than this class."""

    def __init__(self, name: str, description: str, adapter: AgentAdapter,
                 script: list[Any], *, seed: int = 0, sample_rate: int = 16000,
                 user_voice: str = "en-us+m3", interrupt_mode: str = "auto",
                 max_duration: float = 600.0, settle: float = 1.0,
                 echo_gain: float | None = None, live: bool = False,
                 user: UserSimulator | None = None, judge_llm: Any = None,
                 backchannels: frozenset[str] | set[str] = BACKCHANNEL_WORDS,
                 criteria: Criteria | None = None,
                 max_turns: int = DEFAULT_MAX_TURNS) -> None:
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
        self.max_turns = max_turns
        self.echo_gain, self.live = echo_gain, live
        if isinstance(backchannels, str) or not all(isinstance(w, str) for w in backchannels):
            raise ScenarioError("backchannels= takes a set of words, e.g. {'uh-huh', 'yeah'}")
        self.backchannels = frozenset(w.lower() for w in backchannels)
        #: what a bare judge() judges and an open-ended proceed() asks about
        self.own_criteria = scenario_criteria(criteria, description)
        self._criteria_given = bool(criteria)
        self.call: SimulatedCall | None = None
        self._anchors: dict[int, tuple[int, int]] = {}
        self._pending_since: float | None = None  # agent(wait=False): a reply under way
        self._unanswered: UserUtterance | None = None  # the caller's line awaiting a reply
        self._answer_since = 0.0  # when that line ended
        check_capabilities(adapter, self.steps, interrupt_mode=interrupt_mode,
                           sample_rate=sample_rate)
        self._check_judges()

    # -- before the start -------------------------------------------------------------------

    def _check_judges(self) -> None:
        for i, step in enumerate(self.steps, 1):
            if not isinstance(step, JudgeStep):
                continue
            if step.final and not self.own_criteria:
                raise ScenarioError(
                    f"step {i} (judge()) judges the scenario's own criteria, and this "
                    "scenario has none: give it criteria=[...] (or a description, judged by "
                    "an LLM), or write judge([...]) with criteria of its own")
            criteria = step.criteria_for(self.own_criteria)
            if needs_llm(criteria) and step.llm is None and self.judge_llm is None:
                what = ("judges the scenario's description (it has no criteria=[...]), "
                        "which needs" if step.final and not self._criteria_given else
                        "has free-text criteria, which need")
                raise ScenarioError(
                    f"step {i} ({step.describe()}) {what} an LLM judge: pass judge(..., "
                    "llm=...) or run(..., judge_llm=...), or use deterministic criteria "
                    "(said, not_said, recovered_after_interruptions, metric)")

    def mode(self, requested: str, index: int) -> str:
        """The path ("native" or "vad") of a barge-in made by step ``index``."""
        return barge_in_mode(self.adapter, requested, self.interrupt_mode, index)

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
                audio[i] = await self.synthesize(content)
                continue
            try:
                frame = content if isinstance(content, AudioFrame) else read_wav(content)
                audio[i] = recorded_speech(
                    resample(frame, self.sample_rate), transcript=step.transcript,
                    words=step.words, source=content if isinstance(content, Path) else None)
            except (FileNotFoundError, AudioFormatError, ScenarioError) as exc:
                raise ScenarioError(f"step {i} ({step.describe()}): {exc}") from exc
        return audio

    async def synthesize(self, text: str) -> UserSpeech:
        """``text`` in the simulated user's voice."""
        return UserSpeech.synthesized(await self.tts.synthesize(text))

    # -- what the call holds ------------------------------------------------------------------

    @property
    def active_call(self) -> SimulatedCall:
        """The call being run."""
        if self.call is None:
            raise RuntimeError("the scenario has not started")
        return self.call

    @property
    def room(self):  # type: ignore[no-untyped-def]
        """The call's room."""
        return self.active_call.room

    @property
    def hearing(self):  # type: ignore[no-untyped-def]
        """What the simulated user hears."""
        return self.active_call.hearing

    @property
    def timeline(self):  # type: ignore[no-untyped-def]
        """The call's timeline."""
        return self.active_call.timeline

    @property
    def utterances(self):  # type: ignore[no-untyped-def]
        """What the simulated user said so far."""
        return self.active_call.utterances

    @property
    def agent_messages(self) -> list[tuple[float, str, bool]]:
        """``(time, text, interrupted)`` of each agent message so far."""
        return self.active_call.agent_messages

    def conversation(self) -> list[Turn]:
        """The conversation so far, as the simulated user knows it."""
        return conversation_so_far(self.utterances, self.agent_messages)

    @property
    def reply_pending(self) -> bool:
        """True if the agent has not answered the caller's last line (or barge-in) yet, or a
        reply was started with ``agent(wait=False)``."""
        return self._pending_since is not None or self._unanswered is not None

    def reply_since(self) -> float:
        """Where the reply the script waits for counts from: the start marked by
        ``agent(wait=False)``, else the end of the caller's unanswered line, else now."""
        if self._pending_since is not None:
            return self._pending_since
        return self._answer_since if self._unanswered is not None else self.room.time

    # -- running ---------------------------------------------------------------------------

    async def run(self) -> ScenarioResult:
        wall = time.perf_counter()  # wall-clock-ok: reported run cost, not runtime timing
        audio = await self._prepare()
        self.call = SimulatedCall(self.adapter, sample_rate=self.sample_rate,
                                  echo_gain=self.echo_gain, backchannels=self.backchannels)
        verdict: VerdictStep | None = None
        decided: list[CheckResult] | None = None
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
                except JudgeDecided as judged:
                    verdict, decided = VerdictStep(True, str(judged)), judged.results
        except TimeoutError as exc:
            error = str(exc) if isinstance(exc, AgentTimeoutError) else (
                f"the scenario ran past max_duration={self.max_duration:g} s of audio")
        except StepFailed as exc:
            error = str(exc)
        finally:
            await self.call.close()
        result = await build_result(
            self.active_call, name=self.name, description=self.description, steps=self.steps,
            anchors=self._anchors, judge_llm=self.judge_llm, seed=self.seed, live=self.live,
            verdict=verdict, error=error, own_criteria=self.own_criteria, decided=decided)
        result.wall_seconds = time.perf_counter() - wall  # wall-clock-ok
        return result

    async def _do(self, index: int, step: Step, audio: dict[int, UserSpeech]) -> None:
        if isinstance(step, VerdictStep):
            raise _Verdict(step)
        if isinstance(step, (ExpectStep, JudgeStep)):
            barge_ins = sum(u.barge_in for u in self.utterances)
            self._anchors[index] = (barge_ins, len(self.utterances))
        elif isinstance(step, AgentStep):
            if step.wait:
                await self.wait_reply(index, step)
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
                await self.say(audio[index], barge_in=False, yield_after=step.yield_after)
        elif isinstance(step, ProceedStep):
            await run_proceed(self, index, step)
        elif isinstance(step, (SilenceStep, SleepStep)):
            await asyncio.sleep(step.seconds)

    async def _barge_in(self, index: int, step: UserStep | InterruptStep, speech: UserSpeech,
                        trigger: str, mode: str) -> None:
        since = self._pending_since if self._pending_since is not None else self.room.time
        fire_at = await self._trigger(index, step, trigger, since)
        if fire_at > self.room.time:
            await asyncio.sleep(fire_at - self.room.time)
        resolved = self.mode(mode, index)
        if is_backchannel(speech.text, self.backchannels):
            # "uh-huh" is not meant to stop anyone: never send the cancel signal with it
            resolved = "vad" if self.adapter.capabilities.native_vad else "audio"
        self.timeline.add(self.room.time, "interrupt_fired", trigger=trigger, mode=resolved,
                          content=speech.text)
        if resolved == "native":
            await self.adapter.interrupt()
        await self.say(speech, barge_in=True, trigger=trigger, mode=resolved)

    async def _trigger(self, index: int, step: UserStep | InterruptStep, trigger: str,
                       since: float) -> float:
        """The recording time the barge-in fires at (see :class:`InterruptStep`)."""
        if trigger == "at":
            at = float(step.at)  # type: ignore[union-attr, arg-type]
            if at < self.room.time - 1e-9:
                raise StepFailed(f"step {index} ({step.describe()}) was reached at "
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
        call = self.active_call
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
            raise StepFailed(
                f"step {index} ({step.describe()}): the agent was audible at "
                f"{audible.result():.2f} s without being reported thinking first; "
                "when='thinking' needs an adapter that reports agent_state")
        raise AgentTimeoutError(f"step {index} ({step.describe()}) waited {timeout:g} s for "
                                "the agent to start thinking and it never did")

    async def say(self, speech: UserSpeech, *, barge_in: bool, trigger: str | None = None,
                  mode: str | None = None, yield_after: float | None = None) -> Said:
        """The caller says ``speech`` (to its end); the agent's answer to it is then due."""
        said = await self.active_call.speak(speech, barge_in=barge_in, trigger=trigger,
                                            mode=mode, yield_after=yield_after)
        self._pending_since = None
        self._unanswered, self._answer_since = said.utterance, self.room.time
        return said

    async def wait_reply(self, index: int, step: AgentStep, since: float | None = None) -> None:
        """Until the agent's reply has been heard and it has gone quiet (``since``: where
        the reply counts from, default :meth:`reply_since`).

        A caller line the agent discarded by design (said over uninterruptible speech, as
        the adapter reports) gets no reply: the wait ends once the agent is quiet, and the
        timeline says ``turn_discarded``."""
        if since is None:
            since = self.reply_since()
            self._pending_since = None
        heard = [at for at, _ in self.hearing.frames if at >= since - 1e-9]
        if not heard:
            await self._reply_or_discard(index, step, since)
        await self.active_call.wait_quiet(self.settle)
        self._unanswered = None

    async def _reply_or_discard(self, index: int, step: AgentStep, since: float) -> None:
        call, line = self.active_call, self._unanswered
        moment = self.hearing.first_audio(since)
        waits: list[asyncio.Future[float]] = [moment]
        over_protected = line is not None and call.over_protected_speech(line) is not False
        if line is not None and over_protected:
            waits.append(call.turn_discarded(line.onset))
        try:
            done, _ = await asyncio.wait(waits, timeout=step.timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.hearing.cancel(moment)
            for fut in waits[1:]:
                fut.cancel()
        if moment in done:
            return
        if done and line is not None:
            self.timeline.add(self.room.time, "turn_discarded", utterance=line.index,
                              reason="said over uninterruptible speech")
            return
        dropped = line is not None and not over_protected and any(
            discarded and at >= line.onset for at, _, discarded in call.user_finals)
        why = (" (the agent discarded the caller's words although no uninterruptible speech "
               "was playing)" if dropped else "")
        raise AgentTimeoutError(f"step {index} ({step.describe()}): the agent did not start "
                                f"speaking within {step.timeout:g} s{why}")
