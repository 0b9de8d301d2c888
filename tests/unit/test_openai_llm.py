"""OpenAICompatibleLLM against a local HTTP server on 127.0.0.1 speaking the streaming format."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field

import pytest

from bargein.errors import MissingExtraError
from bargein.providers.cassette import Cassette, CassetteMissError
from bargein.providers.llm import LLM, ChatMessage, LLMChunk, ToolCall, ToolSpec
from bargein.providers.openai_llm import (
    LLMConnectionError,
    LLMError,
    LLMHTTPError,
    LLMStreamError,
    LLMTimeoutError,
    OpenAICompatibleLLM,
)

pytest.importorskip("httpx")


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: dict


@dataclass
class Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def start(self, status: str = "200 OK", ctype: str = "text/event-stream") -> None:
        self.writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nCache-Control: no-cache\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode()
        )
        await self.writer.drain()

    async def send(self, text: str) -> None:
        data = text.encode()
        self.writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        await self.writer.drain()

    async def event(self, obj: dict | str) -> None:
        payload = obj if isinstance(obj, str) else json.dumps(obj)
        await self.send(f"data: {payload}\n\n")

    async def end(self) -> None:
        self.writer.write(b"0\r\n\r\n")
        await self.writer.drain()

    async def reply_json(self, status: str, obj: dict) -> None:
        data = json.dumps(obj).encode()
        self.writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
            + data
        )
        await self.writer.drain()


Handler = Callable[[Conn, Request], Awaitable[None]]


@dataclass
class LocalServer:
    """A minimal HTTP/1.1 server on 127.0.0.1 (port 0) for one test."""

    handler: Handler
    requests: list[Request] = field(default_factory=list)
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)
    server: asyncio.Server | None = None

    async def __aenter__(self) -> LocalServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/v1"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode()
            request_line, *header_lines = head.split("\r\n")
            method, path, _ = request_line.split(" ")
            headers = {}
            for line in header_lines:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            req = Request(method, path, headers, json.loads(body) if body else {})
            self.requests.append(req)
            await self.handler(Conn(reader, writer), req)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


def delta(**d) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "test-model",
        "choices": [{"index": 0, "delta": d, "finish_reason": None}],
    }


def finish(reason: str) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {}, "finish_reason": reason}],
    }


async def stream_text(conn: Conn, req: Request) -> None:
    await conn.start()
    await conn.event(delta(role="assistant", content=""))
    for piece in ["Hello", " there", ", how", " can I help?"]:
        await conn.event(delta(content=piece))
    await conn.event(finish("stop"))
    await conn.event("[DONE]")
    await conn.end()


async def stream_tool_call(conn: Conn, req: Request) -> None:
    await conn.start()
    await conn.event(delta(role="assistant", content=None))
    first = {"index": 0, "id": "call_abc", "type": "function"}
    await conn.event(
        delta(tool_calls=[{**first, "function": {"name": "get_weather", "arguments": ""}}])
    )
    for part in ['{"ci', 'ty": "Par', 'is"}']:
        await conn.event(delta(tool_calls=[{"index": 0, "function": {"arguments": part}}]))
    await conn.event(finish("tool_calls"))
    await conn.event("[DONE]")
    await conn.end()


async def collect(llm, messages, **kw) -> list[LLMChunk]:
    out = []
    async with aclosing(llm.chat(messages, **kw)) as stream:
        async for chunk in stream:
            out.append(chunk)
    return out


MESSAGES = [
    ChatMessage("system", "You are terse."),
    ChatMessage("user", "Hi!"),
]


@pytest.mark.asyncio
async def test_streams_text_and_sends_a_standard_request():
    async with LocalServer(stream_text) as server:
        llm = OpenAICompatibleLLM(
            "test-model", server.base_url, api_key="sk-test", temperature=0.2,
            extra_headers={"X-Trace": "1"},
        )  # fmt: skip
        try:
            chunks = await collect(llm, MESSAGES)
        finally:
            await llm.aclose()
    assert isinstance(llm, LLM)
    assert [c.text for c in chunks] == ["Hello", " there", ", how", " can I help?"]
    (req,) = server.requests
    assert req.method == "POST" and req.path == "/v1/chat/completions"
    assert req.headers["authorization"] == "Bearer sk-test"
    assert req.headers["x-trace"] == "1"
    assert req.headers["content-type"] == "application/json"
    assert req.body == {
        "model": "test-model",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Hi!"},
        ],
        "stream": True,
        "temperature": 0.2,
    }


@pytest.mark.asyncio
async def test_api_key_from_environment_and_none_for_local_servers(monkeypatch):
    async with LocalServer(stream_text) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
        llm = OpenAICompatibleLLM("m", server.base_url)
        await collect(llm, MESSAGES)
        await llm.aclose()
        monkeypatch.delenv("OPENAI_API_KEY")
        local = OpenAICompatibleLLM("m", server.base_url)
        await collect(local, MESSAGES)
        await local.aclose()
    assert server.requests[0].headers["authorization"] == "Bearer sk-env"
    assert "authorization" not in server.requests[1].headers
    assert "temperature" not in server.requests[1].body


@pytest.mark.asyncio
async def test_tool_call_fragments_are_assembled_and_tools_sent():
    tool = ToolSpec(
        "get_weather",
        "Weather for a city",
        {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    )
    async with LocalServer(stream_tool_call) as server:
        llm = OpenAICompatibleLLM("m", server.base_url, api_key="k")
        chunks = await collect(llm, [ChatMessage("user", "Weather in Paris?")], tools=[tool])
        await llm.aclose()
    calls = [c for chunk in chunks for c in chunk.tool_calls]
    assert calls == [ToolCall("call_abc", "get_weather", '{"city": "Paris"}')]
    assert all(not c.text for c in chunks)
    assert server.requests[0].body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
        }
    ]


@pytest.mark.asyncio
async def test_tool_messages_are_mapped_to_the_wire():
    call = ToolCall("call_1", "get_weather", '{"city":"Paris"}')
    messages = [
        ChatMessage("user", "Weather?"),
        ChatMessage("assistant", "", tool_calls=(call,)),
        ChatMessage("tool", "sunny", tool_call_id="call_1"),
        ChatMessage("assistant", "It is su", interrupted=True),
        ChatMessage("user", "thanks"),
    ]
    async with LocalServer(stream_text) as server:
        llm = OpenAICompatibleLLM("m", server.base_url, api_key="k")
        await collect(llm, messages)
        await llm.aclose()
    assert server.requests[0].body["messages"] == [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "content": "sunny", "tool_call_id": "call_1"},
        {"role": "assistant", "content": "It is su"},
        {"role": "user", "content": "thanks"},
    ]


@pytest.mark.asyncio
async def test_http_error_status_includes_the_server_message():
    async def unauthorized(conn: Conn, req: Request) -> None:
        await conn.reply_json(
            "401 Unauthorized",
            {
                "error": {
                    "message": "Incorrect API key provided: sk-bad.",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            },
        )

    async with LocalServer(unauthorized) as server:
        llm = OpenAICompatibleLLM("m", server.base_url, api_key="sk-bad")
        with pytest.raises(LLMHTTPError) as info:
            await collect(llm, MESSAGES)
        await llm.aclose()
    err = info.value
    assert err.status_code == 401
    assert "401" in str(err) and "Incorrect API key provided" in str(err)


@pytest.mark.asyncio
async def test_malformed_sse_line_raises_a_clear_error():
    async def garbage(conn: Conn, req: Request) -> None:
        await conn.start()
        await conn.event(delta(content="Hi"))
        await conn.send("<html>oops</html>\n\n")
        await conn.end()

    async with LocalServer(garbage) as server:
        llm = OpenAICompatibleLLM("m", server.base_url)
        got = []
        with pytest.raises(LLMStreamError, match="malformed server-sent event line"):
            async for chunk in llm.chat(MESSAGES):
                got.append(chunk.text)
        await llm.aclose()
    assert got == ["Hi"]


@pytest.mark.asyncio
async def test_non_json_event_data_raises_a_clear_error():
    async def bad_json(conn: Conn, req: Request) -> None:
        await conn.start()
        await conn.event("{not json")
        await conn.end()

    async with LocalServer(bad_json) as server:
        llm = OpenAICompatibleLLM("m", server.base_url)
        with pytest.raises(LLMStreamError, match="not JSON"):
            await collect(llm, MESSAGES)
        await llm.aclose()


@pytest.mark.asyncio
async def test_error_event_mid_stream_raises():
    async def mid_error(conn: Conn, req: Request) -> None:
        await conn.start()
        await conn.event({"error": {"message": "model overloaded"}})
        await conn.end()

    async with LocalServer(mid_error) as server:
        llm = OpenAICompatibleLLM("m", server.base_url)
        with pytest.raises(LLMError, match="model overloaded"):
            await collect(llm, MESSAGES)
        await llm.aclose()


@pytest.mark.asyncio
async def test_timeout_raises_a_clear_error():
    async def silent(conn: Conn, req: Request) -> None:
        await conn.reader.read()  # never answers; returns when the client gives up

    async with LocalServer(silent) as server:
        llm = OpenAICompatibleLLM("m", server.base_url, timeout=0.05)
        with pytest.raises(LLMTimeoutError, match=r"did not answer within 0\.05 s"):
            await collect(llm, MESSAGES)
        await llm.aclose()


@pytest.mark.asyncio
async def test_unreachable_server_raises_a_connection_error():
    async with LocalServer(stream_text) as server:
        url = server.base_url
    llm = OpenAICompatibleLLM("m", url)
    with pytest.raises(LLMConnectionError, match="cannot talk to LLM server"):
        await collect(llm, MESSAGES)
    await llm.aclose()


def _hanging_server() -> LocalServer:
    """Streams two chunks, then waits until the client disconnects."""
    holder: list[LocalServer] = []

    async def hang(conn: Conn, req: Request) -> None:
        await conn.start()
        await conn.event(delta(role="assistant", content="One"))
        await conn.event(delta(content=" two"))
        await conn.reader.read()  # b"" once the client closes its side
        holder[0].disconnected.set()

    server = LocalServer(hang)
    holder.append(server)
    return server


@pytest.mark.asyncio
async def test_cancelling_the_task_closes_the_http_stream():
    async with _hanging_server() as server:
        llm = OpenAICompatibleLLM("m", server.base_url)
        got: list[str] = []
        two = asyncio.Event()

        async def consume() -> None:
            async for chunk in llm.chat(MESSAGES):
                got.append(chunk.text)
                if len(got) == 2:
                    two.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(two.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(server.disconnected.wait(), 5)
        await llm.aclose()
    assert got == ["One", " two"]


@pytest.mark.asyncio
async def test_closing_the_stream_closes_the_http_stream():
    async with _hanging_server() as server:
        llm = OpenAICompatibleLLM("m", server.base_url)
        stream = llm.chat(MESSAGES)
        assert (await anext(stream)).text == "One"
        await stream.aclose()
        await asyncio.wait_for(server.disconnected.wait(), 5)
        await llm.aclose()


@pytest.mark.asyncio
async def test_non_streaming_json_answer_is_accepted():
    async def plain(conn: Conn, req: Request) -> None:
        await conn.reply_json(
            "200 OK",
            {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi all"}}]},
        )

    async with LocalServer(plain) as server:
        llm = OpenAICompatibleLLM("m", server.base_url)
        chunks = await collect(llm, MESSAGES)
        await llm.aclose()
    assert [c.text for c in chunks] == ["Hi all"]


@pytest.mark.asyncio
async def test_record_then_replay_without_the_server(tmp_path):
    path = tmp_path / "llm.json"
    tool = ToolSpec("get_weather", "Weather", {"type": "object", "properties": {}})
    convo_b = [ChatMessage("user", "Weather in Paris?")]

    async def route(conn: Conn, req: Request) -> None:
        if req.body.get("tools"):
            await stream_tool_call(conn, req)
        else:
            await stream_text(conn, req)

    async with LocalServer(route) as server:
        recorder = OpenAICompatibleLLM(
            "m", server.base_url, api_key="sk-secret", cassette=Cassette(path, mode="record")
        )
        live_a = await collect(recorder, MESSAGES)
        live_b = await collect(recorder, convo_b, tools=[tool])
        await recorder.aclose()
        url = server.base_url
    # The server is gone: replay must not need it.
    replayer = OpenAICompatibleLLM("m", url, cassette=Cassette(path, mode="replay"))
    assert await collect(replayer, MESSAGES) == live_a
    assert await collect(replayer, convo_b, tools=[tool]) == live_b

    text = path.read_text()
    assert "sk-secret" not in text
    data = json.loads(text)
    assert len(data["interactions"]) == 2
    assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    with pytest.raises(CassetteMissError) as info:
        await collect(replayer, [ChatMessage("user", "never recorded")])
    msg = str(info.value)
    assert str(path) in msg and info.value.key in msg and "mode='record'" in msg


@pytest.mark.asyncio
async def test_auto_mode_records_once_then_replays(tmp_path):
    path = tmp_path / "auto.json"
    async with LocalServer(stream_text) as server:
        llm = OpenAICompatibleLLM("m", server.base_url, cassette=Cassette(path, mode="auto"))
        first = await collect(llm, MESSAGES)
        second = await collect(llm, MESSAGES)
        await llm.aclose()
    assert first == second
    assert len(server.requests) == 1


@pytest.mark.asyncio
async def test_recorded_error_replays_as_the_same_error(tmp_path):
    path = tmp_path / "err.json"

    async def unauthorized(conn: Conn, req: Request) -> None:
        await conn.reply_json("401 Unauthorized", {"error": {"message": "bad key"}})

    async with LocalServer(unauthorized) as server:
        llm = OpenAICompatibleLLM("m", server.base_url, cassette=Cassette(path, mode="record"))
        with pytest.raises(LLMHTTPError):
            await collect(llm, MESSAGES)
        await llm.aclose()
        url = server.base_url
    replay = OpenAICompatibleLLM("m", url, cassette=Cassette(path))
    with pytest.raises(LLMHTTPError, match="401: bad key") as info:
        await collect(replay, MESSAGES)
    assert info.value.status_code == 401


def test_missing_httpx_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "httpx", None)
    with pytest.raises(MissingExtraError) as info:
        OpenAICompatibleLLM("m", "http://127.0.0.1:9/v1")
    assert "pip install 'bargein[openai]'" in str(info.value)
    assert isinstance(info.value, ImportError)
    # Replay needs no httpx at all.
    OpenAICompatibleLLM("m", cassette=Cassette(tmp_path / "c.json", mode="replay"))


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="base_url"):
        OpenAICompatibleLLM("m", "localhost:11434")
    with pytest.raises(ValueError, match="model"):
        OpenAICompatibleLLM("")
    with pytest.raises(ValueError, match="tool_call_id"):
        OpenAICompatibleLLM("m").request_body([ChatMessage("tool", "x")])


@pytest.mark.asyncio
async def test_interrupted_recording_is_kept_but_marked_incomplete(tmp_path):
    from bargein.providers.cassette import CassetteError

    path = tmp_path / "cut.json"
    async with _hanging_server() as server:
        llm = OpenAICompatibleLLM("m", server.base_url, cassette=Cassette(path, mode="record"))
        stream = llm.chat(MESSAGES)
        assert (await anext(stream)).text == "One"
        assert (await anext(stream)).text == " two"
        await stream.aclose()
        await asyncio.wait_for(server.disconnected.wait(), 5)
        await llm.aclose()
        url = server.base_url
    (entry,) = json.loads(path.read_text())["interactions"].values()
    assert entry["response"]["complete"] is False and len(entry["response"]["events"]) == 2

    replay = OpenAICompatibleLLM("m", url, cassette=Cassette(path))
    got = []
    with pytest.raises(CassetteError, match="cancelled while recording"):
        async for chunk in replay.chat(MESSAGES):
            got.append(chunk.text)
    assert got == ["One", " two"]
    # auto mode does not trust an incomplete recording: it would record again.
    assert not Cassette(path, mode="auto").should_replay(next(iter(Cassette(path).keys())))


def test_network_in_simulation_is_refused_with_a_cassette_hint():
    from bargein.errors import NetworkInSimulationError
    from bargein.sim import run_simulation

    llm = OpenAICompatibleLLM("m", "http://127.0.0.1:9/v1")

    async def main():
        await collect(llm, MESSAGES)

    with pytest.raises(NetworkInSimulationError, match="mode='replay'"):
        run_simulation(main())
