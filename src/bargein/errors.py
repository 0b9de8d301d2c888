"""Exceptions shared by every layer of bargein.

Each error says what was wrong and what to do about it, so a user never has to guess
from a traceback.
"""

from __future__ import annotations


class BargeinError(Exception):
    """Base class of every error bargein raises on purpose."""


class AudioFormatError(BargeinError, ValueError):
    """Audio that cannot be used as given: odd byte length, NaN samples, wrong shape."""


class SampleRateError(AudioFormatError):
    """A sample rate that is unsupported, or that differs from the one expected."""


class EmptyAudioError(AudioFormatError):
    """Audio with no samples where some are required."""


class WavError(AudioFormatError):
    """An audio file (or audio-file bytes) that cannot be read as it is: not audio, corrupt,
    cut short, or in a layout that makes no sense. ``source`` names the file ("audio data"
    for bytes) and ``problem`` says what is wrong with it."""

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        self.problem = problem
        super().__init__(f"{source}: {problem}")

    def __reduce__(self):  # type: ignore[no-untyped-def]  # crosses to a parent process
        return type(self), (self.source, self.problem)


class MissingExtraError(BargeinError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, module: str, extra: str, feature: str) -> None:
        self.module = module
        self.extra = extra
        self.feature = feature
        super().__init__(
            f"{feature} needs the Python package {module!r}, which is not installed. "
            f"Install it with: pip install 'bargein[{extra}]'"
        )

    def __reduce__(self):  # type: ignore[no-untyped-def]  # crosses to a parent process
        return type(self), (self.module, self.extra, self.feature)


class OutputPathError(BargeinError):
    """A place to write results (a folder or a file) that cannot be written: it is a file
    where a folder is needed, a folder where a file is needed, or not writable."""


class ModelFileError(BargeinError, RuntimeError):
    """A bundled model file is missing or does not match its pinned SHA-256."""


class NetworkInSimulationError(BargeinError, RuntimeError):
    """Real network I/O was attempted inside a virtual-time simulation."""


class SimulationDeadlockError(BargeinError, RuntimeError):
    """Every task waits, no timer is scheduled, so virtual time can never move on."""


class ProviderError(BargeinError, RuntimeError):
    """A provider misbehaved without raising: an empty reply, lost words, a stuck VAD."""


class ProviderTimeoutError(BargeinError, TimeoutError):
    """A provider (LLM, TTS, STT) produced nothing for longer than the session allows."""


class UnsupportedCapabilityError(BargeinError):
    """A scenario needs something the adapter under test cannot do; the message names the
    capability and what to use instead."""

    def __init__(self, capability: str, adapter: str, alternative: str) -> None:
        self.capability = capability
        self.adapter = adapter
        self.alternative = alternative
        super().__init__(
            f"adapter {adapter!r} does not support {capability!r}; {alternative}"
        )

    def __reduce__(self):  # type: ignore[no-untyped-def]  # crosses to a parent process
        return type(self), (self.capability, self.adapter, self.alternative)


class ScenarioError(BargeinError):
    """A scenario script that cannot run as written (unknown step, step after succeed()...)."""


class AgentTimeoutError(BargeinError, TimeoutError):
    """The agent under test did not do what the script waited for within the time allowed."""
