"""A Pipecat phone bot served the way Twilio reaches it, on bargein's offline services.

Pipecat's own WebSocket server transport (``SingleClientWebsocketServerTransport``) with
Pipecat's ``TwilioFrameSerializer``: the bot takes one call over Twilio Media Streams (8 kHz
μ-law in, 8 kHz μ-law out, ``clear`` when the caller interrupts) and exits when the caller
hangs up. Everything the bot decides is Pipecat's default turn taking: its VAD starts a user
turn, the turn interrupts the bot (the serializer tells the phone network to ``clear`` what
it has not played yet), smart-turn v3 and the transcript end the turn. Only the services are
bargein's: Silero VAD, Whisper tiny.en (nothing of a test scenario is known to the bot), a
rule-based LLM (canned answers, not a model), espeak-ng.

The greeting cannot be interrupted: ``MuteUntilFirstBotCompleteUserMuteStrategy`` mutes the
caller until the bot's first speech has played, so words said over it start no turn.

    python examples/pipecat/twilio_bot.py --port 8765     # serves ws://127.0.0.1:8765

It prints ``listening on ws://...`` once the server is up. ``twilio_call.py`` next to it
calls it with bargein scenarios through ``TwilioMediaStreamAdapter``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _pipeline import worker
from pipecat.frames.frames import Frame, TTSSpeakFrame
from pipecat.observers.loggers.transcription_log_observer import TranscriptionLogObserver
from pipecat.pipeline.worker import PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.processors.frame_processor import FrameProcessorSetup
from pipecat.serializers.base_serializer import FrameSerializer
from pipecat.serializers.twilio import TwilioFrameSerializer
from pipecat.transports.websocket.server import (
    SingleClientWebsocketServerParams,
    SingleClientWebsocketServerTransport,
)
from pipecat.turns.user_mute import MuteUntilFirstBotCompleteUserMuteStrategy
from pipecat.workers.runner import WorkerRunner

from bargein import pipecat as offline
from bargein.providers.rule_based_llm import Intent
from bargein.providers.whisper_stt import WhisperSTT

VOICE = "en-gb+f3"
SAMPLE_RATE = 16000  # the pipeline's rate; the serializer converts from and to 8 kHz μ-law
GREETING = "Hello, you are through to Acme support. Calls are recorded for training."
WELCOME = "Of course. What would you like to know?"
FEATURES = ("Every plan includes unlimited projects and the mobile app. "
            "The premium plan adds offline mode and priority support.")
HOURS = ("We are open from eight in the morning to eight in the evening on weekdays, "
         "and from nine to one on Saturdays.")
FALLBACK = ("Sorry, I did not quite catch that. I can tell you about our opening hours, "
            "or about our plans and what they include.")


def short_answers() -> offline.LLM:
    """A rule-based LLM (canned answers picked by keyword, not a model), short for a phone."""
    return offline.LLM(intents=[
        Intent("hours", [r"\bhours?\b", r"\bopen(ing)?\b"], HOURS, priority=2),
        Intent("features", [r"\bfeatures?\b", r"\bproducts?\b"], FEATURES, priority=1),
        Intent("question", [r"\bquestion\b", r"\b(hi|hello)\b"], WELCOME, priority=0),
    ], fallback=FALLBACK)


class TwilioCallSerializer(FrameSerializer):
    """Pipecat's ``TwilioFrameSerializer`` for the call, made when Twilio's ``start`` arrives.

    Pipecat's serializer takes the stream's sid when it is made, so Pipecat's FastAPI runner
    reads Twilio's first messages before it builds the transport. On Pipecat's WebSocket
    server transport the serializer exists before the call, so this one learns the stream
    and call sids from ``start``, then hands every message to Pipecat's serializer. Until
    then nothing is sent: Twilio refuses a message with another stream's sid. ``on_start``
    runs once, when the call's media begin.
    """

    def __init__(self, on_start: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        super().__init__()
        self._on_start = on_start
        self._setup: FrameProcessorSetup | None = None
        self.twilio: TwilioFrameSerializer | None = None

    async def setup(self, setup: FrameProcessorSetup) -> None:
        """Keep the pipeline's setup for the serializer made at ``start``."""
        self._setup = setup
        if self.twilio is not None:
            await self.twilio.setup(setup)

    async def serialize(self, frame: Frame) -> str | bytes | None:
        """Pipecat's Twilio messages (``media``, ``clear``), once the stream is known."""
        return None if self.twilio is None else await self.twilio.serialize(frame)

    async def deserialize(self, data: str | bytes) -> Frame | None:
        """Pipecat's frames for Twilio's messages; ``start`` makes the serializer."""
        if self.twilio is not None:
            return await self.twilio.deserialize(data)
        try:
            message = json.loads(data)
        except ValueError:
            return None
        if not isinstance(message, dict) or message.get("event") != "start":
            return None  # Twilio sends `connected` first; nothing else comes before `start`
        start = message.get("start")
        if not isinstance(start, dict) or not start.get("streamSid"):
            return None
        # auto_hang_up needs Twilio's REST API and keys; here the caller ends the call
        self.twilio = TwilioFrameSerializer(
            str(start["streamSid"]), call_sid=start.get("callSid"),
            params=TwilioFrameSerializer.InputParams(auto_hang_up=False))
        if self._setup is not None:
            await self.twilio.setup(self._setup)
        await self._on_start(start)
        return None


