"""bargein: build and test real-time voice agents that handle interruptions well.

Importing the package is cheap: heavy dependencies (models, native libraries) load only
when the provider that needs them is created.
"""

from bargein.errors import (
    AudioFormatError,
    BargeinError,
    EmptyAudioError,
    MissingExtraError,
    ModelFileError,
    NetworkInSimulationError,
    SampleRateError,
    SimulationDeadlockError,
)

__version__ = "0.1.0"

__all__ = [
    "AudioFormatError",
    "BargeinError",
    "EmptyAudioError",
    "MissingExtraError",
    "ModelFileError",
    "NetworkInSimulationError",
    "SampleRateError",
    "SimulationDeadlockError",
    "__version__",
]
