"""End-to-end speech round trip, offline: a caller speaks, the machine listens and answers.

The caller's sentences are spoken by espeak-ng and streamed in 20 ms frames, as a microphone
would deliver them. Silero VAD finds each utterance, pocketsphinx gives interim transcripts
while it is still being spoken, Whisper gives the final transcript, a rule-based responder
picks a reply, and espeak-ng speaks it. Everything is printed on the audio timeline and both
sides are recorded to a stereo WAV (left: caller, right: answer).

    python examples/speech_roundtrip.py            # virtual time: finishes in seconds
    python examples/speech_roundtrip.py --live     # the same code, in real time

This is a turn-by-turn pipeline without barge-in handling; the agent runtime builds that.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from bargein.audio import AudioFrame, StereoRecorder, split_frames
from bargein.providers import SpeechEventType, VADEventType
from bargein.providers.espeak_tts import EspeakTTS
from bargein.providers.llm import ChatMessage
from bargein.providers.pocketsphinx_stt import PocketsphinxSTT
from bargein.providers.rule_based_llm import RuleBasedLLM
from bargein.providers.silero_vad import SileroVAD
from bargein.providers.whisper_stt import WhisperSTT
from bargein.sim import run_simulation

RATE = 16000
FRAME = 0.02
CALLER_LINES = [
    "Hi, I'd like to know your business hours.",
    "Can I get a refund for my last order?",
    "Thanks, goodbye!",
]


class Demo:
    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.loop = asyncio.get_running_loop()
        self.t0 = self.loop.time()
        self.recorder = StereoRecorder(RATE, ("caller", "agent"))
        self.caller_tts = EspeakTTS(voice="en-us+m3", sample_rate=RATE)
        self.agent_tts = EspeakTTS(voice="en-gb+f3", sample_rate=RATE)
        self.llm = RuleBasedLLM()
        self.history: list[ChatMessage] = []
        self.vad = SileroVAD().stream(RATE)
        self.interim = PocketsphinxSTT().stream(RATE)
        self.final = WhisperSTT().stream(RATE)
        self.utterance_ended: asyncio.Queue[float] = asyncio.Queue()
        self.agent_done = asyncio.Event()
        self.mouth: list[AudioFrame] = []
        self.hung_up = False

    def now(self) -> float:
        """Seconds on the audio timeline (the recording starts at 0)."""
        return self.loop.time() - self.t0

    def say(self, who: str, what: str) -> None:
        print(f"[{self.now():6.2f} s] {who:<7} {what}", flush=True)

    async def caller(self) -> None:
        """The caller's mouth: says each line, then waits for the answer to finish."""
        await asyncio.sleep(0.5)
        for line in CALLER_LINES:
            speech = await self.caller_tts.synthesize(line)
            start = self.now()
            self.say("caller", f"starts speaking: {line!r}")
            self.say("", f"(truth: speech {start + speech.words[0].start:.2f}"
                         f"-{start + speech.words[-1].end:.2f} s)")
            self.agent_done.clear()
            self.mouth.extend(split_frames(speech.audio, FRAME))
            await self.agent_done.wait()
            await asyncio.sleep(0.3)
        self.hung_up = True

    async def microphone(self) -> None:
        """Delivers a 20 ms frame every 20 ms, speech or silence, like a real microphone."""
        silence = AudioFrame.silence(FRAME, RATE)
        while not self.hung_up:
            at = self.now()
            frame = self.mouth.pop(0) if self.mouth else silence
            if frame is not silence:
                self.recorder.record_at("caller", frame, at)
            self.listen(frame)
            await asyncio.sleep(max(0.0, at + FRAME - self.now()))

    def listen(self, frame: AudioFrame) -> None:
        """What the machine does with each microphone frame."""
        self.interim.push_frame(frame)
        self.final.push_frame(frame)
        for event in self.vad.push_frame(frame):
            if event.type is VADEventType.START_OF_SPEECH:
                self.say("VAD", f"speech started at {event.time:.2f} s "
                                f"(decided {1000 * (event.detected_at - event.time):.0f} ms later)")
            else:
                self.say("VAD", f"speech ended at {event.time:.2f} s")
                self.interim.flush()
                self.final.flush()
                self.utterance_ended.put_nowait(event.time)

    async def show_interims(self) -> None:
        async for event in self.interim:
            if event.type is SpeechEventType.INTERIM:
                self.say("interim", repr(event.text))

    async def answer(self) -> None:
        """Final transcript -> rule-based reply -> speech, recorded on the agent channel."""
        async for event in self.final:
            speech_end = await self.utterance_ended.get()
            self.say("final", f"{event.text!r}")
            self.history.append(ChatMessage("user", event.text))
            reply, first = "", True
            async for sentence in sentences(self.llm.chat(self.history)):
                reply += sentence
                async for chunk in self.agent_tts.stream(sentence):
                    at = self.now()
                    if first:
                        self.say("agent", f"starts answering {1000 * (at - speech_end):.0f} ms "
                                          f"after the caller stopped: {sentence.strip()!r}")
                        first = False
                    self.recorder.record_at("agent", chunk.frame, at)
                    await asyncio.sleep(max(0.0, at + chunk.frame.duration - self.now()))
            self.history.append(ChatMessage("assistant", reply))
            self.say("agent", "done")
            self.agent_done.set()

    async def run(self) -> Path:
        tasks = [
            asyncio.create_task(c)
            for c in (self.show_interims(), self.answer(), self.microphone())
        ]
        await self.caller()
        await self.interim.aclose()
        await self.final.aclose()
        await asyncio.gather(*tasks)
        path = self.out_dir / "speech_roundtrip.wav"
        self.recorder.write(path, self.out_dir / "speech_roundtrip-mono.wav")
        return path


async def sentences(chunks):
    """Regroup streamed LLM text into sentences, so speech can start after the first one."""
    pending = ""
    async for chunk in chunks:
        pending += chunk.text
        while (cut := _sentence_end(pending)) is not None:
            yield pending[:cut]
            pending = pending[cut:]
    if pending.strip():
        yield pending


def _sentence_end(text: str) -> int | None:
    for i, ch in enumerate(text[:-1]):
        if ch in ".!?" and text[i + 1] == " ":
            return i + 1
    return None


async def main(out_dir: Path) -> tuple[Path, float]:
    demo = Demo(out_dir)
    path = await demo.run()
    return path, demo.recorder.duration


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--live", action="store_true", help="run in real time")
    parser.add_argument("--out", type=Path, default=Path("out/demo"), help="output folder")
    args = parser.parse_args()
    print("bargein speech round trip: espeak-ng -> Silero VAD -> pocketsphinx + Whisper -> "
          f"rule-based reply -> espeak-ng ({'live' if args.live else 'virtual time'})\n")
    wall = time.perf_counter()
    runner = asyncio.run if args.live else run_simulation
    wav, audio_seconds = runner(main(args.out))
    wall = time.perf_counter() - wall
    print(f"\n{audio_seconds:.1f} s of conversation in {wall:.1f} s of wall time "
          f"({audio_seconds / wall:.1f}x real time, models loaded on first use included)")
    print(f"recording: {wav} (left: caller, right: agent)")
