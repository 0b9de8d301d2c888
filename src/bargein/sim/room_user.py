"""The user's side of a :class:`~bargein.sim.room.Room`: what they say, and their ears.

:class:`Utterance` is one thing the user says into the room (where it lies on the
recording, and a way to cut it short); :class:`RoomUser` is the mouth that says them and
the ears that hear the agent's playout (:data:`HearCallback`). :func:`punctuated_words`
keeps a synthesized utterance's punctuation on its words for the room's ground truth. The
room itself captures the mouth's audio frame by frame (``bargein.sim.room``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from bargein.audio.frame import AudioFrame
from bargein.providers.tts import SynthesizedSpeech
from bargein.providers.types import WordTiming

if TYPE_CHECKING:
    from bargein.sim.room import Room

__all__ = ["HearCallback", "RoomUser", "Utterance", "punctuated_words"]

#: ``callback(frame, at)``: ``frame`` starts playing at ``at`` seconds on the recording.
HearCallback = Callable[[AudioFrame, float], None]


def punctuated_words(speech: SynthesizedSpeech) -> tuple[WordTiming, ...]:
    """``speech.words`` with the punctuation written after each word kept on it.

    A word's text runs from its ``char_start`` to the first white space, but never past the
    next word's ``char_start``: ``"I am calling. Bye!"`` gives ``I``, ``am``, ``calling.``,
    ``Bye!``, so a transcript consumer can count sentences. Words without character
    positions keep their text.
    """
    text = speech.text
    out: list[WordTiming] = []
    words = speech.words
    for i, word in enumerate(words):
        if word.char_start is None:
            out.append(word)
            continue
        limit = len(text)
        for later in words[i + 1 :]:
            if later.char_start is not None and later.char_start > word.char_start:
                limit = later.char_start
                break
        stop = max(word.char_start, word.char_end or word.char_start)
        while stop < limit and not text[stop].isspace():
            stop += 1
        written = text[word.char_start : stop].strip()
        out.append(replace(word, text=written or word.text, char_end=stop))
    return tuple(out)


class Utterance:
    """One thing the user says into the room: where it lies on the recording, and control.

    ``start``/``end`` are seconds on the recording (``end`` moves earlier if the utterance
    is cancelled). ``await done()`` returns once its last frame reached the agent input (or
    at once after a cancel that needs no further frame, or when the room closes).
    """

    def __init__(
        self,
        room: Room,
        samples: np.ndarray,
        start_sample: int,
        text: str | None,
        words: tuple[WordTiming, ...],
    ) -> None:
        self._room = room
        self._samples = samples
        self.start_sample = start_sample
        self.stop_sample = start_sample + len(samples)
        self.text = text
        self._words = words
        self._next_word = 0
        self._cancelled = False
        self._done = asyncio.Event()

    @property
    def start(self) -> float:
        """Recording time of the first sample, seconds."""
        return self.start_sample / self._room.sample_rate

    @property
    def end(self) -> float:
        """Recording time just after the last sample that is (or will be) spoken, seconds."""
        return self.stop_sample / self._room.sample_rate

    @property
    def duration(self) -> float:
        """Seconds of audio spoken (or to be spoken)."""
        return self.end - self.start

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancelled

    @property
    def is_done(self) -> bool:
        """True once the last frame of the utterance was delivered (see :meth:`done`)."""
        return self._done.is_set()

    @property
    def words(self) -> tuple[WordTiming, ...]:
        """Punctuated word timings relative to :attr:`start` (empty for plain audio)."""
        return self._words

    async def done(self) -> None:
        """Wait until the last frame of this utterance has been delivered to the agent."""
        await self._done.wait()

    def cancel(self) -> None:
        """Stop talking now: audio from the next frame boundary on is dropped.

        The frame being captured at the moment of the call keeps its audio; an utterance
        that has not started yet is dropped entirely. Words that had not ended by the cut are
        never added to the room's ground truth.
        """
        if self._cancelled or self.is_done:
            return
        self._cancelled = True
        self._room._cut(self)

    def __repr__(self) -> str:
        what = repr(self.text) if self.text is not None else "audio"
        state = "cancelled" if self._cancelled else ("done" if self.is_done else "pending")
        return f"Utterance({what}, {self.start:.3f}-{self.end:.3f} s, {state})"


class RoomUser:
    """The user's side of a :class:`Room`: a mouth (:meth:`say`) and ears (:meth:`on_hear`)."""

    def __init__(self, room: Room) -> None:
        self._room = room
        self._listeners: list[HearCallback] = []
        self.utterances: list[Utterance] = []
        """Every utterance said in this room, in the order of the calls."""

    def say(self, audio: AudioFrame | SynthesizedSpeech, *, at: float | None = None,
            words: tuple[WordTiming, ...] | None = None) -> Utterance:
        """Speak ``audio`` into the room, from the next frame boundary or from ``at``.

        ``at`` is a recording time in seconds, rounded up to a frame boundary; a time in the
        past (or a frame already captured) raises ``ValueError``. Audio at another rate is
        resampled to the room's. Saying while already speaking *mixes* both into the mouth
        (two things at once); to speak one after the other, ``await`` the first utterance's
        :meth:`~Utterance.done` or pass ``at=first.end``. With a ``truth`` on the room and
        a :class:`~bargein.providers.tts.SynthesizedSpeech`, its words (punctuation kept, see
        :func:`punctuated_words`) are added to the truth, shifted to the utterance's start,
        as each one is spoken. ``words`` does the same for a recording (an ``AudioFrame``):
        its word timings, from the start of the audio.
        """
        return self._room._say(audio, at, words)

    @property
    def speaking(self) -> bool:
        """True if some utterance has audio at the current room time."""
        return self._room._speaking()

    def on_hear(self, callback: HearCallback) -> HearCallback:
        """Call ``callback(frame, at)`` for each agent frame as it starts playing.

        ``at`` is the frame's start on the recording (its sample position / rate). Returns
        ``callback``, so this works as a decorator.
        """
        self._listeners.append(callback)
        return callback

    def remove_listener(self, callback: HearCallback) -> None:
        """Stop calling ``callback``."""
        self._listeners.remove(callback)

