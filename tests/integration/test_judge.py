"""Judging a real conversation: deterministic criteria, and an LLM judge replayed from a
cassette (recorded once against a local server that speaks the streaming wire format)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from bargein import scenario
from bargein.errors import ScenarioError
from bargein.providers.cassette import Cassette
from bargein.providers.llm import LLMChunk
from bargein.providers.openai_llm import OpenAICompatibleLLM

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples" / "scenarios"))
sys.path.insert(0, str(ROOT / "tests" / "unit"))

from _agents import interrupt_user_agent  # noqa: E402
from test_openai_llm import Conn, LocalServer, Request, delta, finish  # noqa: E402

CRITERIA = ["The agent stops talking when the caller cuts in.",
            "The agent answers the question about business hours."]


def script(judge):
    return [scenario.agent(), scenario.user("Tell me about your product features"),
            scenario.interrupt("Sorry, what are your business hours?", after=1.0),
            scenario.agent(), judge]


class SpyJudge:
    """Records the judge prompt and answers with a fixed verdict."""

    def __init__(self, verdicts):
        self.verdicts = verdicts
        self.messages = None

    async def chat(self, messages, *, tools=None):
        self.messages = messages
        yield LLMChunk(text=json.dumps({"verdicts": self.verdicts}))


def test_verdict_names_each_criterion_pass_or_fail_and_why():
    spy = SpyJudge([
        {"criterion": CRITERIA[0], "passed": True, "reason": "It stopped at once."},
        {"criterion": CRITERIA[1], "passed": False, "reason": "It never gave the hours."},
    ])
    result = scenario.run("judged", agent=interrupt_user_agent(), script=script(
        scenario.judge([*CRITERIA, scenario.said("Monday"),
                        scenario.recovered_after_interruptions()], llm=spy)))
    verdicts = {c.description: (c.passed, c.detail) for c in result.checks}
    assert verdicts[f"judge: {CRITERIA[0]}"] == (True, "It stopped at once.")
    assert verdicts[f"judge: {CRITERIA[1]}"] == (False, "It never gave the hours.")
    assert verdicts["judge: agent said ['Monday']"][0] is True
    assert not result.success and "It never gave the hours." in result.reasoning
    prompt = spy.messages[-1].content
    assert "USER [barges in]: Sorry, what are your business hours?" in prompt
    assert "AGENT [cut off]:" in prompt


def test_free_text_criteria_without_an_llm_are_refused_before_the_run():
    with pytest.raises(ScenarioError, match="need an LLM judge"):
        scenario.run("no judge", agent=interrupt_user_agent(),
                     script=script(scenario.judge(CRITERIA)))


def test_llm_judge_replays_deterministically_from_a_cassette(tmp_path):
    # 1. find the exact request the judge makes (the conversation is deterministic)
    spy = SpyJudge([])
    scenario.run("judged", agent=interrupt_user_agent(),
                 script=script(scenario.judge(CRITERIA, llm=spy)))

    # 2. record that request against a local server speaking the streaming wire format
    answer = json.dumps({"verdicts": [
        {"criterion": c, "passed": True, "reason": f"verdict {i}"}
        for i, c in enumerate(CRITERIA)]})

    async def handler(conn: Conn, req: Request) -> None:
        await conn.start()
        await conn.event(delta(role="assistant", content=""))
        for i in range(0, len(answer), 40):
            await conn.event(delta(content=answer[i:i + 40]))
        await conn.event(finish("stop"))
        await conn.event("[DONE]")
        await conn.end()

    path = tmp_path / "judge.cassette.json"

    async def record():
        async with LocalServer(handler) as server:
            llm = OpenAICompatibleLLM("judge-model", base_url=server.base_url, api_key="k",
                                      cassette=Cassette(path, mode="record"))
            return "".join([c.text async for c in llm.chat(spy.messages)])

    assert json.loads(asyncio.run(record()))["verdicts"][1]["reason"] == "verdict 1"

    # 3. replay inside the simulation, twice: no server, same verdicts, same JSON
    def judged():
        llm = OpenAICompatibleLLM("judge-model", base_url="http://127.0.0.1:9/v1",
                                  api_key="k", cassette=Cassette(path, mode="replay"))
        return scenario.run("judged", agent=interrupt_user_agent(),
                            script=script(scenario.judge(CRITERIA, llm=llm)))

    first, second = judged(), judged()
    assert first.success, first.reasoning
    assert [c.detail for c in first.checks] == ["verdict 0", "verdict 1"]
    assert first.to_json() == second.to_json()
