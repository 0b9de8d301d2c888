"""Silero VAD models kept ready, so a new session does not stall the others.

Every VAD stream (one per session) needs its own Silero model instance. Building one takes a
quarter of a second of CPU on a small machine, and freeing one tens of milliseconds.
``bargein serve`` runs all sessions on one event loop, so doing either when a session starts
or ends would freeze the audio of every open session meanwhile. :class:`PooledSileroVAD`
hands out ready models at once: spares are built in a worker thread (the native library
releases the GIL), and the model of a finished stream is reset and reused.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import weakref
from typing import Any

from bargein.providers.silero_vad import SileroVAD

__all__ = ["PooledSileroVAD"]


class _Lease:
    """A pooled model lent to one VAD stream; it goes back to the pool when the stream is
    gone (a ``weakref.finalize`` holds the model meanwhile, so a garbage collection of the
    stream can never finalize the model itself)."""

    __slots__ = ("__weakref__", "process", "window_size_samples")

    def __init__(self, model: Any) -> None:
        self.process = model.process
        self.window_size_samples = model.window_size_samples


class PooledSileroVAD(SileroVAD):
    """A :class:`~bargein.providers.silero_vad.SileroVAD` that keeps ``spares`` models of
    each rate ready and recycles the models of finished streams (reset to a fresh state);
    at most ``keep`` idle models are kept (12 MB each). Settings are those of
    ``SileroVAD``."""

    def __init__(self, *args: Any, spares: int = 2, keep: int = 4, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spares = spares
        self.keep = keep
        self._ready: dict[int, collections.deque[Any]] = collections.defaultdict(
            collections.deque)
        self._lock = threading.Lock()

    def ready(self, model_rate: int = 16000) -> int:
        """Models of ``model_rate`` ready to hand out."""
        return len(self._ready[model_rate])

    def prepare(self, model_rate: int = 16000) -> None:
        """Build the spare models of ``model_rate`` now (blocking: call it in a thread)."""
        while self.ready(model_rate) < self.spares:
            model = super()._new_model(model_rate)
            with self._lock:
                self._ready[model_rate].append(model)

    async def ensure_spare(self, model_rate: int = 16000) -> None:
        """Wait (off the loop) until a model of ``model_rate`` is ready."""
        if self.ready(model_rate) < self.spares:
            await asyncio.get_running_loop().run_in_executor(None, self.prepare, model_rate)

    def _new_model(self, model_rate: int) -> Any:
        with self._lock:
            model = self._ready[model_rate].popleft() if self._ready[model_rate] else None
        if model is None:  # nothing ready: build it here (what ensure_spare avoids)
            model = super()._new_model(model_rate)
        lease = _Lease(model)
        weakref.finalize(lease, self._give_back, model)
        return lease

    def _give_back(self, model: Any) -> None:
        try:
            model.reset()
        except Exception:  # a broken model is dropped, never reused
            return
        with self._lock:
            pool = self._ready[int(model.sample_rate)]
            if len(pool) < self.keep:
                pool.append(model)
