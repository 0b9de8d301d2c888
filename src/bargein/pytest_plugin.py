"""pytest plugin: voice scenarios as tests.

Two ways, both writing the scenario's report and showing its path when it fails:

- mark a test with the scenario to run; the test body then gets the result::

      @pytest.mark.voice_scenario(my_scenario)
      def test_recovery(voice_result):
          assert voice_result.metrics.yield_rate == 1.0

- or run scenarios yourself with the ``run_scenario`` fixture::

      def test_recovery(run_scenario):
          result = run_scenario(my_scenario, seed=3)

A failed scenario fails the test with its reasoning and report path. Reports go to
``--bargein-reports DIR`` (default ``out/pytest-reports``), one folder per test named after
its node id (file and test), so tests never write into each other's folders, also under
pytest-xdist (``pytest -n auto``), where voice scenarios spread over the workers like any
test and each worker loads the models once.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bargein")
    group.addoption("--bargein-reports", default="out/pytest-reports",
                    help="folder for voice scenario reports (default: out/pytest-reports)")
    group.addoption("--bargein-live", action="store_true",
                    help="run voice scenarios in real time instead of simulation")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "voice_scenario(scenario, seed=None): run a bargein Scenario; the test gets "
        "its result as the voice_result fixture and fails if the scenario fails")


def _runner(config: pytest.Config, node_id: str):  # type: ignore[no-untyped-def]
    from bargein._paths import writable_folder
    from bargein.errors import OutputPathError
    from bargein.scenario.definition import Scenario
    from bargein.scenario.report import write_report

    root = Path(config.getoption("--bargein-reports"))
    live = bool(config.getoption("--bargein-live"))

    def run_scenario(scenario: Scenario, *, seed: int | None = None,
                     must_pass: bool = True) -> Any:
        if not isinstance(scenario, Scenario):
            raise TypeError(f"run_scenario() takes a bargein Scenario, got "
                            f"{type(scenario).__name__}")
        folder = root / _slug(node_id) / _slug(scenario.name)
        try:  # before the run, not after it
            writable_folder(folder, "--bargein-reports")
            unwritable = None
        except OutputPathError as exc:
            unwritable = str(exc)
        if unwritable is not None:
            pytest.fail(unwritable, pytrace=False)
        result = scenario.run(seed=seed, live=live)
        report = write_report(result, folder)
        if must_pass and not result.success:
            pytest.fail(f"voice scenario {scenario.name!r} failed: {result.reasoning}\n"
                        f"report: {report}", pytrace=False)
        return result

    return run_scenario


@pytest.fixture
def run_scenario(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Run a Scenario, write its report, fail the test if it fails."""
    return _runner(request.config, request.node.nodeid)


@pytest.fixture
def voice_result(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """The result of the scenario given to ``@pytest.mark.voice_scenario(...)``."""
    marker = request.node.get_closest_marker("voice_scenario")
    if marker is None or not marker.args:
        raise pytest.UsageError("voice_result needs @pytest.mark.voice_scenario(<Scenario>)")
    seed = marker.kwargs.get("seed")
    return _runner(request.config, request.node.nodeid)(marker.args[0], seed=seed)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # a marked test that does not ask for the result still runs the scenario
    for item in items:
        if item.get_closest_marker("voice_scenario") is not None and \
                "voice_result" not in getattr(item, "fixturenames", ()):
            item.fixturenames.append("voice_result")  # type: ignore[attr-defined]


def _slug(name: str, limit: int = 80) -> str:
    """A folder name for ``name``; a long one is cut and keeps a hash of the whole, so two
    long test ids never share a folder."""
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-") or "test"
    if len(slug) <= limit:
        return slug
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return f"{slug[:limit - 9].rstrip('-')}-{digest}"
