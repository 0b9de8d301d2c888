"""What a session does when its parts report: the glue between listening, the barge-in policy,
the user's turns and the speech queue.

:class:`SessionHooks` receives :class:`~bargein.agent.recognition.RecognitionHooks` calls
(the user's voice, transcripts, end of turn) and :class:`~bargein.agent.reply.SpeechListener`
calls (a speech started, became audible, ended), turns them into policy events and user-turn
updates, and carries out the policy's decisions on the speech in progress.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bargein.agent.chat import heard_text
from bargein.agent.events import (
    AgentFalseInterruption,
    AgentWordsHeard,
    MetricsCollected,
    UserInputTranscribed,
    UserTurnExceeded,
)
from bargein.agent.interruption import (
    Action,
    AgentActivityChanged,
    Decision,
    VoiceEnded,
    VoiceStarted,
    Voicing,
    WordsHeard,
)
from bargein.agent.player import SpeechPlayer
from bargein.agent.speech import SpeechHandle
from bargein.errors import ProviderError
from bargein.providers.llm import ChatMessage
from bargein.providers.stt import SpeechEvent, SpeechEventType
from bargein.providers.types import WordTiming

if TYPE_CHECKING:
    from bargein.agent.session import AgentSession

__all__ = ["SessionHooks"]

#: Words said this long before a barge-in's onset still count for it (recognizers place
#: word starts a little early or late).
_WORD_SLACK = 0.3


class SessionHooks:
    """The callbacks of one :class:`~bargein.agent.session.AgentSession` (see the module)."""

    def __init__(self, session: AgentSession) -> None:
        self._s = session

    # -- listening (RecognitionHooks) ---------------------------------------------------------

    def on_voice_started(self, onset: float) -> None:
        s = self._s
        s._set_user_state("speaking", onset)
        if s._turns.current is None:
            s._turns.open(onset)
            s._arm_turn_limit(onset)
        s._feed_policy(VoiceStarted(s.time, onset))

    def on_voicing(self, active: bool) -> None:
        self._s._feed_policy(Voicing(self._s.time, active))

    def on_voice_ended(self, offset: float) -> None:
        s = self._s
        s._set_user_state("listening", offset)
        s._feed_policy(VoiceEnded(s.time, offset))

    def on_transcript(self, event: SpeechEvent) -> None:
        s = self._s
        final = event.type is SpeechEventType.FINAL
        if final and not event.text.strip():
            self._empty_final(event)
            return
        kept = s._turns.kept_words(event)
        s._events.emit("user_input_transcribed", UserInputTranscribed(
            event.text, final, s.time, discarded=kept.discarded and not kept.texts))
        text = kept.text(event)
        cut = s._turns.cut
        if final and kept.answered and cut is not None:
            # words said before a turn-limit cut-in: they complete the turn it cut off
            said = kept.answered
            s._turn_taking.late_final(cut, " ".join(w.text for w in said),
                                      said[0].start, said[-1].end)
            if not kept.texts:
                return
        late = s._turns.late_for(event) if final and kept.texts else None
        if late is not None:  # a slow recognizer: this belongs to a turn already taken
            s._turn_taking.late_final(late, text, event.start, event.end)
            return
        onset = s._policy.episode_onset
        if onset is not None:
            said = kept.said_since(onset - _WORD_SLACK)
            s._feed_policy(WordsHeard(s.time, tuple(said), final))
        if kept.texts or s._turns.current is not None:
            start = kept.starts[0] if kept.starts else event.start
            s._turns.add(text, final=final, start=start, end=event.end)
        self.check_turn_limit()

    def _empty_final(self, event: SpeechEvent) -> None:
        """An acknowledged flush with nothing recognized. If the turn's interim had words,
        the recognizer lost them: keep the interim and say so."""
        s = self._s
        turn = s._turns.current
        if turn is not None and turn.interim is not None and turn.interim.text.strip():
            s._report_error("stt", ProviderError(
                f"the recognizer's final transcript was empty after the interim "
                f"{turn.interim.text!r}; the interim is kept"))
            turn.keep_interim()

    def on_end_of_turn(self) -> None:
        self._s._turn_taking.end_of_turn()

    def on_preempt(self) -> None:
        self._s._turn_taking.preempt()

    def on_cancel_preempt(self) -> None:
        self._s._turn_taking.drop_prepared()

    def current_transcript(self) -> str:
        turn = self._s._turns.current
        return turn.transcript() if turn is not None else ""

    def on_error(self, source: str, error: BaseException, *, recoverable: bool = True) -> None:
        self._s._report_error(source, error, recoverable=recoverable)

    # -- speaking (SpeechListener) --------------------------------------------------------------

    def speech_started(self, handle: SpeechHandle) -> None:
        s = self._s
        s._set_agent_state("thinking")
        s._feed_policy(AgentActivityChanged(s.time, "thinking", not handle.allow_interruptions))

    def speech_audible(self, handle: SpeechHandle) -> None:
        s = self._s
        now = s.time
        if handle.started_at is None:  # a resume after a false interruption is no new start
            handle.started_at = now
        s._set_agent_state("speaking")
        s._turns.agent_became_audible(now)
        if not handle.allow_interruptions:
            s._turns.protected_started(now)
        s._feed_policy(AgentActivityChanged(now, "speaking", not handle.allow_interruptions))

    def speech_words(self, handle: SpeechHandle, player: SpeechPlayer,
                     new: list[WordTiming], at: float) -> None:
        s = self._s
        s._events.emit("agent_words_heard", AgentWordsHeard(
            handle.id, tuple(w.text for w in new),
            heard_text(player.full_text, player.words, player.position), at - s._t0))

    def speech_finished(self, handle: SpeechHandle, player: SpeechPlayer, *,
                        interrupted: bool, add_to_chat: bool) -> None:
        s = self._s
        assert s._speech is not None
        now = s.time
        queued = s._speech.queued
        if not handle.allow_interruptions:
            s._turns.protected_ended(now, more_follows=bool(queued)
                                     and not queued[0].allow_interruptions)
        cut = interrupted or player.error is not None
        handle.ended_at = now
        handle.text = player.text
        handle.words = tuple(player.words)
        handle.duration = len(player.frames) * s.frame_duration
        handle.played = player.position
        # what was heard: all of it only if it played to its end without a fault
        handle.heard_text = player.heard_text() if cut else player.text
        if player.error is not None:
            handle.error = player.error
            s._report_error(player.error_source or "speech", player.error)
        elif handle.source == "generate_reply" and not player.text and not interrupted:
            s._report_error("llm", ProviderError("the LLM's reply held no text to speak"))
        if handle.heard_text and add_to_chat:
            s._add_item(ChatMessage("assistant", handle.heard_text, interrupted=cut))
        handle._mark_done(interrupted=cut)
        s._feed_policy(AgentActivityChanged(now, "silent"))
        if s._speech.idle:
            s._set_agent_state("listening")
        self._take_held_turn()

    def _take_held_turn(self) -> None:
        """A turn that ended during protected speech is taken once that speech is over."""
        s = self._s
        recognition = s._recognition
        turn = s._turns.current
        if turn is not None and turn.transcript() and s._user_state == "listening" \
                and recognition is not None and not recognition.end_of_turn_pending:
            s._turn_taking.end_of_turn()

    # -- the policy's decisions -----------------------------------------------------------------

    def carry_out(self, decision: Decision) -> None:
        """Apply one barge-in decision to the speech in progress."""
        s = self._s
        speech = s._speech
        handle = speech.current if speech is not None else None
        player = speech.player if speech is not None else None
        if handle is None or player is None or handle.done():
            return
        if decision.action is Action.PAUSE:
            player.pause()
        elif decision.action is Action.RESUME:
            player.resume(from_word=True)
            s._events.emit("agent_false_interruption",
                           AgentFalseInterruption(resumed=True, time=decision.time))
        elif handle.allow_interruptions:
            s._interrupt_speech(handle, "barge_in", decision.audio_stopped_at)
            assert speech is not None
            speech.drop_queued()
            s._events.emit("metrics", MetricsCollected(
                "interruption_decision_latency", decision.time - decision.onset, decision.time,
                {"onset": decision.onset, "speech_id": handle.id, "reason": decision.reason}))

    def check_turn_limit(self) -> None:
        """Cut in on a user who talks past the turn limit."""
        s = self._s
        reached = s._turns.check_limit(s.time, user_speaking=s._user_state == "speaking")
        if reached is None:
            return
        event = UserTurnExceeded(reached.transcript, reached.reason, reached.sentences,
                                 reached.words, reached.duration, s.time)
        s._events.emit("user_turn_exceeded", event)
        s._spawn(s.agent.on_user_turn_exceeded(event), "on_user_turn_exceeded")

