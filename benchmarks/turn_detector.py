"""How well the turn detectors tell finished turns from unfinished ones, and what they cost.

Run: ``make bench-turn`` (same as ``.venv/bin/python benchmarks/turn_detector.py --write``:
updates the ``turn-detector`` section of ``benchmarks/README.md`` and
``turn_detector_results.json``; without ``--write`` it only prints). 10-25 minutes on
the 2-core reference machine, by its load (Whisper and pocketsphinx transcribe every
utterance).

Two sets of utterances, each followed by ``--silence`` seconds of digital silence (what a
session's ``TurnDetectorStream`` lets the detector hear after the end of speech):

- espeak-ng: complete requests a caller might make, and unfinished ones ("I'd like to book a
  table for"), each spoken alone by one of several espeak voices (as the interruption
  benchmark's paused sentences are);
- human: the openly licensed recordings of ``benchmarks/data/human`` (see its README).
  Complete: a clip's last word (or a sentence end inside it); unfinished: the same clip cut
  after the word at one third and two thirds of each sentence (an edit: the rest of the
  sentence is removed). Clause ends where the book's sentence goes on are reported apart.

Detectors: smart-turn v3.2 alone (voice), the words alone, and both combined; the words are
either the known ones (oracle) or Whisper tiny.en's transcript of the same audio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bargein.audio.frame import AudioFrame, concat
from bargein.audio.wav import read_wav
from bargein.markers import update_file

HERE = Path(__file__).resolve().parent
HUMAN_DIR = HERE / "data" / "human"
RATE = 16000
FADE = 0.01  # seconds of fade-out where a clip is cut

ESPEAK_VOICES = ("en-us+m3", "en-gb+f2", "en-us+f4", "en-gb-scotland+m4", "en-029+m1")
COMPLETE = (
    "I'd like to book a table for four people on Friday evening.",
    "What time do you open tomorrow?", "Can you tell me my account balance?",
    "I want to cancel my subscription.", "My order never arrived.",
    "Yes, that's correct.", "No thanks, that's all.", "Please send it to my work email.",
    "How much does the premium plan cost?", "I lost my credit card yesterday.",
    "Could you repeat that?", "I need to change my delivery address.",
    "My account number is four five seven two one nine.", "Thank you so much.",
    "Is there a discount for students?", "I'd like to speak to a manager.",
    "The app keeps crashing when I log in.", "Can I pay by bank transfer?",
    "That sounds good to me.", "I moved house in March.", "Where is my nearest branch?",
    "I was charged twice this month.", "Please cancel the appointment.",
    "It still doesn't work.", "Okay, go ahead.", "I'd like a refund.",
    "Do you deliver on Sundays?", "My password isn't working.", "I think so.",
    "Can you help me with my bill?", "I'll call back later.", "Book it for seven.",
    "We need a room for two nights.", "The heating has stopped working.",
    "I'm calling about my last invoice.", "Send me a text instead.",
    "How long is the warranty?", "I want to upgrade my phone.", "That's all for today.",
    "My name is Sarah Jones.", "Is the store open on Monday?", "I never got the email.",
    "Yes please.", "I'd rather not say.",
)  # fmt: skip
INCOMPLETE = (
    "I'd like to book a table for", "My account number is", "So what I was wondering is whether",
    "Can you check whether my", "I was hoping that you could", "The problem started when I",
    "Could you send the invoice to", "I moved house in March and", "What I really want is",
    "I tried to pay with my", "Please transfer me to", "I need to change the",
    "We are looking for a room with", "My phone number is five five five",
    "I'm calling because", "The thing is that", "I'd like to know if", "Can I book it for the",
    "It stopped working after I", "I want to cancel my subscription but",
    "The order was supposed to arrive on", "I spoke to someone yesterday and they said",
    "My name is", "I was charged twice for", "Could you tell me how much", "I'd like a",
    "Is it possible to", "I need it delivered by", "The last time I called, um",
    "My daughter and I", "Can you send me the", "I was wondering if you have any",
    "The heating has been broken since", "We need a table near the", "I think the problem is",
    "Well, the thing is", "Actually, I wanted to ask about", "I'd like to pay with",
    "Because the last bill was", "Let me just check my", "Do you have anything for",
    "I'm looking for something that", "What about the", "And then they told me to",
)  # fmt: skip


@dataclass
class Item:
    """One utterance to judge: its speech, its words and its label."""

    corpus: str  # "espeak" or "human"
    ident: str
    voice: str
    label: str  # "complete", "incomplete" or "clause"
    words: str
    speech: AudioFrame  # ends at the end of speech; the silence is added when judging


def with_silence(speech: AudioFrame, silence: float) -> AudioFrame:
    """``speech`` followed by ``silence`` seconds of digital silence."""
    return concat([speech, AudioFrame.silence(silence, speech.sample_rate)])


# -- human clips --------------------------------------------------------------------------


def load_human_clips() -> list[dict]:
    """The clips of ``benchmarks/data/human/manifest.json``, each with its ``audio``
    (AudioFrame, 16 kHz) added. See that folder's README for the fields."""
    manifest = json.loads((HUMAN_DIR / "manifest.json").read_text())
    return [{**clip, "audio": read_wav(HUMAN_DIR / clip["file"])} for clip in manifest["clips"]]


