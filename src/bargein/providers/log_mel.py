"""Whisper's log-mel spectrogram front end, in numpy (no torch, no transformers).

Audio end-of-turn models built on Whisper's encoder (smart-turn v3) take the same features
as Whisper itself: 16 kHz audio, a 25 ms periodic Hann window every 10 ms (400-point FFT,
hop 160, centred with reflection padding), the power spectrum projected on 80 Slaney-scale
mel filters with Slaney area normalisation, ``log10`` floored at 1e-10, clamped to 8
decades below the loudest bin, then mapped by ``(x + 4) / 4``. The last STFT frame is
dropped, so ``n`` samples give ``n // 160`` frames (800 for 8 s).

The extractor optionally normalises the waveform to zero mean and unit variance first, as
the ``do_normalize`` option of Hugging Face's ``WhisperFeatureExtractor`` does; smart-turn was
trained with it on.
"""

from __future__ import annotations

from functools import cache

import numpy as np

__all__ = ["HOP_LENGTH", "N_FFT", "N_MELS", "SAMPLE_RATE", "log_mel_spectrogram"]

SAMPLE_RATE = 16000
N_FFT = 400
HOP_LENGTH = 160
N_MELS = 80
_LOG_FLOOR = 1e-10
_NORMALIZE_EPS = 1e-7


def _hz_to_slaney_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz (3 mel per 200 Hz), logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz * 3.0 / 200.0
    log_step = np.log(6.4) / 27.0
    above = 15.0 + np.log(np.maximum(hz, 1e-12) / 1000.0) / log_step
    return np.where(hz >= 1000.0, above, linear)


def _slaney_mel_to_hz(mel: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_hz_to_slaney_mel`."""
    mel = np.asarray(mel, dtype=np.float64)
    linear = mel * 200.0 / 3.0
    log_step = np.log(6.4) / 27.0
    above = 1000.0 * np.exp(log_step * (mel - 15.0))
    return np.where(mel >= 15.0, above, linear)


@cache
def mel_filters() -> np.ndarray:
    """The ``(N_FFT // 2 + 1, N_MELS)`` triangular filter bank, area-normalised (float64)."""
    bins = np.linspace(0.0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    edges = _slaney_mel_to_hz(
        np.linspace(_hz_to_slaney_mel(0.0), _hz_to_slaney_mel(SAMPLE_RATE / 2), N_MELS + 2)
    )
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bins[:, None] - lower[None, :]) / (centre - lower)[None, :]
    falling = (upper[None, :] - bins[:, None]) / (upper - centre)[None, :]
    weights = np.clip(np.minimum(rising, falling), 0.0, None)
    weights *= (2.0 / (upper - lower))[None, :]
    weights.setflags(write=False)
    return weights


@cache
def _hann() -> np.ndarray:
    """Periodic Hann window of ``N_FFT`` points (as ``torch.hann_window`` makes it)."""
    n = np.arange(N_FFT)
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / N_FFT)
    window.setflags(write=False)
    return window


def log_mel_spectrogram(samples: np.ndarray, *, normalize: bool = True) -> np.ndarray:
    """Whisper log-mel features of 16 kHz mono ``samples``: float32 ``(N_MELS, n // 160)``.

    ``normalize`` first scales the waveform to zero mean and unit variance (over all of
    ``samples``, padding included). Raises ValueError for anything but a non-empty 1-D array
    of finite numbers.
    """
    x = np.asarray(samples)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"need 1-D audio with at least 2 samples, got shape {x.shape}")
    x = x.astype(np.float32)
    if not np.isfinite(x).all():
        raise ValueError("audio contains NaN or infinite samples")
    if normalize:
        x = (x - x.mean()) / np.sqrt(x.var() + _NORMALIZE_EPS)
    pad = N_FFT // 2
    padded = np.pad(x.astype(np.float64), pad, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP_LENGTH]
    power = np.abs(np.fft.rfft(frames * _hann(), axis=-1)) ** 2  # (frames, bins)
    mel = power[:-1] @ mel_filters()  # the last frame is dropped, as Whisper does
    log_mel = np.log10(np.maximum(mel, _LOG_FLOOR))
    log_mel = np.maximum(log_mel, log_mel.max() - 8.0)
    return ((log_mel + 4.0) / 4.0).T.astype(np.float32)
