"""bargein for LiveKit Agents users (extra ``livekit``).

- :mod:`bargein.livekit.plugins`: bargein's offline providers (Silero VAD, espeak-ng TTS,
  oracle / Whisper / pocketsphinx STT, the rule-based LLM) as LiveKit plugins, so a LiveKit
  ``AgentSession`` runs with no cloud key and no network::

      from bargein.livekit import plugins

      session = AgentSession(vad=plugins.VAD.load(), stt=plugins.OracleSTT(),
                             llm=plugins.LLM(), tts=plugins.TTS())

- :class:`bargein.adapters.livekit.LiveKitAgentAdapter`: runs such a session (or any LiveKit
  session) under bargein scenarios, in virtual time.

Importing this package without ``livekit-agents`` installed raises
:class:`~bargein.errors.MissingExtraError` naming ``bargein[livekit]``.
"""

from __future__ import annotations

from bargein._extras import require

require("livekit.agents", extra="livekit", feature="bargein.livekit (LiveKit Agents plugins)")

from bargein.livekit import plugins  # noqa: E402

__all__ = ["plugins"]
