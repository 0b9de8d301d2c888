"""The offline stack in one call: every provider a session needs, bundled in PyPI wheels.

:func:`local_stack` gives Silero VAD, espeak-ng TTS, the rule-based LLM (or yours), a
recognizer (:func:`make_stt`) and, when the extra ``turn`` is installed (it is part of
``local``), the turn detector: smart-turn v3.2 combined with the words
(:func:`default_turn_detector`). Without the extra the session falls back to a fixed
endpointing delay. Examples, live mode and the benchmark build their sessions from it, so
"the local stack" means one thing everywhere::

    stack = local_stack(stt="local")
    session = AgentSession(**stack.session_options())
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from bargein.errors import MissingExtraError

if TYPE_CHECKING:
    from bargein.providers.llm import LLM
    from bargein.providers.oracle_stt import GroundTruth
    from bargein.providers.stt import STT
    from bargein.providers.tts import TTS
    from bargein.providers.turn_detector import TurnDetector
    from bargein.providers.vad import VAD

__all__ = ["AGENT_VOICE", "STT_KINDS", "LocalStack", "default_turn_detector", "local_stack",
           "make_stt"]

_log = logging.getLogger("bargein.providers")

#: The recognizers :func:`make_stt` builds: pocketsphinx interims + Whisper finals, Whisper
#: finals only, or the oracle that reads the ground truth of a simulation.
STT_KINDS = ("local", "whisper", "oracle")
#: The agent's default espeak-ng voice.
AGENT_VOICE = "en-gb+f3"


@dataclass
class LocalStack:
    """The providers of one session (``truth``: what an oracle recognizer reads)."""

    vad: VAD
    stt: STT
    llm: LLM
    tts: TTS
    turn_detector: TurnDetector | None = None
    truth: GroundTruth | None = None

    def session_options(self) -> dict[str, Any]:
        """The providers as ``AgentSession(**...)`` keyword arguments."""
        return {"vad": self.vad, "stt": self.stt, "llm": self.llm, "tts": self.tts,
                "turn_detector": self.turn_detector}


def make_stt(kind: str, truth: GroundTruth | None = None) -> STT:
    """The recognizer called ``kind`` (one of :data:`STT_KINDS`; ``oracle`` reads ``truth``)."""
    if kind == "local":
        from bargein.providers.hybrid_stt import HybridSTT
        from bargein.providers.pocketsphinx_stt import PocketsphinxSTT
        from bargein.providers.whisper_stt import WhisperSTT

        return HybridSTT(PocketsphinxSTT(), WhisperSTT())
    if kind == "whisper":
        from bargein.providers.whisper_stt import WhisperSTT

        return WhisperSTT()
    if kind == "oracle":
        from bargein.providers.oracle_stt import GroundTruth, OracleSTT

        if not isinstance(truth, GroundTruth):
            raise ValueError("the oracle STT needs the ground truth of what the user says "
                             "(a GroundTruth shared with the simulated room)")
        return OracleSTT(truth)
    raise ValueError(f"stt must be one of {', '.join(STT_KINDS)}, got {kind!r}")


@functools.cache
def _smart_turn() -> Any:
    """One smart-turn model per process (loading and checking it costs ~50 ms; a loaded
    model serves every session)."""
    from bargein.providers.smart_turn import SmartTurnDetector

    return SmartTurnDetector()


def default_turn_detector(*, trust_punctuation: bool = False) -> TurnDetector | None:
    """smart-turn v3.2 combined with the words, or None when the extra ``turn`` is missing
    (the session then waits a fixed delay after every utterance; a log line says so).
    ``trust_punctuation`` for the oracle recognizer only (see CombinedTurnDetector)."""
    from bargein.providers.combined_turn import CombinedTurnDetector

    try:
        audio = _smart_turn()
    except MissingExtraError as exc:
        _log.info("no turn detector (%s); end of turn by a fixed delay", exc)
        return None
    return CombinedTurnDetector(audio, trust_punctuation=trust_punctuation)


def local_stack(stt: str = "local", *, truth: GroundTruth | None = None, llm: LLM | None = None,
                voice: str = AGENT_VOICE,
                turn_detector: TurnDetector | Literal["auto"] | None = "auto") -> LocalStack:
    """Offline providers for one session (see the module docstring).

    ``stt``: see :func:`make_stt`; with ``"oracle"`` a new :class:`GroundTruth` is made when
    ``truth`` is None (give the same one to the simulated room). ``turn_detector``:
    ``"auto"`` for :func:`default_turn_detector` (punctuation trusted for the oracle only),
    None for a fixed delay, or your own.
    """
    from bargein.providers.espeak_tts import EspeakTTS
    from bargein.providers.rule_based_llm import RuleBasedLLM
    from bargein.providers.silero_vad import SileroVAD

    if stt == "oracle" and truth is None:
        from bargein.providers.oracle_stt import GroundTruth

        truth = GroundTruth()
    recognizer = make_stt(stt, truth)
    if turn_detector == "auto":
        turn_detector = default_turn_detector(trust_punctuation=stt == "oracle")
    return LocalStack(vad=SileroVAD(), stt=recognizer, llm=llm or RuleBasedLLM(),
                      tts=EspeakTTS(voice=voice), turn_detector=turn_detector, truth=truth)
