"""Lazy import of optional dependencies with an error that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from bargein.errors import MissingExtraError


def require(module: str, *, extra: str, feature: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` naming ``bargein[extra]``.

    ``feature`` is the user-facing thing that needs it, e.g. ``"Silero VAD"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        # Only translate "this very module is absent"; a broken install deeper down
        # should surface as it is.
        missing = getattr(exc, "name", None)
        if missing is None or module == missing or module.startswith(missing + "."):
            raise MissingExtraError(module, extra, feature) from exc
        raise
