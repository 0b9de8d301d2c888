"""A soak's report: one-screen summary, the rerun command per problem, a run stopped early
labelled as such (its checkpoints keep the figures of what finished)."""

from __future__ import annotations

import json

from bargein.bench.soak import Problem, ScenarioOutcome, SoakResult


def outcome(index: int, *problems: Problem) -> ScenarioOutcome:
    return ScenarioOutcome(0, index, "words1", "a call", simulated=40.0,
                           problems=list(problems))


def test_each_problem_comes_with_the_command_that_reruns_its_scenario_alone():
    lost = Problem("lost_turn", '"Hello" never reached the history', 3.0)
    result = SoakResult(7, [], [outcome(1), outcome(0, lost)], "bargein soak --seed 7",
                        wall=8.0, workers=2, load=3.0)
    assert [o.index for o in result.outcomes] == [0, 1]
    assert result.failed and result.counts()["lost_turn"] == 1
    assert result.problem_lines() == [
        '[lost_turn] scenario 0 (words1, oracle STT, fault none) at 3.00 s: "Hello" never '
        "reached the history", "    reproduce: bargein soak --seed 7 --only 0"]
    summary = "\n".join(result.summary_lines())
    assert "2 worker(s), load average 3.0" in summary and "lost turns 1" in summary
    assert "Stopped early" not in summary + result.readme_section("m")


def test_a_run_stopped_early_says_how_far_it_got_everywhere():
    result = SoakResult(0, [], [outcome(0), outcome(1)], wall=4.0, planned=2000)
    assert result.partial == ("Stopped early: 2 of the 2000 scenarios finished (the "
                              "figures are for those).")
    assert result.summary_lines()[-1].strip() == result.partial
    assert result.readme_section("m").startswith(f"**{result.partial}**")
    assert json.loads(result.dumps())["planned"] == 2000
    assert SoakResult(0, [], [outcome(0)], planned=1).partial == ""
