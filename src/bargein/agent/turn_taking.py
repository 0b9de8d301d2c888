"""Taking the user's turn: whether there is one to take, and the reply to it.

When the end of the turn is decided, :class:`TurnTaking` takes the open user turn if it holds
real words (a backchannel while the agent talks is no turn; a turn that ends during
protected speech waits for it), runs the agent's ``on_user_turn_completed`` hook, adds the
message to the history and starts the reply. With ``preemptive_generation`` the reply may
already be prepared (LLM and TTS, held, unknown to listeners): it is released if the turn was
taken with the very words and history it was prepared for, and dropped without a sound
otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bargein.agent.agent import StopResponse
from bargein.agent.events import SpeechCreated
from bargein.agent.speech import SpeechHandle
from bargein.agent.turns import TakenTurn
from bargein.providers.llm import ChatMessage

if TYPE_CHECKING:
    from bargein.agent.session import AgentSession

__all__ = ["TurnTaking"]


@dataclass
class _Prepared:
    """A reply prepared ahead for the turn as it stood."""

    handle: SpeechHandle
    transcript: str
    history_length: int


class TurnTaking:
    """The turn-taking of one :class:`~bargein.agent.session.AgentSession`."""

    def __init__(self, session: AgentSession) -> None:
        self._s = session
        self.prepared: _Prepared | None = None

    def end_of_turn(self) -> None:
        """The silence after the user's voice ended the turn: take it if it holds words."""
        s = self._s
        turn = s._turns.current
        if turn is None or s.user_state == "speaking":
            return
        transcript = turn.transcript()
        current = s.current_speech
        if not transcript or (not s._policy.real_words(transcript.split())
                              and current is not None and current.allow_interruptions):
            s._turns.drop()  # nothing said, or a backchannel while the agent talks
            self.drop_prepared()
            return
        if current is not None and not current.allow_interruptions:
            return  # held until the protected speech ends (SessionHooks.speech_finished)
        taken = s._turns.take(s.time)
        if taken is not None:
            s._spawn(self._take(taken), "user turn")

    def preempt(self) -> None:
        """The turn sounds complete: prepare its reply if the agent has nothing else to do."""
        s = self._s
        turn, speech = s._turns.current, s._speech
        if not s.endpointing.preemptive_generation or turn is None or speech is None \
                or not speech.idle or self.prepared is not None:
            return
        transcript = turn.transcript()
        if not s._policy.real_words(transcript.split()):
            return
        handle = s._new_handle("generate_reply", None)
        pending = ChatMessage("user", transcript)
        self.prepared = _Prepared(handle, transcript, len(s.history))
        speech.prepare(handle, lambda: s._reply_text(None, pending=pending))

    def drop_prepared(self) -> None:
        """The user went on (or the turn was not one): the prepared reply goes, unheard."""
        if self.prepared is not None and self._s._speech is not None:
            self._s._speech.cancel_held()
        self.prepared = None

    async def _take(self, taken: TakenTurn) -> None:
        s = self._s
        message = ChatMessage("user", taken.turn.transcript())
        prepared, self.prepared = self.prepared, None
        history_length = len(s.history)
        speech = s._speech
        try:
            await s.agent.on_user_turn_completed(s.history.copy(), message)
        except StopResponse:
            if prepared is not None and speech is not None:
                speech.cancel_held()
            s._add_item(message)
            taken.message = message
            return
        s._add_item(message)
        taken.message = message
        if prepared is not None and speech is not None and speech.held is prepared.handle \
                and prepared.transcript == message.content \
                and prepared.history_length == history_length == len(s.history) - 1:
            # prepared for these very words, with the same history: it goes out now
            s._events.emit("speech_created", SpeechCreated(
                prepared.handle, "generate_reply", False, s.time))
            speech.release(prepared.handle)
            taken.reply = prepared.handle
            return
        if prepared is not None and speech is not None:
            speech.cancel_held()
        taken.reply = s.generate_reply()

    def late_final(self, taken: TakenTurn, text: str, start: float, end: float) -> None:
        """A final transcript (of the audio from ``start`` to ``end``) of a turn already taken
        arrived (a slow recognizer, or words a turn-limit cut-in cut off): the turn and its
        history message take the final words; a reply not heard yet is made again for them."""
        s = self._s
        before = taken.turn.transcript()
        taken.turn.add(text, final=True, start=start, end=end)
        if taken.message is not None:
            updated = ChatMessage("user", taken.turn.transcript())
            s.history.replace(taken.message, updated)
            taken.message = updated
        reply = taken.reply
        if reply is None or reply.done() or reply.started_at is not None \
                or taken.turn.transcript() == before:
            return
        s._interrupt_speech(reply, "replaced")
        taken.reply = s.generate_reply()

    def user_input_added(self, message: ChatMessage) -> None:
        """A user message was added by ``generate_reply(user_input=...)``: if it is the words
        the turn limit cut off (the default cut-in's refocusing reply), it is that turn's
        history entry, and takes the words that turn got since."""
        cut = self._s._turns.cut
        if cut is None or cut.message is not None or message.content != cut.cut_transcript:
            return
        cut.message = message
        now = cut.turn.transcript()
        if now != message.content:
            updated = ChatMessage("user", now)
            self._s.history.replace(message, updated)
            cut.message = updated
