"""What pocketsphinx's interims make of the benchmark's backchannels (espeak-ng, en-us).

Explains the ``+hybrid`` rows' false interruptions in benchmarks/README.md: the backchannel
filter works on words, so a backchannel it does not recognize as one confirms a barge-in.

    .venv/bin/python benchmarks/pocketsphinx_backchannels.py
"""

from __future__ import annotations

import asyncio

import numpy as np

from bargein.audio.frame import AudioFrame
from bargein.bench.cases import BACKCHANNELS
from bargein.providers.espeak_tts import EspeakTTS
from bargein.providers.pocketsphinx_stt import PocketsphinxSTT

RATE, FRAME = 16000, 320  # 20 ms frames
SILENCE = np.zeros(RATE // 5, np.int16)  # 0.2 s on each side


async def heard(stt: PocketsphinxSTT, audio: np.ndarray) -> tuple[list[str], str]:
    """(distinct interim texts, final text) of one utterance."""
    stream = stt.stream(RATE)
    data = np.concatenate([SILENCE, audio, SILENCE])
    for i in range(0, len(data) - FRAME + 1, FRAME):
        stream.push_frame(AudioFrame.from_int16(data[i:i + FRAME], RATE))
    stream.flush()
    interims: list[str] = []
    final = ""
    try:
        async for event in stream:
            if event.type.name == "FINAL":
                final = event.text
                break
            if event.text and event.text not in interims:
                interims.append(event.text)
    finally:
        await stream.aclose()
    return interims, final


async def main() -> None:
    tts, stt = EspeakTTS(voice="en-us"), PocketsphinxSTT()
    print("| said | pocketsphinx interims | its final |\n|---|---|---|")
    for text in BACKCHANNELS:
        speech = await tts.synthesize(text)
        interims, final = await heard(stt, np.frombuffer(speech.audio.data, np.int16))
        print(f"| {text} | {', '.join(repr(t) for t in interims)} | {final!r} |")


if __name__ == "__main__":
    asyncio.run(main())
