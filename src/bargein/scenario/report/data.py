"""What a report page shows, prepared from a :class:`ScenarioResult`: no markup here.

The templates read these plain objects; every number is already formatted with its unit and
every text is still raw (the templates escape it).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from bargein.scenario.metrics import YIELD_WINDOW, InterruptionMeasure, Metrics
from bargein.scenario.result import ScenarioResult

PROTECTED_EPSILON = 0.05  # seconds: a message's turn and its segment start together


@dataclass
class AgentTurn:
    """One agent message placed on the audible turn it was spoken in.

    ``protected`` marks uninterruptible speech: it plays to the end by design, so a barge-in
    over it is not a failure to yield.
    """

    time: float  # when the agent committed the message
    start: float  # first audible sample of its turn (``time`` when it was never audible)
    end: float
    text: str
    interrupted: bool
    protected: bool = False


@dataclass
class Mark:
    """A moment marked across both lanes: a fired interrupt, a false interruption, an error."""

    time: float
    kind: str  # "interrupt" | "false" | "error"
    label: str
    title: str


@dataclass
class InterruptionRow:
    """One barge-in, as the per-interruption table shows it."""

    number: int
    measure: InterruptionMeasure
    protected: bool

    @property
    def verdict(self) -> str:
        """"protected", "yes", "no" or "" (the agent was not speaking)."""
        if not self.measure.agent_was_speaking:
            return ""
        if self.protected:  # uninterruptible speech is not meant to yield: no failure
            return "protected" if self.measure.not_interrupted is not False else "no"
        return "yes" if self.measure.yielded else "no"


@dataclass
class TranscriptEntry:
    """One line of the transcript."""

    time: float
    party: str  # "user" | "agent"
    text: str
    tags: list[tuple[str, str]] = field(default_factory=list)  # (css class, label)
    cut: bool = False


def agent_turns(result: ScenarioResult) -> list[AgentTurn]:
    """Agent messages placed on the agent turn they were spoken in, each flagged protected
    when the recording's agent segment for that turn says so (``segment.protected``; absent
    means False)."""
    turns = _spans(result, "agent_started_speaking", "agent_stopped_speaking")
    protected_starts = [s.start for s in result.recording.segments
                        if s.party == "agent" and getattr(s, "protected", False)]
    out = []
    for e in result.timeline.of("agent_message"):
        turn = None
        for s, end in turns:
            if s <= e.time + PROTECTED_EPSILON:
                turn = (s, end)
        start, end = turn if turn is not None else (e.time, e.time)
        protected = any(abs(start - p) <= PROTECTED_EPSILON for p in protected_starts)
        out.append(AgentTurn(e.time, start, end, str(e.data.get("text", "")),
                             bool(e.data.get("interrupted")), protected))
    return out


def protected_spans(result: ScenarioResult) -> list[tuple[float, float]]:
    """Where the agent's speech was protected (uninterruptible), per recording segment."""
    return [(s.start, s.end) for s in result.recording.segments
            if s.party == "agent" and getattr(s, "protected", False)]


def marks(result: ScenarioResult) -> list[Mark]:
    """Interrupts fired, false interruptions and errors, in timeline order."""
    out = []
    for e in result.timeline.events:
        if e.kind == "interrupt_fired":
            trigger = str(e.data.get("trigger") or "")
            mode = str(e.data.get("mode") or "")
            label = " · ".join(x for x in (_trigger_text(trigger, e.data), mode) if x)
            title = f"interrupt at {e.time:.3f} s ({label}): {e.data.get('content', '')}"
            out.append(Mark(e.time, "interrupt", label, title))
        elif e.kind == "agent_false_interruption":
            out.append(Mark(e.time, "false", "false interruption",
                            f"false interruption at {e.time:.3f} s: agent resumed"))
        elif e.kind == "error":
            text = str(e.data.get("message") or e.data.get("error") or e.data)
            out.append(Mark(e.time, "error", "error", f"error at {e.time:.3f} s: {text}"))
    return out


def interruption_is_protected(m: InterruptionMeasure, spans: list[tuple[float, float]]) -> bool:
    """True if the barge-in landed on protected speech: the measure says so (from the
    adapter's speech boundaries), or a protected segment of the recording holds its onset."""
    if m.protected:
        return True
    return any(start - PROTECTED_EPSILON <= m.onset <= end for start, end in spans)


def interruption_rows(result: ScenarioResult) -> list[InterruptionRow]:
    """One row per barge-in of the run."""
    spans = protected_spans(result)
    return [InterruptionRow(n, m, interruption_is_protected(m, spans))
            for n, m in enumerate(result.metrics.interruptions, 1)]


