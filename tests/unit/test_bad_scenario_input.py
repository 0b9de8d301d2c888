"""Values that cannot work are refused when a scenario is written, with a ScenarioError that
names the option, the value and what would work (issue 17 item 15, and the same holes in
every other option that takes a number, a text or a file)."""

from __future__ import annotations

import asyncio
import inspect
import math

import numpy as np
import pytest

from bargein import scenario
from bargein.adapters import AgentAdapter, Capabilities
from bargein.audio import AudioFrame, wav_bytes
from bargein.errors import ScenarioError
from bargein.scenario import InterruptionConfig, UserSimulator
from bargein.scenario.options import RUN_OPTIONS
from bargein.scenario.runner import ScenarioRun
from bargein.sim import run_simulation

NAN, INF = math.nan, math.inf
TONE = AudioFrame.from_int16(np.array([1000, -1000] * 800, np.int16), 16000)


class NullAdapter(AgentAdapter):
    """Starts nothing: these scripts end (or fail) before an agent would matter."""

    name = "null"
    capabilities = Capabilities(streaming_transcripts=True, native_vad=True, interruption=True)

    async def start(self, link):
        pass

    async def close(self):
        pass


BAD_STEPS = [
    # durations: NaN, infinite, negative, not a number
    (lambda: scenario.silence(INF), r"silence\(seconds\) must be a finite number of seconds "
                                    r">= 0, got inf"),
    (lambda: scenario.silence(NAN), "got nan"),
    (lambda: scenario.silence(-1), "got -1"),
    (lambda: scenario.silence("2"), "got '2'"),
    (lambda: scenario.silence(True), "got True"),
    (lambda: scenario.sleep(INF), r"sleep\(seconds\) .* got inf"),
    (lambda: scenario.sleep(-0.5), "got -0.5"),
    (lambda: scenario.agent(timeout=INF), r"agent\(timeout=...\) must be a finite number of "
                                          r"seconds > 0, got inf"),
    (lambda: scenario.agent(timeout=0), "> 0, got 0"),
    (lambda: scenario.agent(wait="no"), r"agent\(wait=...\) must be True or False"),
    (lambda: scenario.interrupt("Stop", timeout=-3), r"interrupt\(timeout=...\) .* got -3"),
    (lambda: scenario.interrupt("Stop", timeout=NAN), "got nan"),
    (lambda: scenario.interrupt("Stop", after=INF), r"interrupt\(after=...\) .* got inf"),
    (lambda: scenario.interrupt("Stop", after=-1), "got -1"),
    (lambda: scenario.interrupt("Stop", after="1"), "got '1'"),
    (lambda: scenario.interrupt("Stop", after_words=2.5), "integer >= 1, got 2.5"),
    (lambda: scenario.interrupt("Stop", after_words=True), "integer >= 1, got True"),
    (lambda: scenario.interrupt("Stop", mode=None), "must be one of 'auto', 'native', 'vad'"),
    (lambda: scenario.user("Hi", yield_after=NAN), r"user\(yield_after=...\) .* got nan"),
    (lambda: scenario.user("Hi", transcript=3), r"user\(transcript=...\) must be text"),
    (lambda: scenario.proceed(turns=2.0), r"proceed\(turns=...\) must be an integer >= 1"),
    (lambda: scenario.proceed(turns=0), "got 0"),
    (lambda: scenario.proceed(interruptions={"probability": 1}), "takes an "
                                                                 "InterruptionConfig, got dict"),
    (lambda: scenario.fail(reasoning=3), r"fail\(reasoning\) must be text"),
    (lambda: scenario.judge([]), r"judge\(\[\]\) has no criteria; write judge\(\)"),
    (lambda: scenario.judge("be polite"), r"judge\(criteria=...\) takes a non-empty list"),
    (lambda: scenario.judge([" "]), "criterion ' ' is neither text nor a criterion"),
    (lambda: scenario.judge([3]), "criterion 3 is neither"),
    # what the simulated user says
    (lambda: scenario.user("😀😀"), r"user\(\) cannot be spoken: it has no words"),
    (lambda: scenario.user("   "), "empty or only whitespace"),
    (lambda: scenario.user("a\ud800b"), "unpaired surrogate"),
    (lambda: scenario.user("Hello\x00there"), r"control character '\\x00'"),
    (lambda: scenario.user(None), r"user\(\) takes text, a path to an audio file, audio-file "
                                  r"bytes or an AudioFrame, got NoneType"),
    (lambda: scenario.user(42), "got int 42"),
    (lambda: scenario.user(["Hi"]), "got list"),
    (lambda: scenario.interrupt("!!!"), r"interrupt\(\) cannot be spoken"),
    (lambda: scenario.user(b"not audio at all" * 8), "not a readable audio file"),
    (lambda: scenario.user(wav_bytes(TONE)[:100]), "cut short"),
    (lambda: scenario.user("clip.wav"), "audio file not found: clip.wav"),
]


@pytest.mark.parametrize("make, message", BAD_STEPS)
def test_bad_step_is_refused_when_written(make, message):
    with pytest.raises(ScenarioError, match=message):
        make()


