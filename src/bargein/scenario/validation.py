"""Checks of the values a scenario is built from, with one message shape for all of them.

Every check raises :class:`~bargein.errors.ScenarioError` naming the option (``what``, e.g.
``"silence(seconds=...)"``), the bad value and what would work. Steps, the user simulator's
options and the run options use them in their constructors, so a script that cannot work is
refused when it is written, before anything plays.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from bargein.errors import ScenarioError
from bargein.text import unspeakable


def is_number(value: object) -> bool:
    """True for an int or float (a bool is not a number here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def seconds(value: object, what: str, *, positive: bool = False) -> float:
    """``value`` as a finite number of seconds, ``>= 0`` (``> 0`` with ``positive``)."""
    bound = "> 0" if positive else ">= 0"
    if not is_number(value) or not math.isfinite(value) or value < 0 or (  # type: ignore[arg-type]
            positive and value == 0):
        raise ScenarioError(f"{what} must be a finite number of seconds {bound}, "
                            f"got {value!r}")
    return float(value)  # type: ignore[arg-type]


def fraction(value: object, what: str) -> float:
    """``value`` as a number between 0 and 1 (a probability, a share)."""
    if not is_number(value) or not 0.0 <= value <= 1.0:  # type: ignore[operator]
        raise ScenarioError(f"{what} must be between 0 and 1, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def whole(value: object, what: str, *, low: int = 1) -> int:
    """``value`` as an integer ``>= low``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ScenarioError(f"{what} must be an integer >= {low}, got {value!r}")
    return value


def seed(value: object, what: str) -> int | None:
    """An integer seed, or None."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ScenarioError(f"{what} must be an integer or None, got {value!r}")
    return value


def flag(value: object, what: str) -> bool:
    """``value`` if it is True or False."""
    if not isinstance(value, bool):
        raise ScenarioError(f"{what} must be True or False, got {value!r}")
    return value


def one_of(value: object, what: str, choices: Sequence[Any]) -> Any:
    """``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ScenarioError(f"{what} must be one of {listed}, got {value!r}")
    return value


def text(value: object, what: str, *, optional: bool = False) -> str | None:
    """``value`` if it is a str (or None with ``optional``)."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ScenarioError(f"{what} must be text (a str), got {type(value).__name__} "
                            f"{value!r}")
    return value


def speakable(value: object, what: str) -> str:
    """``value`` if the simulated user's voice can say it (see :func:`bargein.text.
    unspeakable`)."""
    problem = unspeakable(value)
    if problem is not None:
        raise ScenarioError(f"{what} cannot be spoken: {problem}, got {_short(value)}")
    return value  # type: ignore[return-value]


def speakable_lines(values: object, what: str) -> tuple[str, ...]:
    """A list of lines the simulated user can say (a single string is refused: it is not a
    list of lines, and iterating it would give its letters)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ScenarioError(f"{what} must be a list of lines such as ['Wait, stop.'], got "
                            f"{_short(values)}")
    return tuple(speakable(v, f"{what}[{i}]") for i, v in enumerate(values))


def _short(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."