def cut_after(clip: dict, index: int) -> AudioFrame:
    """The clip's audio up to the end of word ``index`` (half-way into the gap to the next
    word, at most 50 ms), with a 10 ms fade-out: an edited, unfinished utterance."""
    words, audio = clip["words"], clip["audio"]
    end = words[index]["end"]
    following = words[index + 1]["start"] if index + 1 < len(words) else audio.duration
    stop = min(end + min(0.05, max(0.0, following - end) / 2), audio.duration)
    samples = audio.to_float()[: max(1, round(stop * RATE))].copy()
    fade = min(len(samples), round(FADE * RATE))
    samples[len(samples) - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return AudioFrame.from_float(samples, RATE)


def paused_sentence(clip: dict, index: int, pause: float) -> AudioFrame:
    """The whole clip with ``pause`` seconds of silence inserted after word ``index`` (an
    edit: label it so). For the interruption benchmark's paused-sentence cases."""
    if not 0 <= index < len(clip["words"]) - 1:
        raise ValueError(f"a pause needs words on both sides; {clip['id']} has "
                         f"{len(clip['words'])} words, got index {index}")
    head = cut_after(clip, index)
    tail = clip["audio"].to_float()[head.num_samples :]
    return concat([head, AudioFrame.silence(pause, RATE), AudioFrame.from_float(tail, RATE)])


_ABBREVIATIONS = frozenset({"mr.", "mrs.", "ms.", "dr.", "st.", "mt."})


def sentences(words: list[dict]) -> list[tuple[int, int]]:
    """(first, last) word indices of each sentence, split after words ending in . ? !"""
    spans, first = [], 0
    for i, w in enumerate(words):
        ends = w["text"].endswith((".", "?", "!")) and w["text"].lower() not in _ABBREVIATIONS
        if ends or i == len(words) - 1:
            spans.append((first, i))
            first = i + 1
    return spans


def human_items() -> list[Item]:
    items = []
    for clip in load_human_clips():
        words = clip["words"]
        said = lambda i, ws=words: " ".join(w["text"] for w in ws[: i + 1])  # noqa: E731
        voice = f"{clip['corpus']} {clip['speaker']}"
        ends = sentences(words) if clip["kind"] == "sentence" else [(0, len(words) - 1)]
        for first, last in ends:
            at_end = last == len(words) - 1
            if at_end:
                label = "complete" if clip["complete_at_end"] else "clause"
            else:
                label = "complete" if clip["id"] in SENTENCE_ENDS_INSIDE else "clause"
            items.append(Item("human", f"{clip['id']}@{last}", voice, label, said(last),
                              cut_after(clip, last)))
            n = last - first + 1
            cuts = {k for k in clip["natural_pauses"] if first <= k < last}
            if clip["kind"] == "sentence" and n >= 4:
                cuts |= {first + round(n / 3) - 1, first + round(2 * n / 3) - 1}
            for k in sorted(c for c in cuts if first <= c < last):
                mark = "~pause" if k in clip["natural_pauses"] else ""
                items.append(Item("human", f"{clip['id']}@{k}{mark}", voice, "incomplete",
                                  said(k), cut_after(clip, k)))
    return items


#: Clips whose inner sentence end (per Whisper's punctuation) is a real end of a turn.
SENTENCE_ENDS_INSIDE = frozenset({"ami-es2011a-h0-40s"})


# -- espeak -------------------------------------------------------------------------------


async def espeak_items() -> list[Item]:
    from bargein.providers import Fixed
    from bargein.providers.espeak_tts import EspeakTTS

    items = []
    for label, texts in (("complete", COMPLETE), ("incomplete", INCOMPLETE)):
        for i, text in enumerate(texts):
            voice = ESPEAK_VOICES[i % len(ESPEAK_VOICES)]
            tts = EspeakTTS(voice=voice, rate=150 + 10 * (i % 5), ttfb=Fixed(0.0))
            speech = await tts.synthesize(text)
            items.append(Item("espeak", f"{label}-{i}", voice, label, text, speech.audio))
    return items


# -- evaluation ---------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def progress(msg: str) -> None:
    print(f"... {msg}", file=sys.stderr, flush=True)


async def evaluate(items: list[Item], silence: float) -> list[dict]:
    """Every detector on every item; one record per item."""
    from bargein.providers import Fixed
    from bargein.providers.combined_turn import combine
    from bargein.providers.pocketsphinx_stt import PocketsphinxSTT
    from bargein.providers.smart_turn import SmartTurnDetector
    from bargein.providers.text_turn import text_cue
    from bargein.providers.whisper_stt import WhisperSTT

    voice = SmartTurnDetector(cpu_threads=1)
    voice.load()
    voice.probability(items[0].speech)  # warm-up
    whisper = WhisperSTT()
    sphinx = PocketsphinxSTT(final_delay=Fixed(0.0))
    records = []
    for n, item in enumerate(items):
        if n % 40 == 0:
            progress(f"{n}/{len(items)}")
        audio = with_silence(item.speech, silence)
        t0 = time.perf_counter()
        features = voice.features(audio)
        t1 = time.perf_counter()
        a = voice.run_model(features)
        t2 = time.perf_counter()
        recognized, _ = whisper.transcribe_samples(audio.to_float())
        sphinx_text = (await sphinx.recognize(audio)).text
        record = {"corpus": item.corpus, "id": item.ident, "voice": item.voice,
                  "label": item.label, "words": item.words, "whisper": recognized,
                  "pocketsphinx": sphinx_text,
                  "audio_p": round(a, 4), "features_ms": (t1 - t0) * 1000,
                  "decision_ms": (t2 - t0) * 1000,
                  "audio_p_by_silence": {f"{x:g}": round(voice.probability(
                      with_silence(item.speech, x)), 4) for x in SWEEP}}
        for source, words in (("oracle", item.words), ("whisper", recognized),
                              ("pocketsphinx", sphinx_text)):
            t3 = time.perf_counter()
            cue = text_cue(words)
            record[f"text_ms_{source}"] = (time.perf_counter() - t3) * 1000
            record[f"text_p_{source}"] = cue.probability
            record[f"text_reason_{source}"] = cue.reason
            record[f"combined_p_{source}"] = round(combine(a, cue.lean), 4)
        records.append(record)
    return records


DETECTORS = (
    ("smart-turn v3.2 (voice)", "audio_p", None),
    ("words (known text)", "text_p_oracle", "oracle"),
    ("words (Whisper tiny.en)", "text_p_whisper", "whisper"),
    ("words (pocketsphinx)", "text_p_pocketsphinx", "pocketsphinx"),
    ("voice + words (known text)", "combined_p_oracle", "oracle"),
    ("voice + words (Whisper tiny.en)", "combined_p_whisper", "whisper"),
    ("voice + words (pocketsphinx)", "combined_p_pocketsphinx", "pocketsphinx"),
)


#: Seconds of silence after the speech for the voice-alone sweep.
SWEEP = (0.0, 0.1, 0.2, 0.5)


def sweep_table(records: list[dict]) -> list[str]:
    """Voice alone, by the silence heard after the end of speech."""
    rows = ["", "| voices | silence after speech s | accuracy | false \"complete\" "
            "| false \"unfinished\" |", "|---|---|---|---|---|"]
    for corpus in ("espeak", "human"):
        scored = [r for r in records if r["corpus"] == corpus and r["label"] != "clause"]
        complete = [r for r in scored if r["label"] == "complete"]
        incomplete = [r for r in scored if r["label"] == "incomplete"]
        for x in SWEEP:
            key = f"{x:g}"
            said = [r["audio_p_by_silence"][key] >= 0.5 for r in scored]
            right = sum(s == (r["label"] == "complete") for s, r in zip(said, scored, strict=True))
            fc = sum(r["audio_p_by_silence"][key] >= 0.5 for r in incomplete)
            fu = sum(r["audio_p_by_silence"][key] < 0.5 for r in complete)
            rows.append(f"| {corpus} | {x:g} | {right / len(scored):.0%} | "
                        f"{fc / len(incomplete):.0%} | {fu / len(complete):.0%} |")
    return rows


def summarize(records: list[dict], corpus: str, threshold: float = 0.5) -> list[str]:
    rows = []
    scored = [r for r in records if r["corpus"] == corpus and r["label"] != "clause"]
    complete = [r for r in scored if r["label"] == "complete"]
    incomplete = [r for r in scored if r["label"] == "incomplete"]
    voices = len({r["voice"] for r in scored})
    for name, key, source in DETECTORS:
        right = sum((r[key] >= threshold) == (r["label"] == "complete") for r in scored)
        false_complete = sum(r[key] >= threshold for r in incomplete)
        missed = sum(r[key] < threshold for r in complete)
        ms = [r["decision_ms"] for r in scored] if "text" not in key else []
        text_ms = [r[f"text_ms_{source}"] for r in scored] if source else []
        if key.startswith("combined"):
            ms = [r["decision_ms"] + r[f"text_ms_{source}"] for r in scored]
        elif key.startswith("text"):
            ms = text_ms
        rows.append(
            f"| {corpus} ({voices} voices) | {name} | {len(complete)} / {len(incomplete)} | "
            f"{right / len(scored):.0%} | {false_complete / len(incomplete):.0%} | "
            f"{missed / len(complete):.0%} | {statistics.median(ms):.2f} | "
            f"{percentile(ms, 95):.2f} |"
        )
    return rows


def render(records: list[dict], silence: float) -> str:
    features = [r["features_ms"] for r in records]
    clauses = [r for r in records if r["label"] == "clause"]
    pauses = [r for r in records if r["id"].endswith("~pause")]
    clause_note = ""
    if pauses:
        said = [sum(r[k] >= 0.5 for r in pauses) for k in ("audio_p", "combined_p_oracle")]
        clause_note += (f" Human mid-sentence pauses the speakers made themselves "
                        f"({len(pauses)}, among the unfinished): called complete by the voice "
                        f"{said[0]}, by voice + known words {said[1]}.")
    if clauses:
        said_complete = sum(r["audio_p"] >= 0.5 for r in clauses)
        clause_note += (f" Clause ends where the book's sentence goes on ({len(clauses)}, not "
                       f"scored): the voice calls {said_complete} of them complete.")
    head = [
        f"Command: `.venv/bin/python benchmarks/turn_detector.py --write` "
        f"(silence after speech: {silence:g} s). Machine: {os.cpu_count()} cores "
        f"({platform.processor() or platform.machine()}), Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f} at the end; onnxruntime on 1 thread. "
        f"ms = wall time per decision (voice: features + model; "
        f"features alone median {statistics.median(features):.1f} ms).{clause_note}",
        "",
        "| voices | detector | complete / unfinished | accuracy | false \"complete\" "
        "| false \"unfinished\" | ms median | ms p95 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows = summarize(records, "espeak") + summarize(records, "human")
    return "\n".join(head + rows + sweep_table(records))


async def run(silence: float) -> list[dict]:
    progress("synthesizing the espeak utterances")
    items = await espeak_items()
    progress("cutting the human clips")
    return await evaluate(items + human_items(), silence)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true",
                        help="update benchmarks/README.md and turn_detector_results.json")
    parser.add_argument("--results", type=Path, default=None,
                        help="also write every item's scores to this JSON file")
    parser.add_argument("--silence", type=float, default=0.1,
                        help="seconds of silence after each utterance (default 0.1, as "
                             "TurnDetectorStream gives the detector)")
    args = parser.parse_args()
    if not (0.0 <= args.silence <= 2.0):
        parser.error(f"--silence must be between 0 and 2 seconds, got {args.silence}")
    records = asyncio.run(run(args.silence))
    table = render(records, args.silence)
    print(table)
    if args.results is not None:
        args.results.write_text(json.dumps(records, indent=1) + "\n")
    if args.write:
        update_file(HERE / "README.md", "turn-detector", table, heading="## Turn detector")
        (HERE / "turn_detector_results.json").write_text(json.dumps(records, indent=1) + "\n")
        print("\nwrote benchmarks/README.md and benchmarks/turn_detector_results.json",
              file=sys.stderr)


if __name__ == "__main__":
    main()