BAD_CONFIGS = [
    ({"delay_range": (NAN, NAN)}, "delay_range low must be a finite number of seconds"),
    ({"delay_range": (1, INF)}, "delay_range high .* got inf"),
    ({"delay_range": (-1, 2)}, "got -1"),
    ({"delay_range": (3.0, 1.0)}, "0 <= low <= high"),
    ({"delay_range": (1, 2, 3)}, "two numbers"),
    ({"delay_range": "soon"}, "two numbers"),
    ({"probability": NAN}, "probability must be between 0 and 1, got nan"),
    ({"probability": True}, "got True"),
    ({"phrases": "abc"}, r"phrases must be a list of lines such as \['Wait, stop.'\], "
                         "got 'abc'"),
    ({"phrases": ["😀"]}, r"phrases\[0\] cannot be spoken: it has no words"),
    ({"phrases": ["Stop", None]}, r"phrases\[1\] cannot be spoken: it is not text"),
    ({"phrases": []}, "non-empty"),
    ({"strategy": "rude"}, "strategy must be one of 'random_phrase', 'contextual'"),
    ({"seed": "7"}, "seed must be an integer or None, got '7'"),
    ({"seed": 1.5}, "got 1.5"),
]


@pytest.mark.parametrize("kwargs, message", BAD_CONFIGS)
def test_bad_interruption_config_is_refused(kwargs, message):
    with pytest.raises(ScenarioError, match=message):
        InterruptionConfig(**kwargs)


BAD_SIMULATORS = [
    ({"goals": [""]}, r"goals\[0\] cannot be spoken: it is empty"),
    ({"goals": ["Ask about refunds", "🙂"]}, r"goals\[1\] cannot be spoken"),
    ({"goals": "Ask about refunds"}, "goals must be a list of lines"),
    ({"goals": [None]}, r"goals\[0\] cannot be spoken: it is not text"),
    ({"interrupt_probability": 2}, "interrupt_probability must be between 0 and 1, got 2"),
    ({"interrupt_probability": NAN}, "got nan"),
    ({"persona": None}, "persona must be text"),
    ({"voice": ""}, "voice must be an espeak-ng voice name"),
    ({"voice": 3}, "got 3"),
    ({"llm": "gpt-4o"}, "llm must be an LLM"),
]


@pytest.mark.parametrize("kwargs, message", BAD_SIMULATORS)
def test_bad_user_simulator_is_refused(kwargs, message):
    with pytest.raises(ScenarioError, match=message):
        UserSimulator(**kwargs)


def test_a_good_config_and_simulator_are_kept_as_given():
    config = InterruptionConfig(delay_range=[0.5, 2], phrases=["Wait.", "Hold on!"], seed=4)
    assert config.delay_range == (0.5, 2.0) and config.phrases == ("Wait.", "Hold on!")
    assert UserSimulator(goals=(g for g in ["Ask about refunds"])).goals == (
        "Ask about refunds",)


BAD_OPTIONS = [
    ({"max_duration": -1}, "option max_duration must be a finite number of seconds > 0, "
                           "got -1"),
    ({"max_duration": NAN}, "got nan"),
    ({"max_duration": INF}, "got inf"),
    ({"settle": -5}, "option settle must be a finite number of seconds >= 0, got -5"),
    ({"settle": "1"}, "got '1'"),
    ({"seed": 1.5}, "option seed must be an integer, got 1.5"),
    ({"seed": None}, "got None"),
    ({"sample_rate": 44100}, "option sample_rate must be one of 8000, 16000, 24000"),
    ({"sample_rate": 16000.0}, "got 16000.0"),
    ({"echo_gain": -0.5}, "option echo_gain must be None or a finite number >= 0"),
    ({"echo_gain": NAN}, "got nan"),
    ({"interrupt_mode": "psychic"}, "option interrupt_mode must be one of"),
    ({"user_voice": ""}, "user_voice must be an espeak-ng voice name"),
    ({"user": "a caller"}, "option user must be a UserSimulator, got str"),
    ({"judge_llm": "gpt-4o"}, "option judge_llm must be an LLM"),
    ({"criteria": "be polite"}, "option criteria takes a non-empty list of criteria"),
    ({"criteria": []}, "option criteria takes a non-empty list"),
    ({"criteria": [None]}, "criterion None is neither text nor a criterion"),
    ({"max_turns": 0}, "option max_turns must be an integer >= 1, got 0"),
    ({"max_turns": 2.5}, "got 2.5"),
    ({"max_durration": 3}, "unknown option 'max_durration'; did you mean 'max_duration'?"),
]


@pytest.mark.parametrize("options, message", BAD_OPTIONS)
def test_bad_run_option_is_refused_before_anything_runs(options, message):
    script = [scenario.succeed()]
    with pytest.raises(ScenarioError, match=f"scenario\\.run\\(\\): .*{message}"):
        scenario.run("bad", agent=NullAdapter(), script=script, **options)
    with pytest.raises(ScenarioError, match=f"scenario 'bad': .*{message}"):
        scenario.Scenario("bad", agent=NullAdapter, script=script, options=options)


