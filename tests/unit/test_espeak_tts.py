"""EspeakTTS: real espeak-ng synthesis (fast: hundreds of times real time), word timings."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import sys
import threading

import numpy as np
import pytest

pytest.importorskip("espeakng_loader")
pytest.importorskip("soxr")

from bargein.audio.frame import AudioFrame, concat
from bargein.errors import SampleRateError
from bargein.providers import TTS, Fixed, _espeak_lib
from bargein.providers.espeak_tts import EspeakTTS, _sentences, list_variants, list_voices
from bargein.text import words

SENTENCES = [
    "Hello there.",
    "Could you tell me when the next train to Boston leaves?",
    "I paid 42 dollars, not 17.",
    "Well, I don't know; maybe we shouldn't go, right?",
    "It's a well-known café on the corner of Fifth and Main.",
    "The meeting is at 3:30 pm on March 5th, 2024, in room 101.",
    "Wow! That's amazing. Really? Yes.",
    "Please hold on... I'm checking.",
    (
        "When you arrive at the station, walk past the ticket machines, take the stairs "
        "on your left, and you will find the platform for the express service, which "
        "leaves every twenty minutes during the day and every hour at night."
    ),
    "Naïve résumé: ok?",
    "Call 555-1234 or e-mail us, and we'll call you back within 24 hours.",
]


def run(coro):
    return asyncio.run(coro)


def rms(x: np.ndarray) -> float:
    x = x.astype(np.float64) / 32768.0
    return float(np.sqrt(np.mean(x * x))) if len(x) else 0.0


def envelope(frame: AudioFrame, step: float = 0.01) -> np.ndarray:
    x = frame.to_float().astype(np.float64)
    n = round(step * frame.sample_rate)
    k = len(x) // n
    return np.sqrt(np.mean(x[: k * n].reshape(k, n) ** 2, axis=1))


@pytest.fixture(scope="module")
def tts() -> EspeakTTS:
    return EspeakTTS(ttfb=Fixed(0.0))


def check_words(text: str, speech) -> None:
    ws = speech.words
    assert [w.text for w in ws] == words(text)
    prev_end = 0.0
    for w in ws:
        assert w.start < w.end, w
        assert w.start >= prev_end - 1e-6, w
        assert text[w.char_start : w.char_end] == w.text
        prev_end = w.end
    assert abs(ws[-1].end - speech.duration) <= 0.02
    assert 0.0 <= ws[0].start <= 0.05


def test_is_a_tts(tts):
    assert isinstance(tts, TTS)
    assert tts.sample_rate == 16000


@pytest.mark.parametrize("text", SENTENCES)
def test_word_timings_cover_written_words_in_order(tts, text):
    speech = run(tts.synthesize(text))
    assert speech.text == text
    assert speech.audio.sample_rate == 16000
    check_words(text, speech)


@pytest.mark.parametrize("text", SENTENCES)
def test_word_timings_match_audible_speech(tts, text):
    speech = run(tts.synthesize(text))
    x = speech.audio.to_int16()
    rate = speech.audio.sample_rate
    ms = rate // 1000
    first, last = speech.words[0], speech.words[-1]
    # Only a tiny pad of silence before the first word's sound and after the last word's.
    lead = x[: max(0, round(first.start * rate) - 20 * ms)]
    tail = x[round(last.end * rate) :]
    assert rms(lead) < 0.003 and rms(tail) < 0.003
    assert rms(x[: 3 * ms]) < 0.003  # starts on a few ms of silence (the pad)...
    assert rms(x[: 60 * ms]) > 0.01  # ...and speech follows at once
    assert rms(x[-3 * ms :]) < 0.003  # ends on the pad...
    assert rms(x[-60 * ms :]) > 0.003  # ...right after speech
    # Every word is heard within 60 ms of its start (no word starts inside a pause)...
    for w in speech.words:
        s = round(w.start * rate)
        assert rms(x[s : s + 60 * ms]) > 0.003, w
    # ...and no pause (>= 80 ms of 10 ms RMS silence) contains a word start, except right
    # at its end (within 10 ms of the sound coming back).
    env = envelope(speech.audio)
    silent = env < 0.002
    runs, i = [], 0
    while i < len(silent):
        if silent[i]:
            j = i
            while j < len(silent) and silent[j]:
                j += 1
            if j - i >= 8:
                runs.append((i * 0.01, j * 0.01))
            i = j
        else:
            i += 1
    for a, b in runs:
        for w in speech.words:
            assert not (a + 0.01 < w.start < b - 0.02), (w, (a, b))


def test_raw_word_events_are_one_based_character_positions():
    # The struct layout and position convention this module relies on (espeak-ng 1.52):
    # text_position is 1-based and counts characters, not UTF-8 bytes.
    text = "naïve café, über test"
    with _espeak_lib.session() as espeak:
        assert espeak.sample_rate == 22050
        assert espeak.set_voice("en-us") == _espeak_lib.EE_OK
        pcm, events = espeak.synth(text)
    word_events = [e for e in events if e[0] == _espeak_lib.EVENT_WORD]
    spoken = [text[pos - 1 : pos - 1 + length] for _, pos, length, _ in word_events]
    assert spoken == ["naïve", "café", "über", "test"]
    times = [ms for *_, ms in word_events]
    assert times == sorted(times) and times[0] == 0
    assert times[-1] < len(pcm) / 2 / 22.05


def test_sentence_split_keeps_abbreviations_together():
    text = "Dr. Smith met J. R. Tolkien, e.g. once. Really?! Yes...  ok"
    assert [text[a:b] for a, b in _sentences(text)] == [
        "Dr. Smith met J. R. Tolkien, e.g. once.",
        "Really?!",
        "Yes...",
        "ok",
    ]


def test_multibyte_characters_index_the_original_text(tts):
    text = "Le café naïf, où? Très bien."
    speech = run(tts.synthesize(text))
    check_words(text, speech)
    assert [text[w.char_start : w.char_end] for w in speech.words] == [
        "Le", "café", "naïf", "où", "Très", "bien",
    ]  # fmt: skip


def test_sentences_keep_a_pause_and_one_timeline(tts):
    one = run(tts.synthesize("Hello world."))
    two = run(tts.synthesize("Hello world. How are you?"))
    # The first sentence ends with espeak's sentence pause, then the second follows.
    assert two.words[2].start > one.duration + 0.15
    hello = two.audio.to_int16()[: round(one.words[-1].start * 16000)]
    assert np.array_equal(hello, one.audio.to_int16()[: len(hello)])


@pytest.mark.parametrize(
    "text", [SENTENCES[1], SENTENCES[3], "First sentence here. And a second one, longer!"]
)
def test_timings_identical_across_sample_rates(text):
    out = {
        rate: run(EspeakTTS(sample_rate=rate, ttfb=Fixed(0)).synthesize(text))
        for rate in (8000, 16000, 24000)
    }
    ref = out[16000]
    for rate, speech in out.items():
        assert speech.audio.sample_rate == rate
        assert abs(speech.duration - ref.duration) <= 0.001
        assert len(speech.words) == len(ref.words)
        for a, b in zip(speech.words, ref.words, strict=True):
            assert abs(a.start - b.start) <= 0.001 and abs(a.end - b.end) <= 0.001
    # The energy envelopes of 16 and 24 kHz audio line up (lag 0 +- one 10 ms frame).
    e16, e24 = envelope(out[16000].audio), envelope(out[24000].audio)
    n = min(len(e16), len(e24))
    e16, e24 = e16[:n] - e16[:n].mean(), e24[:n] - e24[:n].mean()
    corr = np.correlate(e16, e24, mode="full")
    lag = int(np.argmax(corr)) - (n - 1)
    assert abs(lag) <= 1
    assert np.corrcoef(e16, e24)[0, 1] > 0.95


@pytest.mark.parametrize("text", [SENTENCES[0], SENTENCES[6], SENTENCES[8]])
@pytest.mark.parametrize("chunk_duration", [0.02, 0.01, 0.5])
def test_stream_matches_synthesize(text, chunk_duration):
    tts = EspeakTTS(ttfb=Fixed(0), chunk_duration=chunk_duration)

    async def collect():
        return [c async for c in tts.stream(text)]

    chunks = run(collect())
    whole = run(tts.synthesize(text))
    assert concat([c.frame for c in chunks]) == whole.audio
    size = round(chunk_duration * 16000)
    pos = 0
    for c in chunks:
        assert abs(c.offset - pos / 16000) < 1e-9
        assert c.frame.num_samples <= size
        for w in c.words:
            assert c.offset - 1e-9 <= w.start < c.offset + c.frame.duration
        pos += c.frame.num_samples
    assert all(c.frame.num_samples == size for c in chunks[:-1])
    assert tuple(w for c in chunks for w in c.words) == whole.words


def test_stream_can_stop_early(tts):
    async def first_two():
        agen = tts.stream(SENTENCES[6])
        got = [await anext(agen), await anext(agen)]
        await agen.aclose()
        return got

    got = run(first_two())
    assert got[0].offset == 0 and got[1].offset == pytest.approx(0.02)


def test_time_to_first_byte_is_charged(monkeypatch):
    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def fake_sleep(delay, result=None):
        slept.append(delay)
        return await real_sleep(0, result)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    tts = EspeakTTS(ttfb=Fixed(5.0))

    async def first_chunk():
        agen = tts.stream("Hello there.")
        chunk = await anext(agen)
        await agen.aclose()
        return chunk

    run(first_chunk())
    assert len(slept) == 1 and 4.5 < slept[0] <= 5.0
    slept.clear()
    run(tts.synthesize("Hello there."))
    assert len(slept) == 1 and 4.5 < slept[0] <= 5.0


def test_deterministic(tts):
    a = run(tts.synthesize(SENTENCES[3]))
    EspeakTTS(voice="en-gb+m3", rate=250, pitch=20, ttfb=Fixed(0))  # touches global state
    run(EspeakTTS(voice="fr-fr", ttfb=Fixed(0)).synthesize("Bonjour tout le monde."))
    b = run(tts.synthesize(SENTENCES[3]))
    assert a.audio.data == b.audio.data
    assert a.words == b.words


@pytest.mark.integration
def test_deterministic_across_processes():
    text = SENTENCES[1]
    code = (
        "import asyncio, hashlib;"
        "from bargein.providers.espeak_tts import EspeakTTS;"
        "from bargein.providers import Fixed;"
        "tts = EspeakTTS(voice='en-us+f3', ttfb=Fixed(0));"
        f"s = asyncio.run(tts.synthesize({text!r}));"
        "print(hashlib.sha256(s.audio.data).hexdigest())"
    )
    here = run(EspeakTTS(voice="en-us+f3", ttfb=Fixed(0)).synthesize(SENTENCES[1]))
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == hashlib.sha256(here.audio.data).hexdigest()


def _pair():
    return (
        (EspeakTTS(voice="en-us", ttfb=Fixed(0)), SENTENCES[8]),
        (EspeakTTS(voice="en-gb+f3", rate=220, pitch=70, ttfb=Fixed(0)), SENTENCES[8]),
    )


def test_concurrent_instances_asyncio_gather():
    (ta, text_a), (tb, text_b) = _pair()
    alone_a = run(ta.synthesize(text_a))
    alone_b = run(tb.synthesize(text_b))
    assert alone_a.audio != alone_b.audio

    async def together():
        return await asyncio.gather(
            *(t.synthesize(x) for _ in range(4) for t, x in ((ta, text_a), (tb, text_b)))
        )

    results = run(together())
    for i, r in enumerate(results):
        ref = alone_a if i % 2 == 0 else alone_b
        assert r.audio == ref.audio and r.words == ref.words

    async def streams():
        async def one(t, x):
            return concat([c.frame async for c in t.stream(x)])

        return await asyncio.gather(one(ta, text_a), one(tb, text_b), one(ta, text_a))

    sa, sb, sa2 = run(streams())
    assert sa == alone_a.audio and sb == alone_b.audio and sa2 == alone_a.audio


def test_concurrent_instances_plain_threads():
    (ta, text_a), (tb, text_b) = _pair()
    alone = {id(ta): run(ta.synthesize(text_a)), id(tb): run(tb.synthesize(text_b))}
    errors: list[BaseException] = []

    def worker(t, x):
        try:
            for _ in range(5):
                r = asyncio.run(t.synthesize(x))
                assert r.audio == alone[id(t)].audio and r.words == alone[id(t)].words
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    jobs = [(ta, text_a), (tb, text_b), (tb, text_b), (ta, text_a)]
    threads = [threading.Thread(target=worker, args=job) for job in jobs]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors


def test_voices_and_variants():
    voices = list_voices()
    assert {"en-us", "en-gb", "fr-fr", "de"} <= set(voices)
    assert {"f3", "m3", "klatt"} <= set(list_variants())
    plain = run(EspeakTTS(ttfb=Fixed(0)).synthesize("Hello there."))
    female = run(EspeakTTS(voice="en-us+f3", ttfb=Fixed(0)).synthesize("Hello there."))
    assert plain.audio != female.audio
    assert [w.text for w in female.words] == ["Hello", "there"]


def test_rate_pitch_volume_change_the_audio():
    text = "Testing the speaking rate."
    base = run(EspeakTTS(ttfb=Fixed(0)).synthesize(text))
    fast = run(EspeakTTS(rate=350, ttfb=Fixed(0)).synthesize(text))
    high = run(EspeakTTS(pitch=90, ttfb=Fixed(0)).synthesize(text))
    quiet = run(EspeakTTS(volume=30, ttfb=Fixed(0)).synthesize(text))
    assert fast.duration < 0.75 * base.duration
    assert high.audio != base.audio
    assert quiet.audio.rms() < 0.6 * base.audio.rms()


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "?!...", "--"])
def test_empty_text_is_refused(tts, text):
    with pytest.raises(ValueError, match=r"empty|no words"):
        run(tts.synthesize(text))
    with pytest.raises(ValueError, match=r"empty|no words"):
        tts.stream(text)


def test_unknown_voice_lists_some():
    with pytest.raises(ValueError, match=r"unknown espeak-ng voice 'elvish'.*en-us"):
        EspeakTTS(voice="elvish")
    with pytest.raises(ValueError, match=r"variant 'f33'.*f3"):
        EspeakTTS(voice="en-us+f33")
    with pytest.raises(ValueError, match="en-us"):
        EspeakTTS(voice="en-uss")


@pytest.mark.parametrize("rate", [0, 999, -16000, 16000.0, True])
def test_bad_sample_rate(rate):
    with pytest.raises(SampleRateError):
        EspeakTTS(sample_rate=rate)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rate": 10},
        {"rate": 1000},
        {"pitch": 101},
        {"volume": -1},
        {"chunk_duration": 0},
        {"voice": ""},
    ],
)
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        EspeakTTS(**kwargs)


@pytest.mark.integration
def test_long_text_many_sentences():
    text = " ".join(SENTENCES * 5)
    speech = run(EspeakTTS(ttfb=Fixed(0), sample_rate=24000).synthesize(text))
    check_words(text, speech)
    assert speech.duration > 60
