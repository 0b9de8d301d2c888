"""The non-speech audio of the benchmark's cases: noise bursts said over the agent (cough,
knock) and background noise beds (white, pink, babble) at a signal-to-noise ratio.

Levels are RMS on float samples (fraction of full scale); a background's SNR is set against
the speech level :func:`active_rms` measures, or :data:`REFERENCE_SPEECH_RMS` where a case
has no speech. The same seed always gives the same noise, sample for sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bargein.audio.frame import AudioFrame
from bargein.bench.caller_lines import MONOLOGUE_SENTENCES
from bargein.providers.latency import Fixed

__all__ = [
    "BABBLE_SECONDS",
    "BABBLE_VOICES",
    "REFERENCE_SPEECH_RMS",
    "Background",
    "active_rms",
    "cough",
    "knock",
    "noise_bed",
]


#: RMS (fraction of full scale) of the reference speech level: espeak-ng at volume 100.
REFERENCE_SPEECH_RMS = 0.1


@dataclass(frozen=True)
class Background:
    """Noise under the whole case: ``kind`` none/white/pink/babble at ``snr_db`` below the
    user's speech level (the reference speech level for cases without speech)."""

    kind: str
    snr_db: float | None = None

    def describe(self) -> str:
        """"clean" or e.g. "pink 10 dB"."""
        return "clean" if self.kind == "none" else f"{self.kind} {self.snr_db:g} dB"


def active_rms(x: np.ndarray) -> float:
    """RMS of the audible part of ``x`` (float samples above about -54 dBFS): the speech
    level a background's SNR is set against."""
    loud = x[np.abs(x) > 0.002]
    return float(np.sqrt(np.mean(loud**2))) if loud.size else REFERENCE_SPEECH_RMS


def _band(noise: np.ndarray, sample_rate: int, low: float, high: float) -> np.ndarray:
    """``noise`` band-passed to ``[low, high]`` Hz (brick wall in the frequency domain)."""
    spectrum = np.fft.rfft(noise)
    freqs = np.fft.rfftfreq(len(noise), 1 / sample_rate)
    spectrum[(freqs < low) | (freqs > high)] = 0
    return np.fft.irfft(spectrum, len(noise))


def _to_frame(x: np.ndarray, sample_rate: int) -> AudioFrame:
    return AudioFrame.from_int16(np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16),
                                 sample_rate)


def _set_rms(x: np.ndarray, rms: float) -> np.ndarray:
    current = float(np.sqrt(np.mean(x**2)))
    return x * (rms / current) if current > 0 else x


def cough(rng: np.random.Generator, sample_rate: int, level: float) -> AudioFrame:
    """A cough-like sound: 1-3 bursts of band-passed noise (fast attack, exponential decay),
    ``level`` RMS over its audible part."""
    pieces = []
    for i in range(int(rng.integers(1, 4))):
        dur = rng.uniform(0.15, 0.35)
        n = int(dur * sample_rate)
        t = np.arange(n) / sample_rate
        centre = rng.uniform(400, 1500)
        burst = _band(rng.standard_normal(n), sample_rate, centre * 0.4, centre * 2.5)
        env = np.minimum(t / 0.012, 1.0) * np.exp(-t / rng.uniform(0.06, 0.12))
        pieces.append(burst * env)
        if i < 2:
            pieces.append(np.zeros(int(rng.uniform(0.1, 0.25) * sample_rate)))
    x = np.concatenate(pieces)
    x = np.trim_zeros(x)
    return _to_frame(_scale_active(x, level), sample_rate)


