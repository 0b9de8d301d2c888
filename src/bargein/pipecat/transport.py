"""A Pipecat transport on bargein audio ports: the simulator's room, or any other.

:class:`RoomTransport` is a Pipecat ``BaseTransport`` whose input reads a bargein
:class:`~bargein.io.AudioInput` and whose output plays into a bargein
:class:`~bargein.io.AudioOutput`. Pipecat's own output machinery (chunking, bot speaking
frames, interruption handling) runs unchanged; the output only adds what a real speaker adds:

- it waits while the port's playout buffer is full, so Pipecat is paced by real playout;
- on an ``InterruptionFrame`` it clears the port's buffer (what a phone serializer's
  ``clear`` does), unless the audio playing is uninterruptible;
- it knows where each of Pipecat's word frames (``TTSTextFrame``) falls in the audio, and
  reports each word the moment its first sample plays (``on_word``).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pipecat.frames.frames import (
    BotStoppedSpeakingFrame,
    CancelFrame,
    EndFrame,
    Frame,
    InputAudioRawFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
    StartFrame,
    TTSStoppedFrame,
    TTSTextFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.transports.base_input import BaseInputTransport
from pipecat.transports.base_output import BaseOutputTransport
from pipecat.transports.base_transport import BaseTransport, TransportParams
from pipecat.utils.utils import obj_id

from bargein.audio.frame import AudioFrame
from bargein.audio.resample import resample
from bargein.io import AudioInput, AudioOutput

__all__ = ["PlayoutLedger", "RoomTransport"]

#: ``on_word(text, delay)``: ``text`` starts playing ``delay`` seconds from now.
WordCallback = Callable[[str, float], None]

_EPS = 1e-9


@dataclass
class _Entry:
    kind: str  # "audio" | "word" | "end"
    seconds: float = 0.0
    text: str = ""
    interruptible: bool = True


class PlayoutLedger:
    """Where Pipecat's word frames fall in the audio stream that reaches the output.

    The output transport feeds it, in order, the audio and word frames it receives and the
    end of each speech; :meth:`consume` then tells, for each chunk written to the speaker,
    which words start inside it and where. The end of a speech marks the silence Pipecat
    pads its last chunk with. :meth:`interrupt` forgets what an interruption drops (the
    interruptible entries not yet written), as Pipecat's output does.
    """

    def __init__(self) -> None:
        self._entries: deque[_Entry] = deque()

    def add_audio(self, seconds: float, interruptible: bool) -> None:
        """Audio of ``seconds`` queued for output."""
        if seconds > 0:
            self._entries.append(_Entry("audio", seconds=seconds, interruptible=interruptible))

    def add_word(self, text: str, interruptible: bool) -> None:
        """A word that starts at this point of the queued audio."""
        if text.strip():
            self._entries.append(_Entry("word", text=text.strip(), interruptible=interruptible))

    def end_of_speech(self, interruptible: bool) -> None:
        """The speech ended: the rest of the chunk that holds its last sample is padding."""
        self._entries.append(_Entry("end", interruptible=interruptible))

    def interrupt(self) -> None:
        """Drop the interruptible entries (not yet written; Pipecat drops them too)."""
        self._entries = deque(e for e in self._entries if not e.interruptible)

    def consume(self, seconds: float) -> list[tuple[float, str]]:
        """The words starting in the next ``seconds`` of written audio: (offset, word)."""
        words: list[tuple[float, str]] = []
        position = 0.0
        while self._entries and position < seconds - _EPS:
            entry = self._entries[0]
            if entry.kind == "word":
                words.append((position, entry.text))
                self._entries.popleft()
            elif entry.kind == "end":
                self._entries.popleft()
                if position > _EPS:
                    break  # the rest of this chunk is padding
            else:
                take = min(entry.seconds, seconds - position)
                position += take
                entry.seconds -= take
                if entry.seconds <= _EPS:
                    self._entries.popleft()
        return words


class RoomInputTransport(BaseInputTransport):
    """Pushes every frame of a bargein :class:`~bargein.io.AudioInput` into the pipeline."""

    def __init__(self, source: AudioInput, params: TransportParams, **kwargs: object) -> None:
        super().__init__(params, **kwargs)
        self._source = source
        self._reader: asyncio.Task[None] | None = None

    async def start(self, frame: StartFrame) -> None:
        await super().start(frame)
        await self.set_transport_ready(frame)
        if self._reader is None:
            self._reader = self.create_task(self._read(), name="bargein-room-input")

    async def _read(self) -> None:
        async for frame in self._source:
            if frame.sample_rate != self.sample_rate:
                frame = resample(frame, self.sample_rate)
            await self.push_audio_frame(InputAudioRawFrame(
                audio=frame.to_int16().tobytes(), sample_rate=frame.sample_rate,
                num_channels=1))

    async def _stop_reading(self) -> None:
        if self._reader is not None:
            await self.cancel_task(self._reader)
            self._reader = None

    async def stop(self, frame: EndFrame) -> None:
        await super().stop(frame)
        await self._stop_reading()

    async def cancel(self, frame: CancelFrame) -> None:
        await super().cancel(frame)
        await self._stop_reading()


class RoomOutputTransport(BaseOutputTransport):
    """Plays Pipecat's output into a bargein :class:`~bargein.io.AudioOutput`."""

    def __init__(self, sink: AudioOutput, params: TransportParams, *,
                 on_word: WordCallback | None = None,
                 on_interrupted: Callable[[], None] | None = None,
                 **kwargs: object) -> None:
        super().__init__(params, **kwargs)
        self._sink = sink
        self._on_word = on_word
        self._on_interrupted = on_interrupted
        self.ledger = PlayoutLedger()
        self._words_of: dict[int, tuple[AudioFrame, list[tuple[float, str]]]] = {}
        self._generation = 0  # bumped by every interruption that clears the speaker
        self._stale_below = 0  # interruptible chunks made before the last interruption
        self._speaking = False
        self._playing_interruptible = True
        sink.add_listener(self._on_played)

    async def start(self, frame: StartFrame) -> None:
        await super().start(frame)
        await self.set_transport_ready(frame)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        if direction == FrameDirection.DOWNSTREAM:
            if isinstance(frame, OutputAudioRawFrame):
                self.ledger.add_audio(len(frame.audio) / 2 / frame.num_channels
                                      / frame.sample_rate, frame.interruptible)
            elif isinstance(frame, TTSTextFrame):
                self.ledger.add_word(frame.text, frame.interruptible)
            elif isinstance(frame, TTSStoppedFrame):
                self.ledger.end_of_speech(frame.interruptible)
            elif isinstance(frame, InterruptionFrame):
                self._interrupt()
        await super().process_frame(frame, direction)

    def _interrupt(self) -> None:
        self.ledger.interrupt()
        self._stale_below = obj_id()
        if not self._speaking or not self._playing_interruptible:
            return  # nothing playing, or uninterruptible audio: it plays on
        self._generation += 1
        self._speaking = False
        self._words_of.clear()
        self._sink.clear_buffer()
        if self._on_interrupted is not None:
            self._on_interrupted()

    async def write_audio_frame(self, frame: OutputAudioRawFrame) -> bool:
        if frame.interruptible and frame.id < self._stale_below:
            return False  # taken off Pipecat's queue just before an interruption: dropped
        samples = np.frombuffer(frame.audio, dtype=np.int16)
        if frame.num_channels > 1:
            samples = samples.reshape(-1, frame.num_channels).mean(axis=1).astype(np.int16)
        audio = AudioFrame.from_int16(samples.copy(), frame.sample_rate)
        if audio.sample_rate != self._sink.sample_rate:
            audio = resample(audio, self._sink.sample_rate)
        words = self.ledger.consume(audio.duration)
        generation = self._generation
        if words:
            self._words_of[id(audio)] = (audio, words)
        self._speaking = True
        self._playing_interruptible = frame.interruptible
        await self._sink.capture_frame(audio)
        if generation != self._generation and frame.interruptible:
            # taken off Pipecat's queue before an interruption, handed over after it
            self._words_of.pop(id(audio), None)
            self._sink.clear_buffer()
        return True

    def _on_played(self, frame: AudioFrame, at: float) -> None:
        entry = self._words_of.pop(id(frame), None)
        if entry is None or self._on_word is None:
            return
        delay = at - asyncio.get_running_loop().time()
        for offset, text in entry[1]:
            self._on_word(text, max(0.0, delay + offset))

    async def push_frame(self, frame: Frame,
                         direction: FrameDirection = FrameDirection.DOWNSTREAM) -> None:
        if isinstance(frame, BotStoppedSpeakingFrame) and direction == FrameDirection.DOWNSTREAM:
            if self._speaking:
                self._sink.flush()
            self._speaking = False
        await super().push_frame(frame, direction)

    async def cleanup(self) -> None:
        await super().cleanup()
        self._sink.remove_listener(self._on_played)


class RoomTransport(BaseTransport):
    """A Pipecat transport reading ``audio_input`` and playing into ``audio_output``.

    Both run at ``audio_output``'s rate unless ``params`` says otherwise. ``on_word`` and
    ``on_interrupted`` are called by the output (see the module docstring).
    """

    def __init__(self, audio_input: AudioInput, audio_output: AudioOutput, *,
                 params: TransportParams | None = None,
                 on_word: WordCallback | None = None,
                 on_interrupted: Callable[[], None] | None = None) -> None:
        super().__init__(name="bargein-room")
        rate = audio_output.sample_rate
        self.params = params or TransportParams(
            audio_in_enabled=True, audio_out_enabled=True, audio_in_sample_rate=rate,
            audio_out_sample_rate=rate, audio_out_end_silence_secs=0)
        self._input = RoomInputTransport(audio_input, self.params, name="bargein-room-input")
        self._output = RoomOutputTransport(audio_output, self.params, on_word=on_word,
                                           on_interrupted=on_interrupted,
                                           name="bargein-room-output")

    def input(self) -> FrameProcessor:
        """The input processor (first in the pipeline)."""
        return self._input

    def output(self) -> FrameProcessor:
        """The output processor (after the TTS)."""
        return self._output