def test_an_unknown_voice_is_refused_by_name():
    with pytest.raises(ScenarioError, match="the simulated user's voice: unknown espeak-ng "
                                            "voice 'zz-top'"):
        scenario.run("bad", agent=NullAdapter(), script=[scenario.succeed()],
                     user_voice="zz-top")
    with pytest.raises(ScenarioError, match="unknown espeak-ng voice variant"):
        scenario.run("bad", agent=NullAdapter(), script=[scenario.succeed()],
                     user=UserSimulator(voice="en-us+nobody"))


def test_scenario_definition_checks():
    with pytest.raises(ScenarioError, match="agent must be an adapter or a function"):
        scenario.Scenario("x", agent=3, script=[scenario.succeed()])
    with pytest.raises(ScenarioError, match="options must be a dict"):
        scenario.Scenario("x", agent=NullAdapter, script=[scenario.succeed()],
                          options=[("seed", 1)])
    good = scenario.Scenario("x", agent=NullAdapter, script=[scenario.succeed()])
    with pytest.raises(ScenarioError, match=r"run\(seed=...\) must be an integer"):
        good.run(seed="3")


def test_the_options_checked_are_the_options_the_runner_takes():
    fixed = {"self", "name", "description", "adapter", "script", "live"}
    taken = [p for p in inspect.signature(ScenarioRun.__init__).parameters if p not in fixed]
    assert sorted(taken) == sorted(RUN_OPTIONS)


# -- asyncio.run(scenario.arun(...)) must not run in real time by accident (issue 18 item 6)


def test_arun_on_an_ordinary_loop_needs_live_true():
    with pytest.raises(ScenarioError, match="ordinary event loop, where the conversation "
                                            "would play in real time; pass live=True"):
        asyncio.run(scenario.arun("x", agent=NullAdapter(), script=[scenario.succeed()]))
    with pytest.raises(ScenarioError, match="ordinary event loop"):
        asyncio.run(scenario.arun("x", agent=NullAdapter(), script=[scenario.succeed()],
                                  live=False))


def test_arun_on_a_simulation_loop_simulates_and_refuses_live():
    result = run_simulation(scenario.arun("x", agent=NullAdapter(),
                                          script=[scenario.silence(30), scenario.succeed()]))
    assert result.success and not result.live and result.duration >= 30
    with pytest.raises(ScenarioError, match=r"arun\(live=True\) was awaited on a simulation"):
        run_simulation(scenario.arun("x", agent=NullAdapter(), script=[scenario.succeed()],
                                     live=True))


def test_run_inside_a_running_loop_points_to_arun():
    async def inside() -> None:
        scenario.run("x", agent=NullAdapter(), script=[scenario.succeed()])

    with pytest.raises(ScenarioError, match=r"inside a running event loop .* scenario\.arun"):
        asyncio.run(inside())


BAD_CHECKS = [
    (lambda: scenario.expect_stopped_within(NAN), r"expect_stopped_within\(seconds\) must be "
                                                  "a finite number of seconds >= 0, got nan"),
    (lambda: scenario.expect_stopped_within(-0.1), "got -0.1"),
    (lambda: scenario.expect_no_overlap_longer_than(INF), "got inf"),
    (lambda: scenario.expect_reply_mentions(""), r"word 1 cannot be spoken: it is empty"),
    (lambda: scenario.expect_reply_mentions("hours", None), "word 2 cannot be spoken"),
    (lambda: scenario.expect_metric("overlap", at_most=NAN), r"at_most=...\) must be a finite"),
    (lambda: scenario.expect_metric("overlap", at_least="1"), "got '1'"),
    (lambda: scenario.expect_metric("overlap", at_most=0.1, at_least=0.5), "no value can pass"),
    (lambda: scenario.metric("overlap", at_most=INF), "got inf"),
    # a text criterion that matches everything (or nothing) cannot judge
    (lambda: scenario.said(""), r"said\(\) phrase '' has no word to look for"),
    (lambda: scenario.said("Monday", "   "), "phrase '   ' has no word"),
    (lambda: scenario.said("!?"), "phrase '!\\?' has no word"),
    (lambda: scenario.said(), r"said\(\) needs at least one phrase"),
    (lambda: scenario.said(None), r"said\(\) phrase must be text"),
    (lambda: scenario.not_said(""), r"not_said\(\) phrase '' has no word"),
    (lambda: scenario.not_said(), r"not_said\(\) needs at least one phrase"),
    (lambda: scenario.recovered_after_interruptions(max_stop=NAN),
     r"recovered_after_interruptions\(max_stop=...\) must be a finite number of seconds > 0, "
     "got nan"),
    (lambda: scenario.recovered_after_interruptions(max_stop=INF), "got inf"),
    (lambda: scenario.recovered_after_interruptions(max_stop=-1), "got -1"),
    (lambda: scenario.recovered_after_interruptions(max_stop=0), "got 0"),
    (lambda: scenario.recovered_after_interruptions(max_stop="1"), "got '1'"),
]


@pytest.mark.parametrize("make, message", BAD_CHECKS)
def test_a_check_that_could_never_fail_or_never_pass_is_refused(make, message):
    with pytest.raises(ScenarioError, match=message):
        make()
