"""The LLM caller against the real agent (Silero VAD, espeak-ng, the rule-based agent LLM),
replayed from a cassette; and a real agent's acknowledgement of a stop request counting as a
recovery.

The caller's model is reached through ``OpenAICompatibleLLM``: its requests are recorded once
from a loopback server that speaks the streaming wire format, then replayed inside the
simulation with no server at all (the same way as tests/integration/test_judge.py).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from bargein import scenario
from bargein.providers.cassette import Cassette
from bargein.providers.llm import LLMChunk
from bargein.providers.openai_llm import OpenAICompatibleLLM

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples" / "scenarios"))
sys.path.insert(0, str(ROOT / "tests" / "unit"))

from _agents import interrupt_user_agent  # noqa: E402
from test_openai_llm import Conn, LocalServer, Request, delta, finish  # noqa: E402

PERSONA = "a small-business owner who was charged twice"
GOALS = ["Find out why the bill is higher", "Ask about business hours"]
LINES = ["Hi, my last bill looks higher than usual.", "Okay. What are your business hours?"]
INTERJECTIONS = ["Sorry, how do refunds work?", "Wait, are you open on Saturdays?"]


def caller_answer(messages: list[dict]) -> str:
    """What the caller's model answers: its lines in order, and its interjections in order."""
    text = str(messages)
    if "Cut in on it" in messages[-1]["content"]:
        return INTERJECTIONS[sum(i in text for i in INTERJECTIONS)]
    return LINES[sum(line in text for line in LINES)]


class Spy:
    """Answers like the caller's model and keeps every request (to record them afterwards)."""

    def __init__(self) -> None:
        self.requests: list[list] = []

    async def chat(self, messages, *, tools=None):
        self.requests.append(list(messages))
        wire = [{"role": m.role, "content": m.content} for m in messages]
        yield LLMChunk(text=caller_answer(wire))


def script():
    return [
        scenario.agent(),  # the greeting
        scenario.proceed(turns=2, interruptions=scenario.InterruptionConfig(
            probability=1.0, delay_range=(1.0, 1.0), strategy="contextual")),
    ]


def run(llm):
    user = scenario.UserSimulator(persona=PERSONA, goals=GOALS, llm=llm)
    return scenario.run("llm caller", agent=interrupt_user_agent(), user=user, seed=5,
                        script=script())


def test_llm_caller_replays_from_a_cassette_against_the_real_agent(tmp_path):
    # 1. the requests the caller makes in this (deterministic) conversation
    spy = Spy()
    first = run(spy)
    assert [u.text for u in first.utterances] == [
        LINES[0], INTERJECTIONS[0], LINES[1], INTERJECTIONS[1]]
    assert len(spy.requests) == 4

    # 2. record them against a loopback server speaking the streaming wire format
    async def handler(conn: Conn, req: Request) -> None:
        text = caller_answer(req.body["messages"])
        await conn.start()
        await conn.event(delta(role="assistant", content=""))
        for word in text.split(" "):
            await conn.event(delta(content=word + " "))
        await conn.event(finish("stop"))
        await conn.event("[DONE]")
        await conn.end()

    path = tmp_path / "caller.cassette.json"

    async def record() -> None:
        async with LocalServer(handler) as server:
            llm = OpenAICompatibleLLM("caller-model", base_url=server.base_url,
                                      cassette=Cassette(path, mode="record"))
            for messages in spy.requests:
                assert "".join([c.text async for c in llm.chat(messages)]).strip()
            await llm.aclose()

    asyncio.run(record())

    # 3. replay inside the simulation, twice, with no server
    def replayed():
        return run(OpenAICompatibleLLM("caller-model", base_url="http://127.0.0.1:9/v1",
                                       cassette=Cassette(path, mode="replay")))

    a, b = replayed(), replayed()
    assert a.to_json() == b.to_json()
    assert [u.text for u in a.utterances] == [u.text for u in first.utterances]
    assert [u.barge_in for u in a.utterances] == [False, True, False, True]

    # the agent really heard the LLM's lines: it answered each on its topic (the answers to
    # the two lines were cut after 1 s of heard speech, the answers to the barge-ins were not)
    replies = [(str(e.data["text"]), bool(e.data.get("interrupted")))
               for e in a.timeline.of("agent_message")]
    print(*replies, sep="\n")
    assert [cut for _, cut in replies] == [False, True, False, True, False]
    assert "billing" in replies[1][0]
    assert "refund" in replies[2][0]
    assert "support team" in replies[3][0]
    assert "Saturdays" in replies[4][0]

    # each request held the persona, the goals and the conversation so far
    line_request = spy.requests[2]
    assert PERSONA in line_request[0].content and "2. Ask about business hours" in \
        line_request[0].content
    roles = [m.role for m in line_request[1:]]
    assert roles[:2] == ["user", "assistant"]  # the greeting, then the caller's first line
    assert any(m.content.endswith("[you cut in here]") for m in line_request)
    interjection_request = spy.requests[1][-1].content
    assert PERSONA in interjection_request and LINES[0] in interjection_request
    assert "The agent is now saying:" in interjection_request


def test_real_agent_acknowledging_a_stop_request_has_addressed_it():
    result = scenario.run("stop request", agent=interrupt_user_agent(), script=[
        scenario.agent(),
        scenario.user("Tell me about your product features"),
        scenario.interrupt("Wait, that's wrong!", after=1.0),
        scenario.agent(),
        scenario.expect_reply_addresses_interruption(),
    ])
    assert result.success, result.reasoning
    assert "acknowledges the stop request" in result.checks[0].detail
