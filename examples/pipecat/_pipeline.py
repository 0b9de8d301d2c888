"""What the Pipecat examples share: the worker around a pipeline, and a scenario's verdict."""

from __future__ import annotations

from typing import Any

from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker


def worker(processors: list[Any], sample_rate: int,
           observers: list[Any] | None = None) -> PipelineWorker:
    """A Pipecat worker for ``processors``, at the scenario's rate, with no idle timeout
    (a scenario decides when the call ends)."""
    return PipelineWorker(
        Pipeline(processors),
        params=PipelineParams(audio_in_sample_rate=sample_rate,
                              audio_out_sample_rate=sample_rate),
        idle_timeout_secs=None,
        enable_rtvi=False,
        observers=observers or [],
    )


def print_verdict(result: Any) -> int:
    """Print a scenario's timeline highlights and verdict; the exit status (0 pass)."""
    for event in result.timeline.to_list():
        if event["kind"] in ("user_started_speaking", "agent_interrupted", "agent_message"):
            print(f"{event['time']:7.2f} s  {event['kind']:22} "
                  f"{event.get('text', event.get('reason', ''))}")
    for check in result.checks:
        print(f"[{'x' if check.passed else ' '}] {check.description}: {check.detail}")
    print(f"{'PASS' if result.success else 'FAIL'}: {result.reasoning}")
    return 0 if result.success else 1
