"""The options of a scenario run (``scenario.run(..., **options)``, ``Scenario(options=...)``),
checked before anything runs.

:func:`check_run_options` refuses an unknown option name (with the closest known one) and a
value that cannot work (NaN, infinite or negative durations, a sample rate a session cannot
run at, a voice espeak-ng does not have, a wrong type), with a
:class:`~bargein.errors.ScenarioError` that names the option, the value and what would work.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from typing import Any

from bargein.audio.frame import SESSION_SAMPLE_RATES
from bargein.errors import ScenarioError
from bargein.scenario import validation as check
from bargein.scenario.judging import check_criteria
from bargein.scenario.simulator import UserSimulator
from bargein.scenario.steps import INTERRUPT_MODES

#: The simulated user's voice unless a run says otherwise (the runner's default too).
DEFAULT_USER_VOICE = "en-us+m3"
#: The most caller turns an open-ended ``proceed()`` lets a conversation reach.
DEFAULT_MAX_TURNS = 10


def _seed(value: Any, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(f"{what} must be an integer, got {value!r}")


def _sample_rate(value: Any, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or \
            value not in SESSION_SAMPLE_RATES:
        rates = ", ".join(str(r) for r in SESSION_SAMPLE_RATES)
        raise ScenarioError(f"{what} must be one of {rates} (Hz, an integer), got {value!r}")


def _voice(value: Any, what: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(f"{what} must be an espeak-ng voice name such as "
                            f"{DEFAULT_USER_VOICE!r}, got {value!r}")


def _echo_gain(value: Any, what: str) -> None:
    if value is not None and (not check.is_number(value) or not math.isfinite(value)
                              or value < 0):
        raise ScenarioError(f"{what} must be None or a finite number >= 0, got {value!r}")


def _user(value: Any, what: str) -> None:
    if value is not None and not isinstance(value, UserSimulator):
        raise ScenarioError(f"{what} must be a UserSimulator, got {type(value).__name__}")


def _llm(value: Any, what: str) -> None:
    if value is not None and not callable(getattr(value, "chat", None)):
        raise ScenarioError(f"{what} must be an LLM (an object with a chat() method, e.g. "
                            f"OpenAILLM), got {type(value).__name__}")


def _backchannels(value: Any, what: str) -> None:
    if isinstance(value, str) or not isinstance(value, (set, frozenset, list, tuple)) \
            or not value or not all(isinstance(w, str) and w.strip() for w in value):
        raise ScenarioError(f"{what} must be a non-empty set of words such as "
                            f"{{'uh-huh', 'yeah'}}, got {value!r}")


_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "seed": _seed,
    "sample_rate": _sample_rate,
    "user_voice": _voice,
    "interrupt_mode": lambda v, w: check.one_of(v, w, INTERRUPT_MODES),
    "max_duration": lambda v, w: check.seconds(v, w, positive=True),
    "settle": lambda v, w: check.seconds(v, w),
    "echo_gain": _echo_gain,
    "user": _user,
    "judge_llm": _llm,
    "backchannels": _backchannels,
    "criteria": check_criteria,
    "max_turns": lambda v, w: check.whole(v, w),
}
#: Every option a run takes.
RUN_OPTIONS = tuple(_CHECKS)


def check_run_options(options: Mapping[str, Any], *, where: str = "scenario.run()",
                      voices: bool = False) -> None:
    """Refuse unknown option names and values that cannot work.

    ``voices=True`` also asks espeak-ng whether it has the simulated user's voice (that
    loads the library: done when the run starts, not when a scenario is defined).
    """
    if not isinstance(options, Mapping):
        raise ScenarioError(f"{where}: options must be a dict such as {{'seed': 3}}, got "
                            f"{type(options).__name__}")
    for name, value in options.items():
        if name not in _CHECKS:
            close = difflib.get_close_matches(str(name), RUN_OPTIONS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ScenarioError(f"{where}: unknown option {name!r}; {hint}the options are "
                                f"{', '.join(RUN_OPTIONS)}")
        _CHECKS[name](value, f"{where}: option {name}")
    if voices:
        user = options.get("user")
        voice = user.voice if user is not None else options.get("user_voice")
        if voice is not None and voice != DEFAULT_USER_VOICE:
            check_voice(voice, f"{where}: the simulated user's voice")


def check_voice(voice: str, what: str) -> None:
    """Refuse a voice name that espeak-ng does not have (its message lists close ones)."""
    from bargein.providers.espeak_tts import EspeakTTS

    try:
        EspeakTTS(voice=voice)
    except ValueError as exc:
        raise ScenarioError(f"{what}: {exc}") from None

