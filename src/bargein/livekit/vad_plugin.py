"""Silero VAD as a LiveKit Agents VAD plugin: LiveKit's VAD events from bargein's boundaries."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import numpy as np
from livekit import rtc
from livekit.agents import vad as lk_vad

from bargein.audio.resample import resample
from bargein.livekit.frames import from_rtc_frame

__all__ = ["VAD"]


class VAD(lk_vad.VAD):
    """Silero VAD (bargein's :class:`~bargein.providers.silero_vad.SileroVAD`) as a LiveKit VAD.

    Keyword arguments go to ``SileroVAD``. The defaults follow LiveKit's own Silero plugin
    (``min_speech_duration=0.05``, ``min_silence_duration=0.55``, threshold 0.5) so a
    recipe that used ``silero.VAD.load()`` keeps its timing; ``prefix_padding_duration`` is
    the audio kept before a speech onset in the events' frames.

    The stream emits LiveKit's ``INFERENCE_DONE`` event for every 32 ms window (with the
    running speech and silence durations LiveKit's interruption logic reads), and
    ``START_OF_SPEECH`` / ``END_OF_SPEECH`` at bargein's refined boundaries.
    """

    def __init__(self, *, prefix_padding_duration: float = 0.5, **silero: Any) -> None:
        from bargein.providers.silero_vad import SileroVAD

        silero.setdefault("min_speech_duration", 0.05)
        silero.setdefault("min_silence_duration", 0.55)
        self._silero = SileroVAD(**silero)
        self.prefix_padding_duration = float(prefix_padding_duration)
        super().__init__(capabilities=lk_vad.VADCapabilities(update_interval=0.032))

    @classmethod
    def load(cls, **kwargs: Any) -> VAD:
        """Same as ``VAD(**kwargs)``; named like LiveKit's ``silero.VAD.load()``."""
        return cls(**kwargs)

    @property
    def model(self) -> str:
        return "silero"

    @property
    def provider(self) -> str:
        return "bargein"

    @property
    def silero(self) -> Any:
        """The wrapped :class:`~bargein.providers.silero_vad.SileroVAD`."""
        return self._silero

    def stream(self) -> lk_vad.VADStream:
        return _VADStream(self)


class _VADStream(lk_vad.VADStream):
    def __init__(self, vad: VAD) -> None:
        self._plugin = vad
        super().__init__(vad)

    async def _main_task(self) -> None:
        stream: Any = None
        rate = 0
        windows: list[Any] = []
        recent: deque[np.ndarray] = deque()
        recent_samples = 0
        speech: list[np.ndarray] = []
        onset = 0.0
        offset = 0.0
        last_loud = 0.0
        sil = self._plugin.silero

        def frame_of(chunks: list[np.ndarray]) -> rtc.AudioFrame:
            data = np.concatenate(chunks) if chunks else np.zeros(1, np.int16)
            return rtc.AudioFrame(data.tobytes(), rate, 1, len(data))

        async for item in self._input_ch:
            if isinstance(item, lk_vad.VADStream._FlushSentinel):
                if stream is not None:
                    for ev in stream.flush():
                        self._send_end(ev, stream.time, frame_of(speech))
                    speech = []
                continue
            frame = from_rtc_frame(item)
            if stream is None:
                rate = frame.sample_rate
                stream = sil.stream(rate)
                stream.on_window = windows.append
            elif frame.sample_rate != rate:
                frame = resample(frame, rate)
            samples = frame.to_int16().copy()
            events = stream.push_frame(frame)
            if stream.speaking or events:
                speech.append(samples)
            else:
                recent.append(samples)
                recent_samples += len(samples)
                keep = int(self._plugin.prefix_padding_duration * rate)
                while recent and recent_samples - len(recent[0]) >= keep:
                    recent_samples -= len(recent.popleft())
            for ev in events:  # boundaries first, so the windows below measure from them
                if ev.type == "start_of_speech":
                    onset = ev.time
                else:
                    offset = ev.time
            for window in windows:
                speaking = stream.speaking
                if window.probability >= sil.deactivation_threshold:
                    last_loud = window.end
                self._event_ch.send_nowait(lk_vad.VADEvent(
                    type=lk_vad.VADEventType.INFERENCE_DONE,
                    samples_index=round(window.end * rate),
                    timestamp=window.end,
                    speech_duration=max(0.0, window.end - onset) if speaking else 0.0,
                    silence_duration=0.0 if speaking else max(0.0, window.end - offset),
                    probability=window.probability,
                    speaking=speaking,
                    raw_accumulated_silence=max(0.0, window.end - last_loud),
                    raw_accumulated_speech=(max(0.0, window.end - onset) if speaking else 0.0),
                ))
            windows.clear()
            for ev in events:
                if ev.type == "start_of_speech":
                    speech = [*recent, *speech]
                    recent.clear()
                    recent_samples = 0
                    self._event_ch.send_nowait(lk_vad.VADEvent(
                        type=lk_vad.VADEventType.START_OF_SPEECH,
                        samples_index=round(ev.time * rate),
                        timestamp=stream.time,
                        speech_duration=max(0.0, stream.time - ev.time),
                        silence_duration=0.0,
                        frames=[frame_of(speech)],
                        speaking=True,
                    ))
                else:
                    self._send_end(ev, stream.time, frame_of(speech))
                    speech = []
            await asyncio.sleep(0)  # let the session see each frame's events in turn

    def _send_end(self, ev: Any, now: float, frame: rtc.AudioFrame) -> None:
        self._event_ch.send_nowait(lk_vad.VADEvent(
            type=lk_vad.VADEventType.END_OF_SPEECH,
            samples_index=round(ev.time * frame.sample_rate),
            timestamp=now,
            speech_duration=ev.speech_duration,
            silence_duration=max(0.0, now - ev.time),
            frames=[frame],
            speaking=False,
        ))
