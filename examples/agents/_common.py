"""Shared plumbing of the example agents: offline providers and a simulated phone call.

The examples themselves only define an agent and its session options. This module gives them:

- :func:`local_providers`: Silero VAD, espeak-ng TTS, the rule-based LLM, an STT and the turn
  detector, all offline (bargein's local stack);
- :class:`SimulatedCall`: a :class:`~bargein.sim.Room` in virtual time where a scripted caller
  (an espeak voice other than the agent's) talks to the session, every session event is kept,
  and the recording is written at the end;
- :func:`main`: the command line shared by both examples (``--out``, ``--stt``, ``console``);
  ``console`` runs the example's agent live (:mod:`bargein.live.console`).

STT choice (``--stt``):

- ``oracle`` (default): :class:`~bargein.providers.oracle_stt.OracleSTT` does not listen to the
  audio at all. It reports the words the scripted caller is known to say, each one shortly
  after the caller's audio has passed its end (espeak word timings, 0.1 s interim and 0.2 s
  final delay). Turn-taking is then shown without recognition errors. It only works in
  simulation, because it needs the script's ground truth.
- ``local``: real recognition, pocketsphinx for interim transcripts and Whisper tiny.en for
  finals (:class:`~bargein.providers.hybrid_stt.HybridSTT`), on the caller's audio.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bargein.agent import Agent, AgentSession, SpeechHandle
from bargein.agent.events import EVENT_TYPES
from bargein.providers.espeak_tts import EspeakTTS
from bargein.providers.llm import LLM
from bargein.providers.local_stack import AGENT_VOICE, LocalStack, local_stack
from bargein.providers.oracle_stt import GroundTruth
from bargein.sim import Room, Utterance, run_simulation
from bargein.text import count_sentences

SAMPLE_RATE = 16000
CALLER_VOICE = "en-us+m3"
STT_CHOICES = ("oracle", "local")


#: The providers a session needs: bargein's offline stack (VAD, STT, LLM, TTS, the turn
#: detector when installed, and the ground truth an oracle STT reads).
Providers = LocalStack


def local_providers(truth: GroundTruth | None = None, real_stt: bool = False, *,
                    llm: LLM | None = None, voice: str = AGENT_VOICE) -> Providers:
    """Offline providers: Silero VAD, espeak-ng TTS (``voice``), a rule-based LLM (or ``llm``)
    and the turn detector (smart-turn v3.2 with the words, when the extra is installed).

    With ``real_stt`` the STT is pocketsphinx (interims) + Whisper (finals); otherwise it is an
    oracle STT reading ``truth`` (a new :class:`GroundTruth` if None; give the same one to the
    :class:`~bargein.sim.Room` so the caller's words land in it).
    """
    return local_stack("local" if real_stt else "oracle", truth=truth, llm=llm, voice=voice)


@dataclass
class CallResult:
    """Everything a simulated call produced. Times are seconds on the recording."""

    session: AgentSession
    agent: Agent
    room: Room
    events: list[tuple[float, str, Any]] = field(default_factory=list)
    """``(time, name, event)`` for every session event, in emission order."""
    speeches: list[SpeechHandle] = field(default_factory=list)
    """Every speech the session created, in order."""
    utterances: list[Utterance] = field(default_factory=list)
    """What the caller said."""
    marks: dict[str, Any] = field(default_factory=dict)
    """Named things the script noted (e.g. the cut-in event, the caller's sentence ends)."""
    recording: tuple[Path, Path] | None = None
    """Paths of the stereo and mono WAV files, when an output directory was given."""
    wall_seconds: float = 0.0
    """Real time the simulation took."""

    @property
    def history(self) -> list[Any]:
        """The session's chat history, oldest first."""
        return list(self.session.history)

    @property
    def duration(self) -> float:
        """Length of the recording, seconds."""
        return self.room.recorder.track("agent").samples().size / self.room.sample_rate

    def named(self, name: str) -> list[Any]:
        """The events called ``name``, in order."""
        return [e for _, n, e in self.events if n == name]


class SimulatedCall:
    """A session and a scripted caller in one :class:`Room` (use inside ``run_simulation``)."""

    def __init__(self, build_session: Callable[[Providers], AgentSession], agent: Agent, *,
                 stt: str = "oracle", caller_voice: str = CALLER_VOICE,
                 llm: LLM | None = None) -> None:
        if stt not in STT_CHOICES:
            raise ValueError(f"stt must be one of {STT_CHOICES}, got {stt!r}")
        self.truth = GroundTruth()
        self.room = Room(SAMPLE_RATE, truth=self.truth)
        providers = local_providers(self.truth, real_stt=stt == "local", llm=llm)
        self.session = build_session(providers)
        self.agent = agent
        self.caller_tts = EspeakTTS(voice=caller_voice)
        self.result = CallResult(self.session, agent, self.room)
        self._new_speech = asyncio.Event()
        self._listening = asyncio.Event()

    async def start(self) -> None:
        """Start the room and the session; every event is recorded from now on."""
        await self.room.start()
        for name in EVENT_TYPES:
            self.session.on(name, lambda e, n=name: self._record(n, e))
        await self.session.start(self.agent, audio_input=self.room.agent_input,
                                 audio_output=self.room.agent_output)

    def _record(self, name: str, event: Any) -> None:
        self.result.events.append((self.session.time, name, event))
        if name == "speech_created":
            self.result.speeches.append(event.speech)
            self._new_speech.set()
        elif name == "agent_state_changed" and event.new_state == "listening":
            self._listening.set()

    async def speech(self, index: int) -> SpeechHandle:
        """The ``index``-th speech of the session (0 = first), once it has been created."""
        while len(self.result.speeches) <= index:
            self._new_speech.clear()
            await self._new_speech.wait()
        return self.result.speeches[index]

    async def pause(self, seconds: float) -> None:
        """Let ``seconds`` of call time pass."""
        await asyncio.sleep(seconds)

    async def say(self, text: str, *, at: float | None = None) -> Utterance:
        """The caller starts saying ``text`` now (or at recording time ``at``)."""
        speech = await self.caller_tts.synthesize(text)
        utterance = self.room.user.say(speech, at=at)
        self.result.utterances.append(utterance)
        return utterance

    def stop_when_agent_speaks(self, utterance: Utterance, *, after: float,
                               reaction: float = 0.4) -> None:
        """Make the caller fall silent ``reaction`` s after hearing the agent (past ``after``)."""
        loop = asyncio.get_running_loop()

        def on_hear(frame: Any, at: float) -> None:
            if at >= after and not utterance.is_done:
                self.room.user.remove_listener(on_hear)
                self.result.marks.setdefault("caller_heard_agent", at)
                loop.call_later(reaction, utterance.cancel)

        self.room.user.on_hear(on_hear)

    async def until_quiet(self, quiet: float = 2.0, limit: float = 120.0) -> None:
        """Wait until the agent has nothing to say and ``quiet`` seconds passed without speech."""
        deadline = self.room.time + limit
        while self.room.time < deadline:
            await asyncio.sleep(quiet)
            busy = self.session.current_speech is not None or self.room.user.speaking
            recent = [t for t, n, _ in self.result.events if n == "speech_created"]
            if not busy and (not recent or recent[-1] < self.room.time - quiet):
                return

    async def finish(self, out_dir: str | Path | None) -> CallResult:
        """Close the session and the room; write the recording into ``out_dir`` if given."""
        await self.session.aclose()
        await self.room.aclose()
        if out_dir is not None:
            self.result.recording = self.room.write(out_dir)
        return self.result


async def run_call(call: SimulatedCall, script: Callable[[SimulatedCall], Awaitable[None]],
                   out_dir: str | Path | None) -> CallResult:
    """Start ``call``, play ``script`` (the caller's part), wait for quiet, close."""
    began = time.perf_counter()
    await call.start()
    await script(call)
    await call.until_quiet()
    result = await call.finish(out_dir)
    result.wall_seconds = time.perf_counter() - began
    return result


# -- printing ------------------------------------------------------------------------------


def _short(text: str, n: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."


def timeline(result: CallResult) -> list[tuple[float, str, str]]:
    """Readable ``(time, who, what)`` lines: session events and the caller's utterances."""
    lines: list[tuple[float, str, str]] = []
    speech_names = {id(h): f"speech {i + 1}" for i, h in enumerate(result.speeches)}
    last_sentences = -1
    shown_discarded = False
    for t, name, e in result.events:
        if name == "agent_state_changed":
            lines.append((t, "agent", f"state {e.old_state} -> {e.new_state}"))
        elif name == "user_state_changed":
            what = "starts speaking" if e.new_state == "speaking" else "stops speaking"
            over = [i for i, h in enumerate(result.speeches) if not h.allow_interruptions
                    and h.started_at is not None and h.started_at <= e.time
                    and (h.ended_at is None or e.time < h.ended_at)]
            if over and e.new_state == "speaking":
                what += (f" over uninterruptible speech {over[0] + 1}: no barge-in, "
                         "it keeps playing")
            lines.append((e.time, "VAD", f"caller {what}"))
        elif name == "speech_created":
            h = e.speech
            mode = "interruptible" if h.allow_interruptions else "UNINTERRUPTIBLE"
            lines.append((t, "agent", f"{speech_names[id(h)]} scheduled ({e.source}, {mode})"))
        elif name == "user_input_transcribed":
            if e.discarded:  # the first interim of an utterance and its final are enough
                if e.is_final or not shown_discarded:
                    kind = "final" if e.is_final else "interim"
                    lines.append((t, "stt", f"{kind} DISCARDED (said over uninterruptible "
                                            f"speech): {_short(e.transcript, 60)!r}"))
                shown_discarded = not e.is_final
            elif e.is_final:
                last_sentences = -1
                lines.append((t, "stt", f"final   {_short(e.transcript)!r}"))
            else:  # the first interim of an utterance, then one per new finished sentence
                n = count_sentences(e.transcript)
                if n > last_sentences:
                    tail = _short(e.transcript[-60:], 60)
                    lines.append((t, "stt", f"interim ({n} sentences so far) ...{tail!r}"))
                last_sentences = n
        elif name == "user_turn_exceeded":
            lines.append((t, "agent", f">>> USER TURN EXCEEDED ({e.reason}: {e.sentences} "
                                      f"sentences, {e.words} words, {e.duration:.2f} s)"))
        elif name == "agent_interrupted":
            lines.append((t, "agent", f"interrupted ({e.reason}), heard: "
                                      f"{_short(e.heard_text, 60)!r}"))
        elif name == "agent_false_interruption":
            lines.append((t, "agent", f"false interruption (resumed={e.resumed})"))
        elif name == "conversation_item_added":
            item = e.item
            flag = " [interrupted=True]" if item.interrupted else ""
            lines.append((t, "history", f"{item.role}: {_short(item.content)!r}{flag}"))
        elif name == "error":
            lines.append((t, "ERROR", f"{e.source}: {e.error}"))
    for u in result.utterances:
        state = " (stopped early)" if u.cancelled else ""
        lines.append((u.start, "caller", f"says {_short(u.text or '', 70)!r}"))
        lines.append((u.end, "caller", f"utterance ends{state}"))
    for i, h in enumerate(result.speeches):
        if h.started_at is not None:
            lines.append((h.started_at, "agent", f"speech {i + 1} audio starts: "
                                                 f"{_short(h.text, 60)!r}"))
        if h.ended_at is not None and h.started_at is not None:
            how = "INTERRUPTED" if h.interrupted else "played to the end"
            lines.append((h.ended_at, "agent", f"speech {i + 1} ends, {how}"))
    for t, label in result.marks.get("notes", []):
        lines.append((t, "script", label))
    lines.sort(key=lambda x: x[0])
    return lines


def print_report(result: CallResult, title: str) -> None:
    """Print the timeline, who was audible when on the recording, and the final history."""
    print(f"== {title} ==")
    print("   time  who      what")
    for t, who, what in timeline(result):
        print(f"{t:7.2f}  {who:<8} {what}")
    print("\nOn the recording (audible spans, seconds):")
    for who, spans in (("caller", result.room.user_audible_spans()),
                       ("agent", result.room.agent_audible_spans())):
        print(f"  {who:<6} " + ", ".join(f"{a:.2f}-{b:.2f}" for a, b in spans))
    print("\nChat history:")
    for m in result.history:
        flag = "  [interrupted=True]" if m.interrupted else ""
        print(f"  {m.role:>9}: {m.content}{flag}")
    print()
    if result.recording:
        print(f"recording: {result.recording[0]} (left: caller, right: agent), "
              f"{result.recording[1]}")
    print(f"simulated {result.duration:.1f} s of audio in {result.wall_seconds:.1f} s "
          "of wall time")


def console(name: str, simulate: Callable[..., Awaitable[CallResult]],
            argv: Sequence[str]) -> int:
    """``console [--text] [--record FILE.wav] [--stt local|whisper|oracle]``: the example's
    agent live in the terminal (``bargein console examples/agents/<name>.py``)."""
    from bargein.live.agent_file import STT_CHOICES, spec_from_module
    from bargein.live.console import main as run_console

    parser = argparse.ArgumentParser(prog=f"{name}.py console", description=(
        f"Talk to the {name!r} example agent live: microphone and speaker, or typed lines "
        "spoken by the local TTS (--text, and when there is no audio device)."))
    parser.add_argument("--text", action="store_true",
                        help="type lines; the local TTS says them to the agent")
    parser.add_argument("--record", type=Path, default=None,
                        help="write the stereo recording (left: you, right: agent) here")
    parser.add_argument("--stt", choices=STT_CHOICES, default="local", help=(
        "local: pocketsphinx interims + Whisper finals; whisper: finals only; "
        "oracle: the typed words (--text only) (default: %(default)s)"))
    options = parser.parse_args(list(argv))
    if options.stt == "oracle" and not options.text:
        parser.error("--stt oracle needs --text")
    module = sys.modules[simulate.__module__]
    spec = spec_from_module(module)
    spec.name = name
    return run_console(spec, text=options.text, record=options.record, stt=options.stt)


def main(name: str, simulate: Callable[..., Awaitable[CallResult]],
         summarize: Callable[[CallResult], Sequence[str]],
         argv: Sequence[str] | None = None,
         add_arguments: Callable[[argparse.ArgumentParser], None] | None = None) -> int:
    """Command line of an example: ``[console] [--out DIR] [--stt oracle|local] [extras]``.

    ``add_arguments`` adds the example's own flags; their values are passed to ``simulate``
    as keyword arguments (by ``dest``).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "console":
        return console(name, simulate, args[1:])
    parser = argparse.ArgumentParser(prog=f"{name}.py", description=(
        f"Simulated call with the {name!r} example agent, offline and in virtual time."))
    parser.add_argument("--out", default=f"out/examples/{name}",
                        help="directory for the recording (default: %(default)s)")
    parser.add_argument("--stt", choices=STT_CHOICES, default="oracle", help=(
        "oracle: transcripts from the script's known words (no recognition); "
        "local: pocketsphinx interims + Whisper finals on the audio (default: %(default)s)"))
    if add_arguments is not None:
        add_arguments(parser)
    options = vars(parser.parse_args(args))
    out, stt = options.pop("out"), options.pop("stt")
    result = run_simulation(simulate(out_dir=out, stt=stt, **options))
    print_report(result, f"{name} (stt={stt})")
    print()
    for line in summarize(result):
        print(line)
    return 0
