"""What a scenario run returns: verdict, timeline, metrics, checks and the recording."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from bargein.audio.mixer import clip_to_int16
from bargein.audio.wav import wav_bytes, write_wav
from bargein.scenario.expectations import CheckResult
from bargein.scenario.metrics import Metrics, UserUtterance
from bargein.scenario.timeline import Timeline


@dataclass(frozen=True)
class Segment:
    """One turn on the recording: who, when, and what was said (if known)."""

    party: str
    index: int
    start: float
    end: float
    text: str = ""

    @property
    def name(self) -> str:
        """File stem, e.g. ``turn03-agent``."""
        return f"turn{self.index:02d}-{self.party}"


@dataclass
class Recording:
    """The conversation audio: ``stereo`` is ``(n, 2)`` int16 (left user, right agent)."""

    stereo: np.ndarray
    sample_rate: int
    segments: list[Segment] = field(default_factory=list)

    @property
    def duration(self) -> float:
        """Seconds."""
        return len(self.stereo) / self.sample_rate

    def mono(self) -> np.ndarray:
        """Both parties summed."""
        return clip_to_int16(self.stereo.astype(np.int32).sum(axis=1))

    def stereo_wav(self) -> bytes:
        """The stereo WAV file as bytes."""
        return wav_bytes(self.stereo, self.sample_rate)

    def mono_wav(self) -> bytes:
        """The mono mix WAV file as bytes."""
        return wav_bytes(self.mono(), self.sample_rate)

    def segment_audio(self, segment: Segment) -> np.ndarray:
        """The segment's party channel between its start and end."""
        channel = 0 if segment.party == "user" else 1
        a, b = round(segment.start * self.sample_rate), round(segment.end * self.sample_rate)
        return self.stereo[a:b, channel]

    def write(self, directory: str | Path) -> dict[str, Path]:
        """Write conversation.wav, conversation-mono.wav and segments/turnNN-party.wav."""
        out = Path(directory)
        paths = {"stereo": out / "conversation.wav", "mono": out / "conversation-mono.wav"}
        write_wav(paths["stereo"], self.stereo, self.sample_rate)
        write_wav(paths["mono"], self.mono(), self.sample_rate)
        for seg in self.segments:
            audio = self.segment_audio(seg)
            if len(audio):
                path = out / "segments" / f"{seg.name}.wav"
                write_wav(path, np.ascontiguousarray(audio), self.sample_rate)
                paths[seg.name] = path
        return paths


@dataclass
class WrittenRecording(Recording):
    """A recording whose samples stayed in the report folder a worker process wrote them to:
    its length, rate and segments, no samples (a suite of thousands of calls must not hold
    every recording in the process that gathers the results)."""

    length: int = 0

    @property
    def duration(self) -> float:
        """Seconds."""
        return self.length / self.sample_rate

    def write(self, directory: str | Path) -> dict[str, Path]:
        """Refused: the audio was written where the worker put it."""
        raise RuntimeError("this recording's audio was written to its report folder by a "
                           "worker process; read it from there")


@dataclass
class ScenarioResult:
    """The outcome of :func:`bargein.scenario.run`."""

    name: str
    description: str
    success: bool
    reasoning: str
    adapter: str
    capabilities: dict[str, Any]
    seed: int
    live: bool
    timeline: Timeline
    metrics: Metrics
    checks: list[CheckResult]
    utterances: list[UserUtterance]
    recording: Recording
    error: str | None = None
    wall_seconds: float = 0.0  # not part of to_dict(): it differs from run to run

    @property
    def duration(self) -> float:
        """Seconds of conversation on the recording."""
        return self.recording.duration

    def to_dict(self) -> dict[str, Any]:
        """Everything but the audio, JSON-ready and deterministic for a seed."""
        return {
            "name": self.name,
            "description": self.description,
            "success": self.success,
            "reasoning": self.reasoning,
            "error": self.error,
            "adapter": {"name": self.adapter, "capabilities": self.capabilities},
            "seed": self.seed,
            "mode": "live" if self.live else "simulated",
            "duration": round(self.duration, 4),
            "checks": [c.to_dict() for c in self.checks],
            "metrics": self.metrics.to_dict(),
            "utterances": [_utterance(u) for u in self.utterances],
            "segments": [{"party": s.party, "index": s.index, "start": round(s.start, 4),
                          "end": round(s.end, 4), "text": s.text}
                         for s in self.recording.segments],
            "timeline": self.timeline.to_list(),
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as stable, indented JSON."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def write(self, directory: str | Path) -> dict[str, Path]:
        """Write result.json and the recording files into ``directory``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        paths = self.recording.write(out)
        paths["json"] = out / "result.json"
        paths["json"].write_text(self.to_json() + "\n")
        return paths

    def without_audio(self) -> ScenarioResult:
        """This result with a :class:`WrittenRecording` (after its report was written)."""
        rec = self.recording
        light = WrittenRecording(np.zeros((0, 2), np.int16), rec.sample_rate,
                                 list(rec.segments), length=len(rec.stereo))
        return replace(self, recording=light)

    def __repr__(self) -> str:
        verdict = "PASS" if self.success else "FAIL"
        return (f"ScenarioResult({self.name!r}, {verdict}, {self.duration:.1f} s, "
                f"{len(self.timeline.events)} events)")


def _utterance(u: UserUtterance) -> dict[str, Any]:
    return {"index": u.index, "onset": round(u.onset, 4), "end": round(u.end, 4),
            "text": u.text, "barge_in": u.barge_in, "trigger": u.trigger, "mode": u.mode,
            "backchannel": u.backchannel,
            "spans": [[round(a, 4), round(b, 4)] for a, b in u.spans]}
