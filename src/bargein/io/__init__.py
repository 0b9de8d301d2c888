"""Audio ports: how user audio reaches a listener and how agent audio plays.

Used by the agent runtime, the simulator's room, live mode and the adapters alike, so none
of them has to stand on another to exchange audio.
"""

from bargein.io.paced import PacedAudioOutput
from bargein.io.ports import AudioInput, AudioOutput, PlaybackFinished, PlayCallback
from bargein.io.queue_input import QueueAudioInput
from bargein.io.remote_output import RemotePlayoutOutput

__all__ = [
    "AudioInput",
    "AudioOutput",
    "PacedAudioOutput",
    "PlayCallback",
    "PlaybackFinished",
    "QueueAudioInput",
    "RemotePlayoutOutput",
]
