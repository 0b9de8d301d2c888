"""Finding scenarios in files and folders, and running a suite of them."""

from __future__ import annotations

import importlib.util
import sys
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bargein.errors import MissingExtraError, ScenarioError
from bargein.scenario.definition import Scenario
from bargein.scenario.logcapture import capture_logs
from bargein.scenario.result import ScenarioResult

#: Name of the file, in a scenario's report folder, that holds the log lines of its run.
LOG_FILE = "log.txt"


@dataclass
class SuiteEntry:
    """One scenario of a suite, its result and where its report went."""

    scenario: Scenario
    source: Path
    result: ScenarioResult | None = None
    report: Path | None = None
    error: str | None = None
    log: list[str] = field(default_factory=list)  # log lines and warnings of its run
    log_file: Path | None = None

    @property
    def passed(self) -> bool:
        return self.result is not None and self.result.success and self.error is None


def collect(paths: Iterable[str | Path]) -> list[tuple[Scenario, Path]]:
    """Scenarios defined in the given files and folders (``*.py`` files not starting with
    ``_``), in a stable order. Errors name the file and say what is wrong in one line."""
    found: list[tuple[Scenario, Path]] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise ScenarioError(f"{path}: no such file or folder")
        files = sorted(p for p in path.rglob("*.py") if not p.name.startswith("_")) \
            if path.is_dir() else [path]
        if path.is_dir() and not files:
            raise ScenarioError(f"{path}: no scenario files (*.py) in this folder")
        for file in files:
            scenarios = load_file(file)
            if not scenarios and not path.is_dir():
                raise ScenarioError(f"{file}: defines no Scenario objects at module level")
            found += [(s, file) for s in scenarios]
    names = [s.name for s, _ in found]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ScenarioError(f"scenario names must be unique; repeated: {', '.join(dupes)}")
    return found


def load_file(file: Path) -> list[Scenario]:
    """Import a scenario file and return its module-level ``Scenario`` objects (and those in
    a module-level ``SCENARIOS`` list)."""
    if file.suffix != ".py":
        raise ScenarioError(f"{file}: scenario files are Python files (*.py)")
    module_name = f"bargein_scenarios_{abs(hash(str(file.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise ScenarioError(f"{file}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(file.parent))
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        line = f":{exc.lineno}" if exc.lineno else ""
        raise ScenarioError(f"{file}{line}: syntax error: {exc.msg}") from None
    except MissingExtraError:
        raise  # its message names the extra to install; the file is not at fault
    except ScenarioError as exc:
        raise ScenarioError(f"{file}{_user_line(exc, file)}: {exc}") from None
    except SystemExit as exc:
        raise ScenarioError(
            f"{file}{_user_line(exc, file)}: the file called sys.exit({exc.code!r}) while "
            "being loaded; a scenario file only defines scenarios (move script code under "
            "if __name__ == '__main__':)") from None
    except Exception as exc:
        line = _user_line(exc, file)
        raise ScenarioError(f"{file}{line}: {type(exc).__name__}: {exc}") from None
    finally:
        sys.path.remove(str(file.parent))
    found: list[Scenario] = []
    for value in vars(module).values():
        if isinstance(value, Scenario) and value not in found:
            found.append(value)
    for value in getattr(module, "SCENARIOS", []) or []:
        if isinstance(value, Scenario) and value not in found:
            found.append(value)
    return found


