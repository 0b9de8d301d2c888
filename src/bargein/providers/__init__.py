"""Speech providers: the VAD, STT, TTS, LLM and turn detector interfaces and implementations.

Interfaces live in light modules (``vad``, ``stt``, ``tts``, ``llm``, ``turn_detector``,
``latency``). Each
implementation that needs a heavy dependency lives in its own module and imports it lazily:

- ``bargein.providers.silero_vad.SileroVAD``  (extra ``local``)
- ``bargein.providers.espeak_tts.EspeakTTS``  (extra ``local``)
- ``bargein.providers.whisper_stt.WhisperSTT``  (extra ``local``)
- ``bargein.providers.pocketsphinx_stt.PocketsphinxSTT``  (extra ``local``)
- ``bargein.providers.oracle_stt.OracleSTT``  (no extra: transcripts from known text)
- ``bargein.providers.rule_based_llm.RuleBasedLLM``  (no extra: intents and canned replies)
- ``bargein.providers.openai_llm.OpenAICompatibleLLM``  (extra ``openai``; cassettes for tests)
- ``bargein.providers.smart_turn.SmartTurnDetector``  (extra ``turn``, part of ``local``)
- ``bargein.providers.text_turn.TextTurnDetector``  (no extra: end of turn from the words)
- ``bargein.providers.combined_turn.CombinedTurnDetector``  (the voice and the words together)
"""

from bargein.providers.latency import Fixed, Latency, Measured, Uniform, WorkTimer
from bargein.providers.stt import (
    STT,
    SpeechEvent,
    SpeechEventType,
    STTCapabilities,
    STTStream,
)
from bargein.providers.tts import TTS, SynthesizedSpeech, TTSChunk
from bargein.providers.turn_detector import TurnDetector, TurnDetectorStream, TurnPrediction
from bargein.providers.types import WordTiming
from bargein.providers.vad import VAD, VADEvent, VADEventType, VADStream

__all__ = [
    "STT",
    "TTS",
    "VAD",
    "Fixed",
    "Latency",
    "Measured",
    "STTCapabilities",
    "STTStream",
    "SpeechEvent",
    "SpeechEventType",
    "SynthesizedSpeech",
    "TTSChunk",
    "TurnDetector",
    "TurnDetectorStream",
    "TurnPrediction",
    "Uniform",
    "VADEvent",
    "VADEventType",
    "VADStream",
    "WordTiming",
    "WorkTimer",
]
