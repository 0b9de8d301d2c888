"""LiveKit audio input and output on a bargein room's microphone and speaker.

:class:`RoomAudioOutput` reports LiveKit's ``playback_started`` / ``playback_finished`` from
what the bargein output really played, and the TTS words attached to the audio as each one
starts playing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from livekit import rtc
from livekit.agents.types import USERDATA_TIMED_TRANSCRIPT, TimedString
from livekit.agents.voice import io as lk_io

from bargein.adapters.loop_clock import loop_wall_time
from bargein.audio.frame import AudioFrame
from bargein.audio.resample import resample
from bargein.io import AudioInput as BargeinAudioInput
from bargein.io import AudioOutput as BargeinAudioOutput
from bargein.livekit.frames import from_rtc_frame, to_rtc_frame

__all__ = ["NullTextOutput", "RoomAudioInput", "RoomAudioOutput", "SegmentCallback",
           "WordsCallback"]


class RoomAudioInput(lk_io.AudioInput):
    """LiveKit audio input reading a bargein :class:`~bargein.io.AudioInput`."""

    def __init__(self, source: BargeinAudioInput) -> None:
        super().__init__(label="bargein-room")
        self._iterator = source.__aiter__()

    async def __anext__(self) -> rtc.AudioFrame:
        frame = await self._iterator.__anext__()
        return to_rtc_frame(frame)


WordsCallback = Callable[[tuple[str, ...], float], None]
#: ``callback(phase, interrupted)``: a segment started playing, or its playout ended.
SegmentCallback = Callable[[str, bool | None], None]

class RoomAudioOutput(lk_io.AudioOutput):
    """LiveKit audio output playing into a bargein :class:`~bargein.io.AudioOutput`.

    One LiveKit segment (frames up to ``flush()``) is one bargein segment. The segment's
    ``playback_finished`` carries the position the bargein output really played (cut short
    by ``clear_buffer()``, held by ``pause()``). ``on_words(words, at)`` is called as each
    word attached to the audio (LiveKit ``TimedString`` with a start time) starts playing.
    """

    def __init__(self, sink: BargeinAudioOutput, *, on_words: WordsCallback | None = None,
                 on_cleared: Callable[[float], None] | None = None,
                 on_segment: SegmentCallback | None = None) -> None:
        super().__init__(label="bargein-room", sample_rate=sink.sample_rate,
                         capabilities=lk_io.AudioOutputCapabilities(pause=True))
        self._sink = sink
        self._on_words = on_words
        self._on_cleared = on_cleared
        self._on_segment = on_segment
        self._capturing = False
        self._captured = 0.0  # seconds handed to the sink in this segment
        self._pending_words: list[tuple[float, str]] = []  # (start in segment, word)
        self._started = False
        self._segment_played = 0.0
        self._watchers: set[asyncio.Task[None]] = set()
        sink.add_listener(self._on_played)

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        if not self._capturing:
            self._capturing = True
            self._captured = 0.0
            self._pending_words = []
            self._started = False
            self._segment_played = 0.0
            await super().capture_frame(frame)
            audio = self._convert(frame)
            self._queue_words(frame)
            await self._sink.capture_frame(audio)
            # the sink opened its segment with that frame: watch it to its end
            task = asyncio.get_running_loop().create_task(self._watch(), name="bargein-lk-out")
            self._watchers.add(task)
            task.add_done_callback(self._watchers.discard)
        else:
            await super().capture_frame(frame)
            audio = self._convert(frame)
            self._queue_words(frame)
            await self._sink.capture_frame(audio)
        self._captured += audio.duration

    def _convert(self, frame: rtc.AudioFrame) -> AudioFrame:
        audio = from_rtc_frame(frame)
        if audio.sample_rate != self._sink.sample_rate:
            audio = resample(audio, self._sink.sample_rate)
        return audio

    def _queue_words(self, frame: rtc.AudioFrame) -> None:
        timed = frame.userdata.get(USERDATA_TIMED_TRANSCRIPT) or ()
        for text in timed:
            if (isinstance(text, TimedString) and isinstance(text.start_time, (int, float))
                    and text.strip()):
                self._pending_words.append((float(text.start_time), text.strip()))
        self._pending_words.sort()

    def _on_played(self, frame: AudioFrame, at: float) -> None:
        if not self._capturing and not self._pending_words and self._started:
            return
        if not self._started:
            self._started = True
            self.on_playback_started(created_at=loop_wall_time())
            if self._on_segment is not None:
                self._on_segment("started", None)
        begin = self._segment_played
        self._segment_played += frame.duration
        due = [w for w in self._pending_words if w[0] < self._segment_played - 1e-9]
        if due:
            self._pending_words = self._pending_words[len(due):]
            if self._on_words is not None:
                # a word starts inside this frame: report it when its first sample plays
                offset = max(0.0, due[0][0] - begin)
                self._on_words(tuple(w for _, w in due), offset)

    async def _watch(self) -> None:
        result = await self._sink.wait_for_playout()
        self._pending_words = []
        if self._on_segment is not None and self._started:
            self._on_segment("ended", result.interrupted)
        self.on_playback_finished(playback_position=result.position,
                                  interrupted=result.interrupted)

    def flush(self) -> None:
        super().flush()
        self._capturing = False
        self._sink.flush()

    def clear_buffer(self) -> None:
        if self._on_cleared is not None and self._pending_playback_count > 0:
            self._on_cleared(self._segment_played)
        self._capturing = False
        self._sink.clear_buffer()

    def pause(self) -> None:
        self._sink.pause()

    def resume(self) -> None:
        self._sink.resume()

    async def aclose(self) -> None:
        """Stop watching segments (the sink itself belongs to the room)."""
        self._sink.remove_listener(self._on_played)
        for task in list(self._watchers):
            task.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)


class NullTextOutput(lk_io.TextOutput):
    """End of the transcription chain (a room would publish it; here nobody reads it)."""

    def __init__(self) -> None:
        super().__init__(label="bargein-null-text", next_in_chain=None)

    async def capture_text(self, text: str) -> None:
        return None

    def flush(self) -> None:
        return None
