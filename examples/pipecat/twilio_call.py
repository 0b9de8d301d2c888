"""bargein calls the Pipecat phone bot (``twilio_bot.py``) the way Twilio would.

bargein plays the phone network with ``TwilioMediaStreamAdapter``: it opens the bot's
WebSocket, sends Twilio's ``connected`` and ``start``, streams the simulated caller as 8 kHz
μ-law ``media``, plays the bot's ``media`` and obeys its ``clear``. Real time, real sockets
(loopback), the bot in its own process. One call covers three behaviours:

1. the caller talks over the greeting, which must play to its end (the bot mutes the caller
   until its first speech is done);
2. a question, then a barge-in on the answer: the bot's ``clear`` stops it; stop latency is
   measured on the recording;
3. a backchannel ("Uh-huh, yeah.") over the next answer: Pipecat's default turn taking treats any
   voice as a new turn, so the bot stops for it too (bargein counts a false interruption).

    python examples/pipecat/twilio_call.py                  # starts the bot, calls it
    python examples/pipecat/twilio_call.py --url ws://127.0.0.1:8765   # a bot already up
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

from bargein import scenario
from bargein.adapters.twilio import TwilioMediaStreamAdapter
from bargein.errors import BargeinError

BOT = Path(__file__).resolve().parent / "twilio_bot.py"
GREETING_OVERLAP = "Hi, I have a question."
QUESTION = "Tell me about your product features."
BARGE_IN = "Sorry, what are your opening hours?"
BACKCHANNEL = "Uh-huh, yeah."


def call_script(timeout: float = 90.0) -> list[Any]:
    """The call: over the greeting, a question, a barge-in, a backchannel.

    ``timeout`` bounds each wait for the bot's speech (wall clock): generous, since on a busy
    machine Whisper can take many seconds to give the bot the caller's words.
    """
    return [
        scenario.interrupt(GREETING_OVERLAP, after=1.0, timeout=timeout),  # over the greeting
        scenario.agent(timeout=timeout),                  # the greeting plays to its end
        scenario.user(QUESTION),
        scenario.interrupt(BARGE_IN, after=1.5, timeout=timeout),  # the bot sends `clear`
        scenario.interrupt(BACKCHANNEL, after=1.5, timeout=timeout),  # over the next answer
        scenario.sleep(2.0),
    ]


class BotError(Exception):
    """The bot did not come up."""


def free_port() -> int:
    """A TCP port free on the loopback right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def running_bot(*, port: int | None = None, log: IO[bytes] | None = None,
                      ready_timeout: float = 120.0) -> AsyncIterator[str]:
    """Start ``twilio_bot.py`` in its own process; yields its URL once it listens.

    The bot's log (Pipecat's, on stderr) goes to ``log`` (default: discarded). Waits are
    on the wall clock (live mode): ``ready_timeout`` for the bot to load its models and
    listen, then up to 30 s for it to exit after the call.
    """
    port = free_port() if port is None else port
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(BOT), "--port", str(port), stdout=asyncio.subprocess.PIPE,
        stderr=log if log is not None else asyncio.subprocess.DEVNULL)
    assert process.stdout is not None
    try:
        try:
            async with asyncio.timeout(ready_timeout):
                while not (line := await process.stdout.readline()).startswith(b"listening"):
                    if not line:
                        raise BotError(f"twilio_bot.py exited with status "
                                           f"{await process.wait()} before listening")
        except TimeoutError:
            raise BotError(f"twilio_bot.py did not listen within {ready_timeout:g} s") from None
        yield f"ws://127.0.0.1:{port}"
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 30.0)  # it exits when the call ends
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def call(url: str) -> scenario.ScenarioResult:
    """Run :func:`call_script` against the bot at ``url``."""
    adapter = TwilioMediaStreamAdapter(url, answer_timeout=30.0)
    return await scenario.arun("a phone call to a Pipecat bot", agent=adapter, live=True,
                               script=call_script())


async def main(url: str | None) -> int:
    try:
        if url is not None:
            result = await call(url)
        else:
            async with running_bot() as started:
                result = await call(started)
    except (ValueError, BotError, BargeinError) as exc:  # a bad URL, a bot that is not up
        print(f"twilio_call: {exc}", file=sys.stderr)
        return 1
    for event in result.timeline.to_list():
        if event["kind"] in ("user_started_speaking", "agent_started_speaking",
                             "agent_interrupted"):
            print(f"{event['time']:7.2f} s  {event['kind']:22} "
                  f"{event.get('text', event.get('reason', ''))}")
    for measure in result.metrics.interruptions:  # measured on the recording
        said = result.utterances[measure.utterance].text
        if measure.stop_latency is None:
            print(f"{said!r}: the bot was not speaking")
        elif measure.yielded:
            print(f"{said!r} over the bot: it stopped {measure.stop_latency:.3f} s after the "
                  "onset")
        else:
            print(f"{said!r} over the bot: it went on, {measure.stop_latency:.2f} s to the end "
                  "of what it was saying")
    print(f"backchannel {BACKCHANNEL!r}: false interruption rate "
          f"{result.metrics.false_interruption_rate}")
    print(f"{'PASS' if result.success else 'FAIL'}: {result.reasoning}")
    return 0 if result.success else 1


if __name__ == "__main__":
    from bargein.sim import run_live

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="call a bot already running (default: start one)")
    sys.exit(run_live(main(parser.parse_args().url)))
