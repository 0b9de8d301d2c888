"""Send the recognizer only the audio around speech, and skip the silence in between."""

from __future__ import annotations

import collections

from bargein.audio.frame import AudioFrame
from bargein.providers.stt import STTStream


class STTGate:
    """Passes frames to ``stream`` while the VAD hears speech, plus ``preroll`` seconds before
    the speech began (the VAD decides a little after the onset). Other frames are skipped:
    the stream's clock moves on without audio, so transcript times stay on the input
    timeline. With ``preroll=None`` every frame is sent.
    """

    def __init__(self, stream: STTStream, preroll: float | None) -> None:
        self.stream = stream
        self.preroll = preroll
        self._pending: collections.deque[AudioFrame] = collections.deque()
        self._pending_seconds = 0.0

    @property
    def pending_seconds(self) -> float:
        """Seconds of audio held back as pre-roll (neither sent nor skipped yet)."""
        return self._pending_seconds

    def push(self, frame: AudioFrame, *, speaking: bool) -> None:
        """Route one input frame; ``speaking`` is the VAD's state after this frame."""
        if self.preroll is None:
            self.stream.push_frame(frame)
            return
        if speaking:
            while self._pending:
                self.stream.push_frame(self._pending.popleft())
            self._pending_seconds = 0.0
            self.stream.push_frame(frame)
            return
        self._pending.append(frame)
        self._pending_seconds += frame.duration
        while self._pending and self._pending_seconds - self._pending[0].duration >= \
                self.preroll - 1e-9:
            skipped = self._pending.popleft()
            self._pending_seconds -= skipped.duration
            self.stream.skip(skipped.duration)