def knock(rng: np.random.Generator, sample_rate: int, level: float) -> AudioFrame:
    """A knock-like sound: 2-4 short damped resonances with a noise click, 0.12-0.3 s apart."""
    pieces = []
    count = int(rng.integers(2, 5))
    freq = rng.uniform(150, 600)
    for i in range(count):
        n = int(rng.uniform(0.04, 0.08) * sample_rate)
        t = np.arange(n) / sample_rate
        tone = np.sin(2 * np.pi * freq * rng.uniform(0.95, 1.05) * t)
        click = _band(rng.standard_normal(n), sample_rate, 500, 5000) * np.exp(-t / 0.004)
        env = np.exp(-t / rng.uniform(0.01, 0.025))
        pieces.append((tone + 0.5 * click) * env)
        if i < count - 1:
            pieces.append(np.zeros(int(rng.uniform(0.12, 0.3) * sample_rate)))
    x = np.trim_zeros(np.concatenate(pieces))
    return _to_frame(_scale_active(x, level), sample_rate)


def _scale_active(x: np.ndarray, rms: float) -> np.ndarray:
    peak = float(np.max(np.abs(x))) or 1.0
    active = x[np.abs(x) > peak * 0.05]
    current = float(np.sqrt(np.mean(active**2))) if active.size else peak
    y = x * (rms / current)
    return np.clip(y, -0.99, 0.99)


async def noise_bed(background: Background, seed: int, duration: float, speech_rms: float,
                    sample_rate: int = 16000) -> AudioFrame | None:
    """``duration`` seconds of ``background`` noise at its SNR below ``speech_rms``, or None
    for a clean line. The same ``seed`` gives the same noise."""
    bg = background
    if bg.kind == "none" or bg.snr_db is None:
        return None
    n = math.ceil(duration * sample_rate)
    rng = np.random.default_rng(seed + 7919)
    if bg.kind == "white":
        x = rng.standard_normal(n)
    elif bg.kind == "pink":
        x = _pink(rng, n)
    elif bg.kind == "babble":
        source = await _babble_source(sample_rate)
        start = int(rng.integers(0, len(source)))
        x = np.resize(np.roll(source, -start), n)
    else:
        raise ValueError(f"unknown background kind {bg.kind!r}")
    x = _set_rms(x, speech_rms * 10 ** (-bg.snr_db / 20))
    return _to_frame(np.clip(x, -0.99, 0.99), sample_rate)


def _pink(rng: np.random.Generator, n: int) -> np.ndarray:
    """1/f noise: white noise shaped in the frequency domain."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spectrum), dtype=np.float64)
    f[0] = 1.0
    return np.fft.irfft(spectrum / np.sqrt(f), n)


#: Voices of the babble: twelve other speakers talking at once, like a busy cafeteria. (With
#: only a few talkers, Silero VAD hears them as speech even 30 dB below the user: that is a
#: competing speaker, not background noise.)
BABBLE_VOICES = (
    "en-us+m1", "en-gb+f4", "en-us+m6", "en-gb+f1", "en-us+m2", "en-gb+f2", "en-029+m3",
    "en-us+f5", "en-gb-scotland+m5", "en-us-nyc+f3", "en-gb+m7", "en-us+f1",
)  # fmt: skip
BABBLE_SECONDS = 8


_BABBLE: dict[int, np.ndarray] = {}


async def _babble_source(sample_rate: int) -> np.ndarray:
    """Twelve espeak voices talking at once (8 s, looped by the caller), unit RMS."""
    if sample_rate not in _BABBLE:
        from bargein.providers.espeak_tts import EspeakTTS

        tracks = []
        n = BABBLE_SECONDS * sample_rate
        for i, voice in enumerate(BABBLE_VOICES):
            line = " ".join(MONOLOGUE_SENTENCES[i:i + 3])
            tts = EspeakTTS(voice=voice, sample_rate=sample_rate, ttfb=Fixed(0.0))
            audio = (await tts.synthesize(line)).audio.to_float()
            tracks.append(np.roll(np.resize(audio, n), i * n // len(BABBLE_VOICES)))
        x = np.sum(tracks, axis=0)
        _BABBLE[sample_rate] = x / float(np.sqrt(np.mean(x**2)))
    return _BABBLE[sample_rate]
