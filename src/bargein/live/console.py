"""``bargein console``: talk to an agent in the terminal, in real time.

Two ways to talk:

- **audio mode** (the default when a microphone and a speaker exist): the microphone feeds
  the agent's input, the agent plays on the speaker (``sounddevice``, extra ``live``). Use
  headphones: without echo cancellation the agent hears itself and stops.
- **text mode** (``--text``, and the fallback when there is no audio device): each line you
  type is spoken by the local TTS in a user voice (``en-us+m3``, the agent speaks
  ``en-gb+f3``) and streamed into the agent's input in real time, 20 ms frames on the loop
  clock and silence in between, like a microphone. Typing while the agent speaks is a
  genuine barge-in: the agent's own VAD hears it and its own STT transcribes it.

Either way the agent's words are printed as they are played, with the agent's and the
user's state and the transcripts, one event per line::

       3.21  agent    [1] Hello, and thanks
       5.10  you      typed: what are your business hours
       5.46  user     speaking
       6.02  agent    [1] INTERRUPTED (barge_in), heard: 'Hello, and thanks for calling'

``--record FILE.wav`` writes the stereo recording (left: user, right: agent, sample-accurate
on the loop clock) when the console ends: Ctrl+C, or end of input (Ctrl+D) once the agent has
finished. The exit status is 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from bargein.audio.frame import AudioFrame
from bargein.live.agent_file import USER_VOICE, AgentSpec, live_providers, warm_up
from bargein.live.console_lines import ConsolePrinter, session_clock
from bargein.live.events import SessionLog

SAMPLE_RATE = 16000
FRAME = 0.02
#: After the input ends (Ctrl+D or a closed pipe), wait until the agent has been quiet this long.
QUIET_AFTER_EOF = 1.5


class NoAudioDevice(Exception):
    """No microphone or speaker (or no PortAudio): the console falls back to text mode."""


class _LineReader:
    """Lines from a file descriptor without blocking the loop: ``add_reader`` where the loop
    can watch it (a terminal or a pipe), a thread otherwise. ``on_line(None)`` is the end."""

    def __init__(self, fd: int, on_line: Callable[[str | None], None]) -> None:
        self.fd = fd
        self.on_line = on_line
        self._buffer = b""
        self._loop = asyncio.get_running_loop()
        self._watching = False
        try:
            self._loop.add_reader(fd, self._readable)
            self._watching = True
        except (OSError, ValueError, NotImplementedError):
            threading.Thread(target=self._thread, daemon=True, name="bargein-stdin").start()

    def close(self) -> None:
        if self._watching:
            self._loop.remove_reader(self.fd)
            self._watching = False

    def _readable(self) -> None:
        try:
            data = os.read(self.fd, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        self._feed(data)

    def _feed(self, data: bytes) -> None:
        if not data:
            self.close()
            if self._buffer.strip():
                self.on_line(self._buffer.decode(errors="replace"))
            self._buffer = b""
            self.on_line(None)
            return
        self._buffer += data
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            self.on_line(line.decode(errors="replace").rstrip("\r"))

    def _thread(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 4096)
            except OSError:
                data = b""
            self._loop.call_soon_threadsafe(self._feed, data)
            if not data:
                return


class TextConsole:
    """Text mode: typed lines become user speech in a :class:`~bargein.sim.Room`, live."""

    def __init__(self, spec: AgentSpec, *, stt: str = "local", out: TextIO | None = None,
                 user_voice: str = USER_VOICE) -> None:
        from bargein.providers.espeak_tts import EspeakTTS
        from bargein.providers.oracle_stt import GroundTruth
        from bargein.sim import Room

        self.spec = spec
        self.truth = GroundTruth() if stt == "oracle" else None
        self.room = Room(SAMPLE_RATE, FRAME, truth=self.truth)
        self.providers = live_providers(spec, stt=stt, truth=self.truth)
        self.agent, self.session = spec.new(self.providers)
        self.user_tts = EspeakTTS(voice=user_voice)
        self.log = SessionLog(self.session, ConsolePrinter(out or sys.stdout,
                                                           session_clock(self.session)))
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._speaker: asyncio.Task[None] | None = None
        self._last_utterance: Any = None
        self.input_ended = asyncio.Event()

    @property
    def recorder(self) -> Any:
        return self.room.recorder

    async def start(self) -> None:
        await warm_up(self.providers)
        await self.room.start()
        await self.session.start(self.agent, audio_input=self.room.agent_input,
                                 audio_output=self.room.agent_output)
        self._speaker = asyncio.create_task(self._speak_lines(), name="bargein-console-user")

    def on_line(self, line: str | None) -> None:
        """A typed line (None: the input ended)."""
        self._lines.put_nowait(line)

    async def _speak_lines(self) -> None:
        while (line := await self._lines.get()) is not None:
            text = line.strip()
            if not text:
                continue
            self.log.note("typed", text=text)
            try:
                speech = await self.user_tts.synthesize(text)
            except Exception as exc:
                self.log.note("notice", text=f"cannot speak that line: {exc}")
                continue
            # Lines typed while an earlier one is still being said follow it.
            previous = self._last_utterance
            at = None
            if previous is not None and not previous.is_done and previous.end > self.room.time:
                at = previous.end
            self._last_utterance = self.room.user.say(speech, at=at)
            self.log.note("saying", duration=speech.duration)
        self.input_ended.set()

    def busy(self) -> bool:
        """True while the user is still saying something or the agent has speech."""
        return self.room.user.speaking or self.session.current_speech is not None or (
            self._last_utterance is not None and not self._last_utterance.is_done)

    async def aclose(self) -> None:
        if self._speaker is not None:
            self._speaker.cancel()
            await asyncio.gather(self._speaker, return_exceptions=True)
        await self.session.aclose()
        await self.room.aclose()


class AudioConsole:
    """Audio mode: the default microphone and speaker through ``sounddevice``.

    Microphone blocks arrive on PortAudio's thread and are handed to the loop; the agent's
    output is paced on the loop clock (:class:`~bargein.io.PacedAudioOutput`) and each
    frame goes to the speaker's buffer the moment it counts as played. The speaker's own
    latency (tens of ms) is not part of the playout the session sees.
    """

    def __init__(self, spec: AgentSpec, *, stt: str = "local", out: TextIO | None = None,
                 device: Any = None) -> None:
        from bargein.audio.recorder import StereoRecorder
        from bargein.io import PacedAudioOutput, QueueAudioInput

        self.sd = _sounddevice()
        _check_devices(self.sd, device)
        self.device = device
        self.spec = spec
        self.providers = live_providers(spec, stt=stt)
        self.agent, self.session = spec.new(self.providers)
        self.log = SessionLog(self.session, ConsolePrinter(out or sys.stdout,
                                                           session_clock(self.session)))
        self.recorder = StereoRecorder(SAMPLE_RATE, ("user", "agent"))
        self.input = QueueAudioInput(SAMPLE_RATE)
        self.output = PacedAudioOutput(SAMPLE_RATE, self._play)
        self._speaker: list[bytes] = []
        self._speaker_lock = threading.Lock()
        self._t0 = 0.0
        self._mic_samples = 0
        self._streams: list[Any] = []
        self.input_ended = asyncio.Event()

    async def start(self) -> None:
        await warm_up(self.providers)
        loop = asyncio.get_running_loop()
        self._t0 = loop.time()
        block = round(SAMPLE_RATE * FRAME)

        def on_mic(indata: Any, frames: int, when: Any, status: Any) -> None:
            loop.call_soon_threadsafe(self._mic, bytes(indata))

        def on_speaker(outdata: Any, frames: int, when: Any, status: Any) -> None:
            need = frames * 2
            with self._speaker_lock:
                data = b""
                while self._speaker and len(data) < need:
                    data += self._speaker.pop(0)
                if len(data) > need:
                    self._speaker.insert(0, data[need:])
                    data = data[:need]
            outdata[:] = data + b"\x00" * (need - len(data))

        self._streams = [
            self.sd.RawInputStream(samplerate=SAMPLE_RATE, channels=1, dtype="int16",
                                   blocksize=block, callback=on_mic, device=self.device),
            self.sd.RawOutputStream(samplerate=SAMPLE_RATE, channels=1, dtype="int16",
                                    blocksize=block, callback=on_speaker, device=self.device),
        ]
        for stream in self._streams:
            stream.start()
        await self.session.start(self.agent, audio_input=self.input, audio_output=self.output)

    def _mic(self, data: bytes) -> None:
        import numpy as np

        frame = AudioFrame.from_int16(np.frombuffer(data, np.int16), SAMPLE_RATE)
        self.recorder.record("user", frame, self._mic_samples)
        self._mic_samples += frame.num_samples
        self.input.push(frame)

    def _play(self, frame: AudioFrame, at: float) -> None:
        self.recorder.record_at("agent", frame, at - self._t0)
        with self._speaker_lock:
            self._speaker.append(frame.to_int16().tobytes())

    def on_line(self, line: str | None) -> None:
        if line is None:
            self.input_ended.set()

    def busy(self) -> bool:
        return self.session.current_speech is not None

    async def aclose(self) -> None:
        for stream in self._streams:
            with contextlib.suppress(Exception):
                stream.stop()
                stream.close()
        await self.session.aclose()
        await self.output.aclose()
        self.input.close()


def _sounddevice() -> Any:
    from bargein._extras import require

    try:
        return require("sounddevice", extra="live", feature="the audio console")
    except OSError as exc:  # the module is there, PortAudio is not
        raise NoAudioDevice(f"no audio: {exc}") from exc


def _check_devices(sd: Any, device: Any) -> None:
    try:
        devices = sd.query_devices()
        inputs = [d for d in devices if d.get("max_input_channels", 0) > 0]
        outputs = [d for d in devices if d.get("max_output_channels", 0) > 0]
    except Exception as exc:
        raise NoAudioDevice(f"no audio devices: {exc}") from exc
    if not inputs or not outputs:
        raise NoAudioDevice("no microphone" if not inputs else "no speaker")


async def run_console(spec: AgentSpec, *, text: bool = False, record: Path | None = None,
                      stt: str = "local", out: TextIO | None = None,
                      stdin_fd: int | None = None) -> int:
    """Run the console until Ctrl+C (or end of input once the agent is quiet); 0 when clean.

    Use it with :func:`bargein.sim.run_live` (precise timers), as :func:`main` does.
    """
    out = out or sys.stdout
    notice = ""
    console: TextConsole | AudioConsole
    if not text:
        try:
            console = AudioConsole(spec, stt=stt, out=out)
        except NoAudioDevice as exc:
            notice = f"{exc}: text mode (type a line and press Enter to say it)"
            text = True
    if text:
        console = TextConsole(spec, stt=stt, out=out)
    mode = "text" if text else "audio"
    out.write(f"bargein console: {spec.name} ({mode} mode, stt={stt}); "
              + ("type a line and press Enter to say it; " if text else "speak; ")
              + "Ctrl+C to quit\n")
    if notice:
        out.write(f"note: {notice}\n")
    out.flush()

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    await console.start()
    reader = _LineReader(sys.stdin.fileno() if stdin_fd is None else stdin_fd,
                         console.on_line)
    try:
        waiter = asyncio.create_task(stop.wait())
        ended = asyncio.create_task(console.input_ended.wait())
        await asyncio.wait([waiter, ended], return_when=asyncio.FIRST_COMPLETED)
        if not stop.is_set():  # end of input: let the conversation finish, then leave
            quiet_since = loop.time()
            while not stop.is_set():
                if console.busy():
                    quiet_since = loop.time()
                elif loop.time() - quiet_since >= QUIET_AFTER_EOF:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(waiter), 0.1)
        waiter.cancel()
        ended.cancel()
    finally:
        reader.close()
        with contextlib.suppress(Exception):
            loop.remove_signal_handler(signal.SIGINT)
            loop.remove_signal_handler(signal.SIGTERM)
        await console.aclose()
    if record is not None:
        try:
            console.recorder.write(record)
            seconds = console.recorder.duration
            out.write(f"recording: {record} ({seconds:.1f} s; left: you, right: agent)\n")
        except Exception as exc:
            out.write(f"recording not written: {exc}\n")
    out.write("bye\n")
    out.flush()
    return 0


def main(spec: AgentSpec, *, text: bool = False, record: Path | None = None,
         stt: str = "local") -> int:
    """Run the console on a :func:`~bargein.sim.run_live` loop; returns the exit status."""
    from bargein.sim.live import run_live

    if stt == "oracle" and not text:
        raise ValueError("--stt oracle needs --text: it reads the typed words")
    return run_live(run_console(spec, text=text, record=record, stt=stt))