def build(port: int, host: str = "127.0.0.1") -> PipelineWorker:
    """The bot: a Media Streams endpoint on ws://``host``:``port`` for one call."""

    async def greet(_start: dict[str, Any]) -> None:
        await bot.queue_frames([TTSSpeakFrame(GREETING)])

    transport = SingleClientWebsocketServerTransport(
        SingleClientWebsocketServerParams(audio_in_enabled=True, audio_out_enabled=True,
                                          add_wav_header=False,
                                          serializer=TwilioCallSerializer(greet)),
        host=host, port=port)
    context = LLMContext([{"role": "system", "content": "You are a phone support agent."}])
    user, assistant = LLMContextAggregatorPair(context, user_params=LLMUserAggregatorParams(
        vad_analyzer=offline.VADAnalyzer(),
        user_mute_strategies=[MuteUntilFirstBotCompleteUserMuteStrategy()],
        # Whisper on a busy CPU can take longer than Pipecat's 5 s to give a turn its words;
        # past this timeout Pipecat would end the turn without them (and answer nothing)
        user_turn_stop_timeout=20.0))
    # Whisper transcribes each turn once the VAD ends it, as Pipecat's own local Whisper
    # service does; Pipecat's default turn taking needs no interim transcripts
    bot = worker([transport.input(), offline.STT(WhisperSTT()), user, short_answers(),
                  offline.TTS(voice=VOICE), transport.output(), assistant], SAMPLE_RATE,
                 observers=[TranscriptionLogObserver()])  # what it heard, in its log
    ready: set[str] = set()

    async def announce(part: str) -> None:  # the server is up and the models are loaded
        ready.add(part)
        if ready == {"server", "pipeline"}:
            print(f"listening on ws://{host}:{port}", flush=True)

    @transport.event_handler("on_websocket_ready")
    async def on_ready(_transport: object) -> None:
        await announce("server")

    @bot.event_handler("on_pipeline_started")
    async def on_started(_worker: object, _frame: object) -> None:
        await announce("pipeline")

    @transport.event_handler("on_client_disconnected")
    async def on_hang_up(_transport: object, _client: object) -> None:
        await bot.cancel()  # one call per run: the caller hung up

    return bot


async def serve(port: int, host: str = "127.0.0.1") -> None:
    """Serve one call on ``port``; returns when the caller hangs up."""
    runner = WorkerRunner(handle_sigint=True)
    await runner.add_workers(build(port, host))
    await runner.run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8765, help="TCP port (default 8765)")
    parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port must be 1 to 65535, got {args.port}")
    try:  # Pipecat's server would only log a port it cannot take, and wait for ever
        with socket.create_server((args.host, args.port)):
            pass
    except OSError as exc:  # taken, or not an address of this machine
        print(f"twilio_bot: cannot serve on {args.host}:{args.port}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    asyncio.run(serve(args.port, args.host))
    return 0


if __name__ == "__main__":
    sys.exit(main())
