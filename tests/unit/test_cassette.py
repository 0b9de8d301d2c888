"""Cassettes: stable keys and file format, replay timing on the loop clock, clear misses."""

from __future__ import annotations

import asyncio
import json

import pytest

from bargein.providers.cassette import (
    Cassette,
    CassetteError,
    CassetteMissError,
    RecordedEvent,
    Recording,
    request_key,
)
from bargein.providers.latency import Fixed, Measured
from bargein.providers.llm import ChatMessage
from bargein.providers.openai_llm import OpenAICompatibleLLM
from bargein.sim import run_simulation

MESSAGES = [ChatMessage("user", "Hi!")]


def _delta(**d) -> str:
    return json.dumps({"choices": [{"index": 0, "delta": d, "finish_reason": None}]})


def write_cassette(path, llm: OpenAICompatibleLLM, events, *, complete=True) -> str:
    """Store a recording for ``MESSAGES`` by hand; returns its key."""
    body = llm.request_body(MESSAGES)
    cassette = Cassette(path, mode="record")
    key = cassette.key("POST", llm.path, body)
    cassette.store(
        key,
        Recording(
            request={"method": "POST", "path": llm.path, "body": body},
            events=[RecordedEvent(d, data) for d, data in events],
            complete=complete,
        ),
    )
    return key


EVENTS = [
    (0.5, _delta(role="assistant", content="")),
    (0.0, _delta(content="Hello")),
    (0.1, _delta(content=" there")),
    (0.25, _delta(content="!")),
    (0.0, "[DONE]"),
]


def replay_llm(path, **cassette_kw) -> OpenAICompatibleLLM:
    return OpenAICompatibleLLM(
        "m", "http://127.0.0.1:9/v1", cassette=Cassette(path, mode="replay", **cassette_kw)
    )


async def timed_chunks(llm) -> list[tuple[float, str]]:
    loop = asyncio.get_running_loop()
    start = loop.time()
    return [(loop.time() - start, c.text) async for c in llm.chat(MESSAGES)]


def test_request_key_is_stable_and_ignores_key_order_and_host():
    a = request_key("post", "/v1/chat/completions", {"model": "m", "stream": True})
    b = request_key("POST", "/v1/chat/completions", {"stream": True, "model": "m"})
    assert a == b and len(a) == 24
    assert a != request_key("POST", "/v1/chat/completions", {"model": "n", "stream": True})
    assert a != request_key("POST", "/other", {"model": "m", "stream": True})


def test_replay_charges_recorded_delays_in_virtual_time(tmp_path):
    path = tmp_path / "c.json"
    write_cassette(path, replay_llm(path), EVENTS)
    got = run_simulation(timed_chunks(replay_llm(path)))
    assert [text for _, text in got] == ["Hello", " there", "!"]
    assert [t for t, _ in got] == [pytest.approx(v) for v in (0.5, 0.6, 0.85)]
    # Same input, same timeline.
    assert run_simulation(timed_chunks(replay_llm(path))) == got


def test_latency_models_override_recorded_delays(tmp_path):
    path = tmp_path / "c.json"
    write_cassette(path, replay_llm(path), EVENTS)
    fast = replay_llm(path, ttft=Fixed(0.2), chunk_delay=Fixed(0.05))
    got = run_simulation(timed_chunks(fast))
    # Events: role (0.2), Hello (+0.05), there (+0.05), ! (+0.05).
    assert [t for t, _ in got] == [pytest.approx(v) for v in (0.25, 0.30, 0.35)]
    half = replay_llm(path, ttft=Measured(0.5), chunk_delay=Measured(0.5))
    got = run_simulation(timed_chunks(half))
    assert [t for t, _ in got] == [pytest.approx(v) for v in (0.25, 0.30, 0.425)]


def test_missing_recording_names_file_and_key(tmp_path):
    path = tmp_path / "none.json"
    llm = replay_llm(path)
    with pytest.raises(CassetteMissError) as info:
        run_simulation(timed_chunks(llm))
    err = info.value
    expected_key = request_key("POST", "/v1/chat/completions", llm.request_body(MESSAGES))
    assert err.key == expected_key
    msg = str(err)
    assert str(path) in msg and expected_key in msg and "mode='record'" in msg


def test_file_format_is_sorted_indented_json(tmp_path):
    path = tmp_path / "c.json"
    key = write_cassette(path, replay_llm(path), EVENTS)
    text = path.read_text()
    data = json.loads(text)
    assert data["format"] == "bargein-cassette" and data["version"] == 1
    assert list(data["interactions"]) == [key]
    entry = data["interactions"][key]
    assert entry["request"]["body"]["messages"] == [{"role": "user", "content": "Hi!"}]
    assert entry["response"]["events"][0] == {"data": EVENTS[0][1], "delay": 0.5}
    assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    # Rewriting with the same content gives the same bytes.
    write_cassette(path, replay_llm(path), EVENTS)
    assert path.read_text() == text


def test_incomplete_recording_raises_when_replay_wants_more(tmp_path):
    path = tmp_path / "c.json"
    write_cassette(path, replay_llm(path), EVENTS[:3], complete=False)

    async def main():
        got = []
        with pytest.raises(CassetteError, match="cancelled while recording"):
            async for chunk in replay_llm(path).chat(MESSAGES):
                got.append(chunk.text)
        return got

    assert run_simulation(main()) == ["Hello", " there"]


def test_not_a_cassette_is_a_clear_error(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(CassetteError, match="not a bargein cassette"):
        Cassette(path).keys()
    path.write_text("{broken")
    with pytest.raises(CassetteError, match="cannot read cassette"):
        Cassette(path).keys()


def test_bad_mode_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="mode"):
        Cassette(tmp_path / "c.json", mode="replay-ish")  # type: ignore[arg-type]
