"""Log lines and warnings of the agent under test go to its report folder, not over the
CLI's output (issue 18 item 8)."""

from __future__ import annotations

import logging
import warnings

from bargein import scenario
from bargein.adapters import AgentAdapter, Capabilities
from bargein.scenario.logcapture import capture_logs
from bargein.scenario.suite import LOG_FILE, run_suite


class ChattyAdapter(AgentAdapter):
    """Logs and warns like LiveKit Agents does while a session runs."""

    name = "chatty"
    capabilities = Capabilities(True, True, True)

    async def start(self, link):
        logging.getLogger("livekit.agents").warning(
            "skipping reply to user input, current speech generation cannot be interrupted")
        logging.getLogger("livekit.agents").info("not shown: the logger's level is WARNING")
        warnings.warn("preemptive_generation is deprecated", FutureWarning, stacklevel=1)

    async def close(self):
        pass


def test_capture_keeps_what_python_would_have_printed(capsys):
    handlers = list(logging.getLogger().handlers)
    with capture_logs() as lines:
        logging.getLogger("livekit.agents").warning("skipping reply")
        logging.getLogger("some.lib").debug("below the default level")
        warnings.warn("old option", FutureWarning, stacklevel=1)
    assert lines[0] == "WARNING livekit.agents: skipping reply"
    assert lines[1].startswith("WARNING FutureWarning: old option (")
    assert len(lines) == 2
    assert capsys.readouterr().err == ""
    assert logging.getLogger().handlers == handlers  # Python's own handling is back


def test_the_suite_writes_each_scenarios_log_next_to_its_report(tmp_path, capsys):
    chatty = scenario.Scenario("chatty agent", agent=ChattyAdapter, script=[scenario.succeed()])
    quiet = scenario.Scenario("quiet agent", agent=lambda: _Quiet(),
                              script=[scenario.succeed()])
    done = run_suite([(chatty, tmp_path / "x.py"), (quiet, tmp_path / "x.py")],
                     report_dir=tmp_path / "reports")
    assert all(e.passed for e in done)
    log = (tmp_path / "reports" / "chatty-agent" / LOG_FILE).read_text()
    assert "WARNING livekit.agents: skipping reply to user input" in log
    assert "FutureWarning: preemptive_generation is deprecated" in log
    assert "not shown" not in log
    assert done[0].log_file == tmp_path / "reports" / "chatty-agent" / LOG_FILE
    assert done[1].log == [] and done[1].log_file is None
    assert not (tmp_path / "reports" / "quiet-agent" / LOG_FILE).exists()
    assert "skipping reply" not in capsys.readouterr().err


class _Quiet(ChattyAdapter):
    async def start(self, link):
        pass
