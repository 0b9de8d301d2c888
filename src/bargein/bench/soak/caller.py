"""The soak's caller: plays a :class:`~bargein.bench.soak.plan.ScenarioPlan`'s moves into a
:class:`~bargein.scenario.call.SimulatedCall` and keeps what it said, word by word.

Every wait is bounded: a caller waiting for the agent to go quiet, or for a moment in its
speech to barge in on, loses patience and talks anyway (a caller does that too). Only the
last wait, for the agent to finish answering, tells the soak something when it runs out:
an agent that is still busy a minute after the caller's last line hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import numpy as np

from bargein.bench.cases import (
    REFERENCE_SPEECH_RMS,
    active_rms,
    caller_tts,
    cough,
    knock,
    noise_bed,
)
from bargein.bench.soak.plan import Move, ScenarioPlan
from bargein.scenario.call import Said, SimulatedCall
from bargein.scenario.metrics import UserUtterance
from bargein.scenario.user_audio import UserSpeech

__all__ = ["FINAL_PATIENCE", "FINAL_SETTLE", "Caller", "CallerLine"]

#: After its last move the caller waits for the agent to have been quiet (and not busy) this
#: long: longer than any endpointing delay plus a late final and a reply's first audio.
FINAL_SETTLE = 7.0
#: ... and at most this long: an agent still busy then is reported as a hang.
FINAL_PATIENCE = 60.0
YIELD_AFTER = 0.4  # a monologue's speaker stops once it has heard the agent this long
BED_SECONDS = 30.0  # the background noise is played in pieces this long, back to back
BURST_LEVEL_DB = (-6.0, 6.0)  # a cough or knock, relative to the reference speech level


@dataclass
class CallerLine:
    """One utterance the caller said, with its ground truth on the recording.

    ``wordy``: it holds real words the agent must take as (part of) a turn; ``words``:
    (start on the recording, word as written) of the words really said (a cut utterance
    keeps the words that ended before the cut)."""

    move: int
    kind: str
    wordy: bool
    utterance: UserUtterance
    words: list[tuple[float, str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        """What was said."""
        return " ".join(w for _, w in self.words) or self.utterance.text


class Caller:
    """Plays the moves of ``plan`` into ``call`` (already started)."""

    def __init__(self, plan: ScenarioPlan, call: SimulatedCall) -> None:
        self.plan, self.call = plan, call
        self.lines: list[CallerLine] = []
        self._said: list[tuple[CallerLine, Said]] = []
        self._rng = np.random.default_rng(plan.noise_seed)
        self._bed: asyncio.Task[None] | None = None

    async def play(self) -> None:
        """Every move, in order."""
        bed = await noise_bed(self.plan.background, self.plan.noise_seed, BED_SECONDS,
                              await self._speech_level(), self.call.sample_rate)
        if bed is not None:
            self._bed = asyncio.create_task(self._play_bed(bed))
        for number, move in enumerate(self.plan.moves):
            await self._wait(move)
            await self._do(number, move)

    async def _speech_level(self) -> float:
        """The caller's speech level (active RMS of its first line with words): the level
        the background's SNR is set against, as in the interruption benchmark."""
        first = next((m.parts[0] for m in self.plan.moves if m.parts), None)
        if first is None:
            return REFERENCE_SPEECH_RMS
        speech = await caller_tts(self.plan.voice, self.call.sample_rate).synthesize(first)
        return active_rms(speech.audio.to_float())

    async def finish(self) -> str | None:
        """Wait for the agent to answer and go quiet; a sentence if it never did."""
        try:
            await asyncio.wait_for(self._quiet(FINAL_SETTLE), FINAL_PATIENCE)
        except TimeoutError:
            state = self.call.agent_state or "unknown"
            return (f"the agent was still busy ({state}) {FINAL_PATIENCE:g} s after the "
                    f"caller's last move")
        return None

    async def _quiet(self, settle: float) -> None:
        """Until neither side has made a sound for ``settle`` s and the agent is not busy
        (thinking or speaking, as its adapter reports)."""
        call = self.call
        while True:
            said = max((line.utterance.end for line in self.lines), default=0.0)
            end = max(call.hearing.last_heard_end() or 0.0, said)
            quiet_for = call.time - end
            busy = call.agent_state in ("thinking", "speaking")
            if quiet_for >= settle - 1e-9 and not busy:
                return
            await asyncio.sleep(max(settle - quiet_for, 0.05) if not busy else 0.1)

    async def stop(self) -> None:
        """Stop the background noise."""
        if self._bed is not None:
            self._bed.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._bed

    # -- moves -----------------------------------------------------------------------------

    async def _wait(self, move: Move) -> None:
        call = self.call
        if move.wait == "quiet":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._quiet(move.settle), move.patience)
        elif move.wait == "heard":
            moment = call.hearing.heard_seconds(move.delay, call.time)
            try:
                at = await asyncio.wait_for(asyncio.shield(moment), move.patience)
            except TimeoutError:
                call.hearing.cancel(moment)
                return
            if at > call.time:
                await asyncio.sleep(at - call.time)

    async def _do(self, number: int, move: Move) -> None:
        if move.kind == "silence":
            await asyncio.sleep(move.seconds)
            return
        if move.kind == "noise":
            level = REFERENCE_SPEECH_RMS * 10 ** (self._rng.uniform(*BURST_LEVEL_DB) / 20)
            make = cough if move.burst == "cough" else knock
            audio = make(self._rng, self.call.sample_rate, float(level))
            said = self.call.say(UserSpeech.sound(audio, move.burst or "noise"),
                                 barge_in=False, backchannel=True)
            self._keep(number, move, said)
            await said.done()
            return
        if move.kind == "follow_up":
            await asyncio.sleep(move.gap)
        tts = caller_tts(self.plan.voice, self.call.sample_rate)
        for i, text in enumerate(move.parts):
            speech = UserSpeech.synthesized(await tts.synthesize(text))
            over_agent = move.kind in ("barge_in", "backchannel")
            if move.kind == "monologue":
                said = await self.call.speak(speech, yield_after=YIELD_AFTER)
                self._keep(number, move, said)
                continue
            said = self.call.say(speech, barge_in=over_agent,
                                 trigger="after" if move.wait == "heard" else None,
                                 mode="vad" if over_agent else None)
            self._keep(number, move, said)
            await said.done()
            if i + 1 < len(move.parts):
                await asyncio.sleep(move.gap)

    def _keep(self, number: int, move: Move, said: Said) -> None:
        line = CallerLine(number, move.kind, move.wordy, said.utterance)
        self.lines.append(line)
        self._said.append((line, said))

    def settle_lines(self) -> None:
        """Fill in the words really said (after cuts) on the recording's timeline; call it
        once the caller is done."""
        for line, said in self._said:
            utt = said.room_utterance
            end = utt.end + 1e-9
            line.words = [(utt.start + w.start, w.text) for w in utt.words
                          if utt.start + w.end <= end or not utt.cancelled]

    async def _play_bed(self, bed: object) -> None:
        while not self.call.closed:
            piece = self.call.play_background(bed)  # type: ignore[arg-type]
            await piece.done()
