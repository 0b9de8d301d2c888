"""The voice-agent runtime: Agent, AgentSession, SpeechHandle, interruption policy, events."""

from bargein.agent.agent import (
    DEFAULT_CUT_IN_PHRASE,
    DEFAULT_REFOCUS_INSTRUCTIONS,
    Agent,
    FunctionTool,
    StopResponse,
    function_tool,
)
from bargein.agent.chat import ChatContext, heard_text, heard_words
from bargein.agent.options import (
    DEFAULT_BACKCHANNELS,
    EndpointingOptions,
    InterruptionOptions,
    UserTurnLimit,
)
from bargein.agent.session import AgentSession
from bargein.agent.speech import SpeechHandle
from bargein.io import (
    AudioInput,
    AudioOutput,
    PacedAudioOutput,
    PlaybackFinished,
    QueueAudioInput,
)

__all__ = [
    "DEFAULT_BACKCHANNELS",
    "DEFAULT_CUT_IN_PHRASE",
    "DEFAULT_REFOCUS_INSTRUCTIONS",
    "Agent",
    "AgentSession",
    "AudioInput",
    "AudioOutput",
    "ChatContext",
    "EndpointingOptions",
    "FunctionTool",
    "InterruptionOptions",
    "PacedAudioOutput",
    "PlaybackFinished",
    "QueueAudioInput",
    "SpeechHandle",
    "StopResponse",
    "UserTurnLimit",
    "function_tool",
    "heard_text",
    "heard_words",
]
