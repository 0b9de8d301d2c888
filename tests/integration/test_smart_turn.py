"""smart-turn v3.2 on real audio: the pinned file, its features, and decisions on human and
espeak-ng speech, alone and combined with the words."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from bargein.audio.frame import AudioFrame, concat
from bargein.audio.resample import resample
from bargein.audio.wav import read_wav
from bargein.errors import ModelFileError
from bargein.providers.model_files import clear_verification_cache

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        any(importlib.util.find_spec(m) is None for m in ("pipecat", "onnxruntime")),
        reason="needs the smart-turn model: pip install 'bargein[turn]' (part of 'local')",
    ),
]

HUMAN = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "human"
SILENCE = AudioFrame.silence(0.1, 16000)  # what TurnDetectorStream lets the model hear


def _clip(ident: str) -> tuple[dict, AudioFrame]:
    manifest = json.loads((HUMAN / "manifest.json").read_text())
    clip = next(c for c in manifest["clips"] if c["id"] == ident)
    return clip, read_wav(HUMAN / clip["file"])


def _until_word(clip: dict, audio: AudioFrame, index: int) -> AudioFrame:
    """The clip up to the end of word ``index``, then 0.1 s of silence."""
    end = round((clip["words"][index]["end"] + 0.03) * 16000)
    return concat([AudioFrame(audio.data[: 2 * end], 16000), SILENCE])


@pytest.fixture(scope="module")
def detector():
    from bargein.providers.smart_turn import SmartTurnDetector

    d = SmartTurnDetector()
    d.load()
    return d


def test_bundled_file_is_the_pinned_one(detector):
    from bargein.providers.model_files import file_sha256
    from bargein.providers.smart_turn import SMART_TURN_FILE, bundled_model_path

    assert detector.model_path == bundled_model_path()
    assert file_sha256(detector.model_path) == SMART_TURN_FILE.sha256


def test_tampered_or_missing_file_is_refused(tmp_path, detector):
    from bargein.providers.smart_turn import SmartTurnDetector

    copy = tmp_path / detector.model_path.name
    shutil.copyfile(detector.model_path, copy)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    clear_verification_cache()
    with pytest.raises(ModelFileError, match="SHA-256"):
        SmartTurnDetector(copy).load()
    with pytest.raises(ModelFileError, match="missing"):
        SmartTurnDetector(tmp_path / "nothing" / detector.model_path.name).load()


def test_features_match_pipecats_own_front_end(detector):
    """Our numpy log-mel equals the one pipecat feeds the model, on a real voice."""
    vendored = pytest.importorskip("pipecat.audio.turn.smart_turn._whisper_features")
    _clip_info, audio = _clip("arctic-slt-a0009")
    ours = detector.features(audio)[0]
    samples = audio.to_float()
    padded = concat([AudioFrame.silence(8.0 - audio.duration, 16000), audio]).to_float()
    theirs = vendored.compute_whisper_log_mel_features(padded, do_normalize=True)
    assert ours.shape == theirs.shape == (80, 800) and len(samples) < 128000
    assert abs(ours - theirs).max() < 1e-4


def test_a_speakers_own_pause_sounds_unfinished_and_the_end_finished(detector):
    clip, audio = _clip("jfk-inaugural")  # "And so my fellow Americans, ask not, ..."
    pause = clip["words"].index(next(w for w in clip["words"] if w["text"] == "not"))
    assert pause in clip["natural_pauses"]
    paused = detector.predict(_until_word(clip, audio, pause))
    finished = detector.predict(_until_word(clip, audio, len(clip["words"]) - 1))
    assert finished.complete and not paused.complete
    assert finished.probability > paused.probability + 0.5


def test_stream_hears_the_end_of_speech_not_the_vads_wait(detector):
    from bargein.providers.turn_detector import TurnDetectorStream

    clip, audio = _clip("arctic-slt-a0009")
    stream = TurnDetectorStream(detector, 16000)
    stream.push_frame(audio)
    stream.push_frame(AudioFrame.silence(0.5, 16000))
    end = clip["words"][-1]["end"] + 0.03
    heard = stream.audio(speech_end=end)
    assert heard.duration == pytest.approx(end + 0.1, abs=1e-3)
    assert stream.predict(speech_end=end).probability == pytest.approx(
        detector.probability(heard)
    )


def test_other_session_rates_give_the_same_answer(detector):
    clip, audio = _clip("arctic-slt-a0009")
    turn = _until_word(clip, audio, len(clip["words"]) - 1)
    p16 = detector.probability(turn)
    for rate in (8000, 24000):
        assert detector.probability(resample(turn, rate)) == pytest.approx(p16, abs=0.1)


@pytest.mark.asyncio
async def test_the_words_veto_and_override_the_voice_on_espeak(detector):
    from bargein.providers.combined_turn import CombinedTurnDetector
    from bargein.providers.espeak_tts import EspeakTTS

    tts = EspeakTTS()
    combined = CombinedTurnDetector(audio=detector)
    fragment = await tts.synthesize("I'd like to book a table for")
    vetoed = combined.predict(concat([fragment.audio, SILENCE]), fragment.text)
    assert not vetoed.complete and vetoed.probability <= 0.05 and "'for'" in vetoed.reason
    answer = await tts.synthesize("Yes please.")
    ended = combined.predict(concat([answer.audio, SILENCE]), answer.text)
    assert ended.complete and ended.probability >= 0.95
    assert ended.audio_probability == pytest.approx(detector.probability(
        concat([answer.audio, SILENCE])))
