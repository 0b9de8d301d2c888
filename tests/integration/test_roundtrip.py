"""Round trip on real audio: espeak speaks, Silero finds the speech, Whisper transcribes it.

Acceptance check of the offline speech stack (issue: foundation, must-show 1). Ground truth for
the speech boundaries is the TTS's own word timings, placed on one continuous stream.
"""

import pytest

from bargein.audio import AudioFrame, concat, split_frames
from bargein.providers.vad import VADEventType
from bargein.sim import run_simulation
from bargein.text import edit_distance, normalize_words, word_error_rate

pytestmark = pytest.mark.integration

SENTENCES = [
    ("Hello, thanks for calling. How can I help you today?", "en-us"),
    ("I would like to check the balance on my account, please.", "en-us"),
    ("My parcel still has not arrived, and it has been two weeks.", "en-gb"),
    ("Could you tell me what time your store opens on Saturday?", "en-us"),
    ("The weather forecast says it will rain heavily tomorrow afternoon.", "en-us+f3"),
    ("Please transfer me to someone who can help with a refund.", "en-us"),
    ("We moved to a new address last month, so the bill went to the old one.", "en-gb"),
    ("Is there a cheaper plan with more data and unlimited calls?", "en-us+m3"),
    ("I don't think that answer is right; can you check it again?", "en-us"),
    ("Thank you very much, that is all I needed. Goodbye!", "en-us+f2"),
    ("Wait, stop, I have a different question about my bill.", "en-us"),
]
LEAD_IN = 0.7  # silence before the first sentence
GAP = 1.1  # silence between sentences: longer than the VAD's min_silence_duration
RATE = 16000
TOLERANCE = 0.064


async def round_trip():
    from bargein.providers.espeak_tts import EspeakTTS
    from bargein.providers.silero_vad import SileroVAD
    from bargein.providers.whisper_stt import WhisperSTT

    parts, truth, cursor = [AudioFrame.silence(LEAD_IN, RATE)], [], LEAD_IN
    for text, voice in SENTENCES:
        speech = await EspeakTTS(voice=voice, sample_rate=RATE).synthesize(text)
        onset, offset = cursor + speech.words[0].start, cursor + speech.words[-1].end
        truth.append((text, onset, offset))
        parts += [speech.audio, AudioFrame.silence(GAP, RATE)]
        cursor += speech.duration + GAP
    stream_audio = concat(parts)

    vad = SileroVAD().stream(RATE)
    events = []
    for frame in split_frames(stream_audio, 0.02):
        events += vad.push_frame(frame)
    events += vad.flush()
    starts = [e.time for e in events if e.type is VADEventType.START_OF_SPEECH]
    ends = [e.time for e in events if e.type is VADEventType.END_OF_SPEECH]

    stt = WhisperSTT()
    transcripts = []
    for start, end in zip(starts, ends, strict=False):
        first, last = round((start - 0.1) * RATE), round((end + 0.1) * RATE)
        segment = AudioFrame.from_int16(stream_audio.to_int16()[first:last], RATE)
        transcripts.append((await stt.recognize(segment)).text)
    return truth, starts, ends, transcripts


def test_espeak_silero_whisper_round_trip():
    truth, starts, ends, transcripts = run_simulation(round_trip())

    assert len(starts) == len(ends) == len(truth), (
        f"VAD found {len(starts)} starts / {len(ends)} ends for {len(truth)} sentences"
    )
    edits = ref_words = 0
    print(f"\n{'sentence':<62} {'onset err':>9} {'offset err':>10} {'WER':>6}")
    for (text, onset, offset), start, end, hyp in zip(truth, starts, ends, transcripts,
                                                       strict=True):
        onset_err, offset_err = start - onset, end - offset
        wer = word_error_rate(text, hyp)
        edits += edit_distance(normalize_words(text), normalize_words(hyp))
        ref_words += len(normalize_words(text))
        print(f"{text[:60]:<62} {onset_err * 1000:+7.1f}ms {offset_err * 1000:+8.1f}ms "
              f"{wer:6.1%}   {hyp!r}")
        assert abs(onset_err) <= TOLERANCE, f"onset off by {onset_err * 1000:.0f} ms: {text!r}"
        assert abs(offset_err) <= TOLERANCE, f"offset off by {offset_err * 1000:.0f} ms: {text!r}"
    total_wer = edits / ref_words
    print(f"overall WER {total_wer:.1%} over {ref_words} words")
    assert total_wer <= 0.15
