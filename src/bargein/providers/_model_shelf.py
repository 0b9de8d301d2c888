"""A shelf of loaded models that finished streams hand back, reset, for the next stream.

Private helper of the providers whose models are costly to load but cheap to reset (Silero
VAD: its shelf is in :mod:`bargein.providers.silero_stream`).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["ModelShelf"]


class ModelShelf:
    """Idle models of this process, reset and ready for the next stream, by key.

    :meth:`lend` ties a model to the stream that uses it; when the stream is garbage
    collected (a ``weakref.finalize``, which holds the model meanwhile) the model's
    ``reset()`` puts it back in the state of a newly loaded one and it waits here, at most
    ``size`` per key. Thread-safe: live mode may drop a stream on another thread.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._idle: dict[Hashable, list[Any]] = {}
        self._lock = threading.Lock()

    def take(self, key: Hashable) -> Any | None:
        """An idle model for ``key``, or None."""
        with self._lock:
            idle = self._idle.get(key)
            return idle.pop() if idle else None

    def lend(self, stream: object, model: Any, key: Hashable) -> Callable[[], None]:
        """Take ``model`` back under ``key`` when ``stream`` is gone, or when the returned
        function is called (the stream is closed: it must not use the model any more)."""
        done = weakref.finalize(stream, self._give_back, model, key)
        done.atexit = False  # at exit the models are simply freed
        return done

    def idle(self, key: Hashable) -> int:
        """How many models wait under ``key``."""
        with self._lock:
            return len(self._idle.get(key, ()))

    def _give_back(self, model: Any, key: Hashable) -> None:
        try:
            model.reset()
        except Exception:  # a model that cannot be reset is dropped, never reused
            return
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.size:
                idle.append(model)
