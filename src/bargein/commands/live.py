"""``bargein console`` and ``bargein serve``: an agent file, live in the terminal or served
over WebSocket."""

from __future__ import annotations

from pathlib import Path

import typer

from bargein._paths import writable_file
from bargein.commands.common import STT_HELP, app, console, fail

__all__ = ["console_command", "serve_command"]


@app.command("console")
def console_command(
    path: Path = typer.Argument(..., help="Agent file (.py) defining build_session()."),  # noqa: B008
    text: bool = typer.Option(False, "--text",
                              help="Type lines; the local TTS says them to the agent."),
    record: Path | None = typer.Option(None, "--record",  # noqa: B008
                                       help="Write the stereo recording to this WAV file."),
    stt: str = typer.Option("local", "--stt", help=STT_HELP),
) -> None:
    """Talk to an agent in the terminal, live (microphone, or typed lines with --text)."""
    from bargein.live.agent_file import STT_CHOICES, load_agent_file
    from bargein.live.console import main as run_console

    if stt not in STT_CHOICES or (stt == "oracle" and not text):
        fail(f"--stt must be one of {', '.join(STT_CHOICES)} (oracle only with --text)")
    if record is not None:
        if record.suffix.lower() != ".wav":
            fail(f"--record {record}: the recording is a WAV file; give a name ending in .wav")
        writable_file(record, "--record")
    raise typer.Exit(run_console(load_agent_file(path), text=text, record=record, stt=stt))


@app.command("serve")
def serve_command(
    path: Path = typer.Argument(..., help="Agent file (.py) defining build_session()."),  # noqa: B008
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind."),
    port: int = typer.Option(8765, "--port", help="Port (0: any free port)."),
    token: str | None = typer.Option(None, "--token", envvar="BARGEIN_TOKEN",
                                     help="Required on /ws when binding beyond loopback."),
    stt: str = typer.Option("local", "--stt", help=STT_HELP),
    record: Path | None = typer.Option(None, "--record",  # noqa: B008
                                       help="Folder for one stereo WAV per conversation."),
    protocol: str = typer.Option("bargein", "--protocol",
                                 help="bargein: the page and /ws; realtime: the OpenAI "
                                      "Realtime protocol on /v1/realtime."),
    allow_host: list[str] = typer.Option([], "--allow-host",  # noqa: B008
                                         help="Another Host name clients use (NAME or "
                                              "NAME:PORT; repeatable), e.g. a proxy's."),
    max_sessions: int | None = typer.Option(None, "--max-sessions",
                                            help="Open sessions at most (default: the "
                                                 "measured capacity for --stt on this "
                                                 "machine's cores)."),
    busy_lag: float = typer.Option(25.0, "--busy-lag",
                                   help="Refuse new sessions while the server's loop runs "
                                        "this many ms late (median over 2 s)."),
) -> None:
    """Serve an agent over WebSocket with a web page to talk to it in the browser."""
    from bargein.live.agent_file import load_agent_file
    from bargein.live.server import PROTOCOLS
    from bargein.live.server import main as run_server

    if stt not in ("local", "whisper", "oracle"):
        fail("--stt must be local, whisper or oracle (oracle: clients send 'truth' "
              "messages; for tests)")
    if not 0 <= port <= 65535:
        fail(f"--port must be between 0 and 65535 (0: any free port), got {port}")
    if protocol not in PROTOCOLS:
        fail(f"--protocol must be one of {', '.join(PROTOCOLS)}")
    if max_sessions is not None and max_sessions < 1:
        fail("--max-sessions must be at least 1")
    if not 0 < busy_lag < 60000:  # also refuses NaN
        fail("--busy-lag must be a number of milliseconds above 0")
    spec = load_agent_file(path)

    def ready(server) -> None:  # type: ignore[no-untyped-def]
        where = (f" (Realtime endpoint ws://{server.host}:{server.port}/v1/realtime)"
                 if server.protocol == "realtime" else "")
        console.print(f"bargein serve: {spec.name} on {server.url}{where} ({server.protocol} "
                      f"protocol, at most {server.max_sessions} sessions; Ctrl+C to stop)",
                      highlight=False)

    raise typer.Exit(run_server(spec, host=host, port=port, token=token, stt=stt,
                                record_dir=record, protocol=protocol,
                                allowed_hosts=allow_host, max_sessions=max_sessions,
                                busy_lag=busy_lag / 1000, on_ready=ready))
