"""The rules of ``bargein serve`` that need no socket: Host/Origin/token checks, admission
counting, the loop-lag gauge, and the bounded store of closed conversations."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from bargein.errors import BargeinError
from bargein.live.access import AccessPolicy, split_host
from bargein.live.admission import Admission, LoopLagGauge, default_max_sessions
from bargein.live.conversations import Conversation, ConversationStore


def policy(**kwargs) -> AccessPolicy:
    return AccessPolicy(**{"bind_host": "127.0.0.1", "port": 8765, "token": None, **kwargs})


@pytest.mark.parametrize(("value", "expected"), [
    ("localhost:8765", ("localhost", 8765)), ("[::1]:80", ("::1", 80)),
    ("Example.COM", ("example.com", None)), ("::1", ("::1", None)),
])
def test_split_host(value, expected):
    assert split_host(value) == expected


@pytest.mark.parametrize("value", ["", "a:b", "x:70000", "[::1", "a b", "u@h:1", "h/x"])
def test_split_host_refuses_malformed(value):
    with pytest.raises(ValueError):
        split_host(value)


def test_loopback_server_accepts_its_own_names_on_its_own_port_only():
    p = policy()
    for host in ("127.0.0.1:8765", "localhost:8765", "LOCALHOST:8765", "[::1]:8765"):
        assert p.check("/", {"Host": host}) is None, host
    for host in ("evil.example:8765", "127.0.0.1:9999", "127.0.0.1", "", None, "a:b:c"):
        headers = {} if host is None else {"Host": host}
        refusal = p.check("/", headers)
        assert refusal is not None and refusal[0] == 403, host
        assert "--allow-host" in refusal[1]


def test_dns_rebinding_origin_and_host_are_refused():
    p = policy()
    rebinding = {"Host": "attacker.example:8765", "Origin": "http://attacker.example:8765"}
    assert p.check("/api/sessions", rebinding)[0] == 403
    cross_site = {"Host": "127.0.0.1:8765", "Origin": "http://attacker.example"}
    assert p.check("/ws", cross_site) == (403, "cross-origin request refused")
    for origin in ("null", "file://", "http://127.0.0.1:8765/x", "ws://127.0.0.1:8765"):
        assert p.check("/ws", {"Host": "127.0.0.1:8765", "Origin": origin})[0] == 403
    same = {"Host": "localhost:8765", "Origin": "http://localhost:8765"}
    assert p.check("/ws", same) is None


def test_allow_host_adds_proxy_names_with_or_without_port():
    p = policy(allowed_hosts=["voice.example.com", "alt.example:8443"])
    assert p.check("/", {"Host": "voice.example.com:443"}) is None
    assert p.check("/", {"Host": "voice.example.com"}) is None
    assert p.check("/", {"Host": "alt.example:8443",
                         "Origin": "https://alt.example:8443"}) is None
    assert p.check("/", {"Host": "alt.example:443"})[0] == 403
    with pytest.raises(BargeinError, match="--allow-host"):
        policy(allowed_hosts=["bad host"])


def test_token_is_checked_after_host_and_only_where_needed():
    p = policy(token="s3cret")
    ok = {"Host": "127.0.0.1:8765"}
    assert p.check("/ws", ok) == (401, "a valid token is required")
    assert p.check("/ws?token=s3cret", ok) is None
    assert p.check("/ws", {**ok, "Authorization": "Bearer s3cret"}) is None
    assert p.check("/", ok, needs_token=False) is None
    assert p.check("/ws?token=s3cret", {"Host": "evil:8765"})[0] == 403


def test_specific_address_bind_accepts_that_address():
    p = policy(bind_host="192.0.2.7", token="t")
    assert p.check("/ws?token=t", {"Host": "192.0.2.7:8765"}) is None
    assert p.check("/ws?token=t", {"Host": "localhost:8765"})[0] == 403


def test_waiting_connections_are_capped_per_address_and_hold_no_slot():
    a = Admission(max_sessions=1, max_waiting=5, max_waiting_per_ip=2)
    assert a.wait("10.0.0.1") is None and a.wait("10.0.0.1") is None
    assert "your address" in a.wait("10.0.0.1")
    assert a.wait("10.0.0.2") is None
    assert a.admit() is None  # waiting connections did not take the only slot
    assert a.admit().startswith("server busy: 1 sessions open")
    a.release()
    assert a.admit() is None
    a.stop_waiting("10.0.0.1")
    assert a.wait("10.0.0.1") is None
    assert a.wait("10.0.0.3") is None and a.wait("10.0.0.4") is None
    assert "5 connections waiting" in a.wait("10.0.0.5")


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "3"])
def test_admission_refuses_nonsense_limits(bad):
    with pytest.raises(ValueError):
        Admission(max_sessions=bad)


@pytest.mark.parametrize("lag", [0, -1, float("nan"), float("inf")])
def test_admission_refuses_nonsense_busy_lag(lag):
    with pytest.raises(ValueError):
        Admission(max_sessions=1, busy_lag=lag)


def test_default_limit_follows_the_measured_table():
    assert default_max_sessions("whisper") <= default_max_sessions("local") \
        <= default_max_sessions("oracle")
    assert default_max_sessions("something new") == 1  # unmeasured: the most careful limit


def test_loop_lag_gauge_sees_a_busy_loop_and_ignores_one_pause():
    async def main() -> tuple[float, float, float]:
        gauge = LoopLagGauge(interval=0.01, window=0.4)
        gauge.start()
        await asyncio.sleep(0.45)
        idle = gauge.lag
        time.sleep(0.2)  # one long pause (a model loading): not a lack of capacity
        await asyncio.sleep(0.1)
        after_pause = gauge.lag
        loop = asyncio.get_running_loop()
        end = loop.time() + 0.5
        while loop.time() < end:  # every callback hogs the loop: no capacity left
            time.sleep(0.03)
            await asyncio.sleep(0)
        busy = gauge.lag
        gauge.stop()
        return idle, after_pause, busy

    idle, after_pause, busy = asyncio.run(main())
    assert idle < 0.01 and after_pause < 0.01
    assert busy >= 0.015


def _conversation(ident: str, n_events: int) -> Conversation:
    conv = Conversation(ident, "127.0.0.1", "bargein", record_rate=None)

    class Log:
        def __init__(self) -> None:
            self.records = [{"t": i * 0.1, "event": "metrics", "name": "x" * 40, "value": i}
                            for i in range(n_events)]

    conv.log = Log()  # type: ignore[assignment]
    return conv


def test_closed_conversations_are_bounded_summaries():
    store = ConversationStore(keep_closed=3, max_summary_bytes=4096)
    for i in range(10):
        conv = _conversation(f"s{i}", 500)
        store.add(conv)
        store.close(conv, 1000, "bye")
        assert conv.log is None  # the session's records are let go
    assert list(store.closed) == ["s7", "s8", "s9"]
    assert store.kept_bytes <= 3 * 4096
    summaries = [json.loads(s) for s in store.summaries_json()]
    assert [s["id"] for s in summaries] == ["s7", "s8", "s9"]
    last = summaries[-1]
    assert last["open"] is False and last["close_code"] == 1000
    assert last["events_dropped"] > 0 and last["events"][-1]["value"] == 499  # newest kept
    assert len(last["events"]) + last["events_dropped"] == 500


def test_small_conversations_are_kept_whole():
    store = ConversationStore(keep_closed=2)
    conv = _conversation("a", 5)
    store.add(conv)
    store.close(conv, 1001, "client left")
    (summary,) = [json.loads(s) for s in store.summaries_json()]
    assert summary["events_dropped"] == 0 and len(summary["events"]) == 5


@pytest.mark.parametrize(("args", "message"), [
    (["--protocol", "sip"], "--protocol must be one of bargein, realtime"),
    (["--max-sessions", "0"], "--max-sessions must be at least 1"),
    (["--busy-lag", "nan"], "--busy-lag must be a number of milliseconds above 0"),
    (["--busy-lag", "-5"], "--busy-lag must be a number of milliseconds above 0"),
])
def test_serve_refuses_bad_options_in_one_line(args, message):
    from pathlib import Path

    from typer.testing import CliRunner

    from bargein.cli import app

    agent = Path(__file__).resolve().parents[2] / "examples" / "agents" / "interrupt_user.py"
    result = CliRunner().invoke(app, ["serve", str(agent), "--port", "0", *args])
    assert result.exit_code == 2
    assert message in result.output.replace("\n", " ")
    assert "Traceback" not in result.output
