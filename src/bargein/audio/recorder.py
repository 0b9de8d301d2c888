"""Sample-accurate recording of a two-party conversation.

Each party has its own :class:`~bargein.audio.mixer.Track` on one timeline. The stereo file
puts the first party on the left channel and the second on the right, so overlaps (a barge-in)
stay visible; the mono mix sums both.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bargein.audio.frame import AudioFrame
from bargein.audio.mixer import Track, clip_to_int16
from bargein.audio.wav import write_wav


class StereoRecorder:
    """Records two parties (default ``"user"`` left, ``"agent"`` right) at one sample rate."""

    def __init__(self, sample_rate: int = 16000, parties: tuple[str, str] = ("user", "agent")):
        if len(parties) != 2 or parties[0] == parties[1]:
            raise ValueError(f"need two distinct party names, got {parties!r}")
        self.parties = parties
        self._tracks = {p: Track(sample_rate) for p in parties}
        self.sample_rate = self._tracks[parties[0]].sample_rate

    def track(self, party: str) -> Track:
        """The track of ``party``."""
        try:
            return self._tracks[party]
        except KeyError:
            raise KeyError(f"unknown party {party!r}; this recorder has {self.parties}") from None

    def record(self, party: str, frame: AudioFrame, at_sample: int | None = None) -> int:
        """Place ``frame`` on ``party``'s track at ``at_sample`` (default: its end)."""
        return self.track(party).add(frame, at_sample)

    def record_at(self, party: str, frame: AudioFrame, at_time: float) -> int:
        """Place ``frame`` at ``at_time`` seconds (rounded to the nearest sample)."""
        return self.record(party, frame, round(at_time * self.sample_rate))

    @property
    def num_samples(self) -> int:
        """Length of the recording: the end of whichever party spoke last."""
        return max(t.end_sample for t in self._tracks.values())

    @property
    def duration(self) -> float:
        """Length of the recording in seconds."""
        return self.num_samples / self.sample_rate

    def channel(self, party: str) -> np.ndarray:
        """``party``'s audio as int16, as long as the whole recording."""
        return self.track(party).samples(self.num_samples)

    def stereo(self) -> np.ndarray:
        """``(n, 2)`` int16: left = first party, right = second party."""
        return np.stack([self.channel(p) for p in self.parties], axis=1)

    def mono_mix(self) -> np.ndarray:
        """Both parties summed (clipped) as int16."""
        n = self.num_samples
        total = sum(self._tracks[p].samples(n).astype(np.int32) for p in self.parties)
        return clip_to_int16(np.asarray(total))

    def write(self, stereo_path: str | Path, mono_path: str | Path | None = None) -> None:
        """Write the stereo WAV, and the mono mix if ``mono_path`` is given."""
        if self.num_samples == 0:
            from bargein.errors import EmptyAudioError

            raise EmptyAudioError("nothing was recorded; refusing to write an empty WAV")
        write_wav(Path(stereo_path), self.stereo(), self.sample_rate)
        if mono_path is not None:
            write_wav(Path(mono_path), self.mono_mix(), self.sample_rate)