def metric_rows(m: Metrics) -> list[tuple[str, str, str]]:
    """(name, value with unit, definition) of the headline metrics."""
    s = m.summary()
    return [
        ("Stop latency p50", secs(s["stop_latency_p50"]),
         "onset of the user's interrupting speech → last audible agent sample"),
        ("Stop latency max", secs(s["stop_latency_max"]), "worst barge-in of the run"),
        ("Yield rate", pct(s["yield_rate"]),
         f"share of barge-ins after which the agent stopped within {YIELD_WINDOW:g} s "
         "and did not talk over the caller again"),
        ("Talked over after yielding", secs(s["talked_over"]),
         "agent audio while a barging caller still spoke, after the agent's first stop"),
        ("Barge-in overlap p50", secs(s["barge_in_overlap_p50"]),
         "seconds both spoke at once, from the caller's onset to the caller's end"),
        ("Response gap p50", secs(s["response_gap_p50"]),
         "end of the caller's barge-in → the agent's next audio (negative: over the caller)"),
        ("Protected barge-ins", str(s["protected_barge_ins"] or 0),
         f"barge-ins over uninterruptible speech, kept out of the figures above "
         f"({s['protected_interrupted'] or 0} interrupted)"),
        ("False interruption rate", pct(s["false_interruption_rate"]),
         f"share of backchannels ({m.backchannels} over agent speech) after which the agent "
         "stopped or paused"),
        ("Response latency p50", secs(s["response_latency_p50"]),
         f"end of user speech → first audible agent sample ({len(m.response_latency)} turns)"),
        ("Overlap", secs(s["overlap"]), "seconds in which both parties were audible"),
        ("Truncation accuracy", pct(s["truncation_accuracy"]),
         "1 − WER between the words heard and the text the agent recorded as said"),
    ]


def transcript(result: ScenarioResult, turns: list[AgentTurn]) -> list[TranscriptEntry]:
    """User utterances and agent messages in spoken order, tagged."""
    entries: list[tuple[float, int, TranscriptEntry]] = []
    for u in result.utterances:
        tags = []
        if u.backchannel:
            tags.append(("bc", "backchannel"))
        elif u.barge_in:
            detail = " · ".join(x for x in (u.trigger, u.mode) if x)
            tags.append(("barge", "barge-in" + (f": {detail}" if detail else "")))
        entries.append((u.onset, 0, TranscriptEntry(u.onset, "user", u.text, tags)))
    for t in turns:
        tags = []
        if t.protected:
            tags.append(("protected", "protected: uninterruptible"))
        if t.interrupted:
            tags.append(("cut", f"✂ cut off at {t.end:.2f} s"))
        text = t.text + (" …" if t.interrupted else "")
        entries.append((t.start, 1, TranscriptEntry(t.start, "agent", text, tags,
                                                    t.interrupted)))
    entries.sort(key=lambda e: (e[0], e[1]))
    return [e for _, _, e in entries]


def header_facts(result: ScenarioResult) -> list[tuple[str, str]]:
    """(label, value) pairs of the header."""
    return [
        ("Adapter", result.adapter),
        ("Mode", "live (real time)" if result.live else "simulated (virtual time)"),
        ("Seed", str(result.seed)),
        ("Duration", f"{result.duration:.2f} s"),
        ("Sample rate", f"{result.recording.sample_rate} Hz"),
    ]


def capability_chips(capabilities: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(css class, text) of each capability: ✓/✗ for flags, "name: value" otherwise."""
    chips = []
    for key in sorted(capabilities or {}):
        value = (capabilities or {})[key]
        if isinstance(value, bool):
            chips.append(("on" if value else "off", f"{'✓' if value else '✗'} {key}"))
        else:
            plain = ", ".join(str(v) for v in value) if isinstance(value, (list, tuple)) \
                else str(value)
            chips.append(("", f"{key}: {plain}"))
    return chips


def audio_source(result: ScenarioResult, embed: bool) -> str:
    """The player's ``src``: the stereo recording inside the page as a ``data:`` URI (the
    page then plays with no other file), or the relative link to ``conversation.wav``."""
    if not embed:
        return "conversation.wav"
    return "data:audio/wav;base64," + base64.b64encode(result.recording.stereo_wav()).decode()


def files(result: ScenarioResult) -> tuple[list[tuple[str, str]], list[str]]:
    """The folder's files with what they hold, and the segment names."""
    links = [("result.json", "results, metrics and the full event timeline"),
             ("conversation.wav", "stereo: left user, right agent"),
             ("conversation-mono.wav", "both parties mixed")]
    return links, [s.name for s in result.recording.segments if s.end > s.start]


# -- small helpers --------------------------------------------------------------------------

def secs(value: float | None, digits: int = 3) -> str:
    """Seconds with a unit, or an em dash for "not measured"."""
    return "—" if value is None else f"{value:.{digits}f} s"


def pct(value: float | None) -> str:
    """A share as a whole percentage, or an em dash."""
    return "—" if value is None else f"{value * 100:.0f} %"


def clip(text: str, chars: int) -> str:
    """``text`` on one line, shortened with … to at most ``chars`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= chars else text[: max(1, chars - 1)].rstrip() + "…"


def _spans(result: ScenarioResult, start: str, stop: str) -> list[tuple[float, float]]:
    starts = [e.time for e in result.timeline.of(start)]
    stops = [e.time for e in result.timeline.of(stop)]
    return [(s, next((t for t in stops if t >= s), result.duration)) for s in starts]


def _trigger_text(trigger: str, data: dict[str, Any]) -> str:
    if trigger == "after" and data.get("delay") is not None:
        return f"after {float(data['delay']):.2f} s"
    return trigger.replace("_", " ")
