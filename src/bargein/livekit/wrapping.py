"""How a LiveKit plugin that wraps a bargein provider names itself to LiveKit."""

from __future__ import annotations

from typing import Any

__all__ = ["WrapsBargeinProvider"]


class WrapsBargeinProvider:
    """Mixin for a plugin holding a bargein provider in ``inner`` (list it before the LiveKit
    base): LiveKit's ``model`` is the wrapped provider's class name, ``provider`` is
    ``"bargein"``."""

    inner: Any

    @property
    def model(self) -> str:
        """The wrapped bargein provider's class name."""
        return type(self.inner).__name__

    @property
    def provider(self) -> str:
        """Always ``"bargein"``."""
        return "bargein"