def run_suite(entries: list[tuple[Scenario, Path]], *, seed: int | None = None,
              live: bool = False, report_dir: Path | None = None,
              on_done: Callable[[SuiteEntry], None] | None = None,
              embed_audio: bool = True, workers: int = 1,
              ray: str | None = None) -> list[SuiteEntry]:
    """Run every scenario; write each report (and the suite summary) under ``report_dir``
    (each page with its recording inside unless ``embed_audio`` is False).

    ``workers`` > 1 runs the scenarios in that many worker processes, ``ray`` as Ray tasks
    (:func:`bargein.parallel.run_in_order`): each worker loads the scenario's file itself,
    runs it and writes its report; the entries come back in the order given, their results
    without the audio (it is in the report folders), and ``on_done`` hears of them in that
    order too. Reports are byte-identical to a serial run's.
    """
    from bargein.parallel import check_workers, one_thread_per_process, run_in_order
    from bargein.scenario.report import write_suite_summary

    check_workers(workers)
    folders = [report_dir / _slug(s.name) if report_dir is not None else None
               for s, _ in entries]
    if ray is None and min(workers, len(entries)) <= 1:
        done = []
        with one_thread_per_process():
            for (scenario, source), folder in zip(entries, folders, strict=True):
                done.append(_run_entry(scenario, source, seed, live, folder, embed_audio))
                if on_done is not None:
                    on_done(done[-1])
    else:
        jobs = [(str(source.resolve()), scenario.name, seed, live, folder, embed_audio)
                for (scenario, source), folder in zip(entries, folders, strict=True)]
        in_order = _InOrder(entries, on_done)
        finished = run_in_order(run_scenario_job, jobs, workers=workers, ray=ray,
                                on_result=in_order.arrived)
        done = [in_order.entry(i, f) for i, f in enumerate(finished)]
    if report_dir is not None:
        write_suite_summary([(e.result, e.report) for e in done if e.result and e.report],
                            report_dir)
    return done


def _run_entry(scenario: Scenario, source: Path, seed: int | None, live: bool,
               folder: Path | None, embed_audio: bool) -> SuiteEntry:
    """Run one scenario and write its report into ``folder``."""
    from bargein.scenario.report import write_report

    entry = SuiteEntry(scenario, source)
    try:
        with capture_logs() as entry.log:
            entry.result = scenario.run(seed=seed, live=live)
        if folder is not None:
            entry.report = write_report(entry.result, folder, embed_audio=embed_audio)
    except MissingExtraError:
        raise  # no scenario can run: one message naming the extra, not one per scenario
    except ScenarioError as exc:
        entry.error = str(exc)
    except Exception as exc:  # a broken agent must not stop the rest of the suite
        entry.error = f"{type(exc).__name__}: {exc}"
        entry.error += "\n" + "".join(traceback.format_exception(exc)[-3:])
    if entry.log and folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        entry.log_file = folder / LOG_FILE
        entry.log_file.write_text("\n".join(entry.log) + "\n", encoding="utf-8")
    return entry


@dataclass
class FinishedScenario:
    """What a worker sends back for one scenario: a :class:`SuiteEntry` without the
    scenario object (the parent has its own) and the result without its audio."""

    result: ScenarioResult | None
    report: Path | None
    error: str | None
    log: list[str]
    log_file: Path | None


#: Scenario files a worker process has loaded, by path (each loaded once per worker).
_LOADED: dict[str, list[Scenario]] = {}


def run_scenario_job(source: str, name: str, seed: int | None, live: bool,
                     folder: Path | None, embed_audio: bool) -> FinishedScenario:
    """One scenario of a suite, in a worker process: load its file (once per worker), run
    it, write its report."""
    if source not in _LOADED:
        _LOADED[source] = load_file(Path(source))
    scenario = next((s for s in _LOADED[source] if s.name == name), None)
    if scenario is None:
        return FinishedScenario(None, None, f"{source}: scenario {name!r} was not found when "
                                "the file was loaded again in a worker process", [], None)
    entry = _run_entry(scenario, Path(source), seed, live, folder, embed_audio)
    result = entry.result.without_audio() if entry.result is not None else None
    return FinishedScenario(result, entry.report, entry.error, entry.log, entry.log_file)


class _InOrder:
    """Turns finished jobs (in any order) into entries, told to ``on_done`` in input order."""

    def __init__(self, entries: list[tuple[Scenario, Path]],
                 on_done: Callable[[SuiteEntry], None] | None) -> None:
        self._entries = entries
        self._on_done = on_done
        self._ready: dict[int, SuiteEntry] = {}
        self._next = 0

    def entry(self, i: int, finished: FinishedScenario) -> SuiteEntry:
        scenario, source = self._entries[i]
        return SuiteEntry(scenario, source, finished.result, finished.report, finished.error,
                          finished.log, finished.log_file)

    def arrived(self, i: int, finished: FinishedScenario) -> None:
        self._ready[i] = self.entry(i, finished)
        while self._next in self._ready:
            entry = self._ready.pop(self._next)
            self._next += 1
            if self._on_done is not None:
                self._on_done(entry)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-") or "scenario"


def _user_line(exc: BaseException, file: Path) -> str:
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if Path(frame.filename).resolve() == file.resolve():
            return f":{frame.lineno}"
    return ""
