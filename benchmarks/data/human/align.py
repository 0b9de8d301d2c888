"""Word timings of the human clips, from the audio itself.

Run: ``.venv/bin/python benchmarks/data/human/align.py`` (rewrites ``whisper_text``,
``words``, ``speech`` and ``natural_pauses`` of every clip in ``manifest.json``; the other
fields stay as written). Deterministic: the same files give the same timings.

1. faster-whisper word timestamps (bargein's ``WhisperSTT``: tiny.en, int8, one thread,
   greedy) give the words and rough times. Whisper stretches words over pauses: "ask"
   starts right after "Americans" although JFK pauses a second in between.
2. Silero VAD (bargein's ``SileroVAD`` with a 0.1 s minimum silence) finds the speech
   segments; a word that straddles a silence is pulled back to the speech on the side that
   holds most of it, so pauses appear between words where the speaker made them.
3. ``natural_pauses`` lists the words after which the speaker pauses at least
   ``PAUSE`` seconds without ending a sentence (no ``.``, ``?`` or ``!``): the speaker's own
   mid-sentence pauses.
"""

from __future__ import annotations

import json
from pathlib import Path

from bargein.audio.framing import split_frames
from bargein.audio.wav import read_wav
from bargein.providers.silero_vad import SileroVAD
from bargein.providers.vad import VADEventType
from bargein.providers.whisper_stt import WhisperSTT

HERE = Path(__file__).resolve().parent
PAUSE = 0.2  # seconds of silence that count as a pause


def speech_segments(audio) -> list[tuple[float, float]]:
    """(start, end) of each speech segment Silero finds in ``audio``."""
    stream = SileroVAD(min_silence_duration=0.1).stream(audio.sample_rate)
    events = [e for f in split_frames(audio, 0.02) for e in stream.push_frame(f)]
    events += stream.flush()
    segments, start = [], None
    for event in events:
        if event.type is VADEventType.START_OF_SPEECH:
            start = event.time
        elif start is not None:
            segments.append((round(start, 3), round(event.time, 3)))
            start = None
    return segments


def snap(start: float, end: float, segments: list[tuple[float, float]]) -> tuple[float, float]:
    """The part of [start, end] inside the speech segment that overlaps it most (unchanged
    if it overlaps no segment)."""
    best, overlap = None, 0.0
    for s, e in segments:
        o = min(end, e) - max(start, s)
        if o > overlap:
            best, overlap = (max(start, s), min(end, e)), o
    return best if best is not None else (start, end)


def main() -> None:
    manifest_path = HERE / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    stt = WhisperSTT()
    for clip in manifest["clips"]:
        audio = read_wav(HERE / clip["file"])
        text, words = stt.transcribe_samples(audio.to_float())
        segments = speech_segments(audio)
        timed = []
        for w in words:
            start, end = snap(w.start, w.end, segments)
            timed.append({"text": w.text, "start": round(start, 3), "end": round(end, 3)})
        clip["whisper_text"] = text
        clip["words"] = timed
        clip["speech"] = [list(s) for s in segments]
        clip["natural_pauses"] = [
            i for i in range(len(timed) - 1)
            if timed[i + 1]["start"] - timed[i]["end"] >= PAUSE
            and not timed[i]["text"].endswith((".", "?", "!"))
        ]
        print(f"{clip['id']}: {text}  pauses after {clip['natural_pauses']}")
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
