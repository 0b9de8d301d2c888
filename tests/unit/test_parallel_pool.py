"""bargein.parallel: jobs in worker processes come back in input order, bad input is refused,
and errors cross from a worker to the caller intact."""

from __future__ import annotations

import os
import pickle
import sys

import pytest

from bargein.errors import MissingExtraError, UnsupportedCapabilityError, WavError
from bargein.parallel import available_cores, describe_backend, run_in_order


def square_after_work(x: int, work: int) -> tuple[int, int]:
    """A job that takes longer for the first inputs: they finish last."""
    total = 0
    for i in range(work):
        total += i % 7
    return x * x, total


def thread_variables(_: int) -> tuple[str | None, str | None]:
    return os.environ.get("OPENBLAS_NUM_THREADS"), os.environ.get("OMP_NUM_THREADS")


def fail_with_missing_extra(_: int) -> None:
    raise MissingExtraError("ray", "ray", "--ray")


def test_two_workers_return_results_in_input_order() -> None:
    jobs = [(x, 400_000 // (x + 1)) for x in range(6)]
    seen: list[int] = []
    results = run_in_order(square_after_work, jobs, workers=2,
                           on_result=lambda i, _: seen.append(i))
    assert results == [square_after_work(*job) for job in jobs]
    assert sorted(seen) == list(range(6))


def test_workers_run_numeric_libraries_on_one_thread_unless_told_otherwise(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # the user's choice is kept
    assert run_in_order(thread_variables, [(1,), (2,)], workers=2) == [("1", "3"), ("1", "3")]
    assert "OPENBLAS_NUM_THREADS" not in os.environ  # this process is left as it was


def blas_threads(_: int) -> list[int]:
    from threadpoolctl import threadpool_info

    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_a_run_in_this_process_uses_one_blas_thread_then_restores(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy  # noqa: F401  (loads OpenBLAS before the run, as the CLI does)

    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    before = blas_threads(0)
    assert before, "numpy's OpenBLAS not found by threadpoolctl"
    assert run_in_order(blas_threads, [(1,)]) == [[1] * len(before)]
    assert blas_threads(0) == before


def test_one_worker_runs_here_in_order() -> None:
    seen: list[int] = []
    assert run_in_order(square_after_work, [(3, 1), (4, 1)],
                        on_result=lambda i, r: seen.append(i)) == [(9, 0), (16, 0)]
    assert seen == [0, 1]


@pytest.mark.parametrize("workers", [0, -1, True, 1.5, "2"])
def test_workers_must_be_a_whole_number_of_at_least_one(workers: object) -> None:
    with pytest.raises(ValueError, match="workers must be a whole number >= 1"):
        run_in_order(square_after_work, [(1, 1)], workers=workers)  # type: ignore[arg-type]


def test_a_worker_error_reaches_the_caller_with_its_message() -> None:
    with pytest.raises(MissingExtraError, match=r"pip install 'bargein\[ray\]'"):
        run_in_order(fail_with_missing_extra, [(1,), (2,)], workers=2)


def test_errors_with_fields_survive_pickling() -> None:
    for error in (MissingExtraError("ray", "ray", "--ray"), WavError("a.wav", "too short"),
                  UnsupportedCapabilityError("dtmf", "x", "use audio")):
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is type(error) and str(again) == str(error)


def test_ray_without_the_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails
    with pytest.raises(MissingExtraError, match=r"pip install 'bargein\[ray\]'"):
        run_in_order(square_after_work, [(1, 1)], ray="local")


def test_backend_descriptions() -> None:
    assert describe_backend(10, 1, None) == "1 process"
    assert describe_backend(10, 4, None) == "4 worker processes"
    assert describe_backend(1, 4, None) == "1 process"  # one job needs no pool
    assert describe_backend(10, 4, "local") == "Ray local"
    assert describe_backend(10, 1, "ray://head:10001") == "Ray at ray://head:10001"
    assert available_cores() >= 1


def test_a_bench_setting_that_cannot_be_pickled_is_refused_in_one_line() -> None:
    from bargein import bench

    setting = bench.AdapterSetting("lambda", "made by a lambda", lambda case: None)
    with pytest.raises(ValueError, match="settings must be picklable"):
        bench.run_suite(bench.generate_cases(2), [setting], workers=2)  # type: ignore[arg-type]
