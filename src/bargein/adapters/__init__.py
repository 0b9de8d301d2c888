"""Adapters: how the test SDK drives a system under test."""

from bargein.adapters.base import ADAPTER_EVENTS, AdapterLink, AgentAdapter, Capabilities
from bargein.adapters.inprocess import BargeinAgentAdapter, BuildContext
from bargein.errors import UnsupportedCapabilityError

__all__ = [
    "ADAPTER_EVENTS",
    "AdapterLink",
    "AgentAdapter",
    "BargeinAgentAdapter",
    "BuildContext",
    "Capabilities",
    "UnsupportedCapabilityError",
]
