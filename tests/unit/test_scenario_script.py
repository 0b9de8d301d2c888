"""Bad scenario scripts are refused with a clear error before anything runs."""

import pytest

from bargein import scenario
from bargein.adapters import AgentAdapter, Capabilities
from bargein.errors import ScenarioError


class NullAdapter(AgentAdapter):
    """An adapter that starts nothing (the script fails before it would matter)."""

    name = "null"
    capabilities = Capabilities(streaming_transcripts=True, native_vad=True, interruption=True)

    async def start(self, link):
        pass

    async def close(self):
        pass


def run(script):
    return scenario.run("bad", agent=NullAdapter(), script=script)


def test_unknown_step_names_the_position_and_the_steps():
    with pytest.raises(ScenarioError, match=r"step 2 is 'hello'.*user\(\), agent\(\)"):
        run([scenario.agent(), "hello"])


def test_uncalled_step_function_gets_a_hint():
    with pytest.raises(ScenarioError, match="forget to call it"):
        run([scenario.agent])


def test_step_after_succeed_is_refused():
    with pytest.raises(ScenarioError, match=r"step 2 \(agent\(\)\) comes after succeed\(\)"):
        run([scenario.succeed(), scenario.agent()])


def test_empty_script_and_bad_arguments():
    with pytest.raises(ScenarioError, match="empty"):
        run([])
    with pytest.raises(ScenarioError, match="not both"):
        scenario.interrupt("x", after=1.0, after_words=3)
    with pytest.raises(ScenarioError, match="integer >= 1"):
        scenario.interrupt("x", after_words=0)
    with pytest.raises(ScenarioError, match=">= 0"):
        scenario.silence(-1)
    with pytest.raises(ScenarioError, match="mode"):
        scenario.interrupt("x", mode="telepathy")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"at": -1.0}, "finite number of seconds >= 0"),
    ({"at": float("nan")}, "finite number of seconds >= 0"),
    ({"at": float("inf")}, "finite number of seconds >= 0"),
    ({"at": "5"}, "finite number of seconds >= 0"),
    ({"when": "talking"}, "must be 'thinking'"),
    ({"at": 3.0, "after": 1.0}, "after= or at=, not both"),
    ({"when": "thinking", "after_words": 2, "at": 1.0}, "only one of them"),
])
def test_bad_triggers_are_refused(kwargs, message):
    with pytest.raises(ScenarioError, match=message):
        scenario.interrupt("x", **kwargs)


def test_triggers_name_themselves():
    assert scenario.interrupt("x", at=2.5).trigger == "at"
    assert scenario.interrupt("x", when="thinking").trigger == "thinking"
    assert scenario.interrupt("x", when="thinking").describe() == "interrupt('x', when='thinking')"


def test_agent_must_be_an_adapter():
    with pytest.raises(ScenarioError, match="BargeinAgentAdapter"):
        scenario.run("x", agent=object(), script=[scenario.agent()])


def test_missing_audio_file_is_refused_when_the_step_is_written(tmp_path):
    with pytest.raises(ScenarioError, match=r"user\(\): audio file not found"):
        scenario.user(tmp_path / "missing.wav")
    with pytest.raises(ScenarioError, match="not found"):
        scenario.user(str(tmp_path / "missing.wav"))  # a path given as text
    with pytest.raises(ScenarioError, match=r"interrupt\(\): audio file not found"):
        scenario.interrupt(tmp_path / "missing.wav")


def test_file_that_is_not_audio_is_refused_when_the_step_is_written(tmp_path):
    junk = tmp_path / "notes.wav"
    junk.write_text("these are my notes, not audio" * 20)
    with pytest.raises(ScenarioError, match=r"notes\.wav: not a readable audio file"):
        scenario.user(junk)
    with pytest.raises(ScenarioError, match="not a readable audio file"):
        scenario.user(b"RIFF....garbage" * 10)
