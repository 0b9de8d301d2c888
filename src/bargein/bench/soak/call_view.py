"""A finished soak call's reports, sorted and indexed once for the checks: the agent's
speeches and how long each was heard, its messages, the caller's turns as the history took
them, errors, turn-limit cut-ins, recognized finals, the caller's voice as the agent's VAD
reported it, and where protected speech played."""

from __future__ import annotations

from bargein.scenario.call import SimulatedCall
from bargein.scenario.timeline import TimelineEvent
from bargein.scenario.turns import AgentSpeech

__all__ = ["EPS", "TAIL", "CallView", "voice_spans"]

#: Tolerance (seconds) when comparing report times.
EPS = 1e-3
#: The agent's audio is looked for this long after a speech's reported end.
TAIL = 0.05


class CallView:
    """The call's reports, sorted and indexed once."""

    def __init__(self, call: SimulatedCall) -> None:
        self.call = call
        timeline = call.timeline
        self.end = call.time
        sources = {e.data.get("id"): e.data.get("source") for e in timeline.of("agent_speech")}
        self.speeches = sorted((s for s in call.speeches.values() if s.end is not None),
                               key=lambda s: s.start)
        self.source = {s.id: sources.get(s.id) for s in self.speeches}
        self.heard_until = {s.id: self._heard_until(s) for s in self.speeches}
        self.words = timeline.of("agent_words")
        self.messages = list(call.agent_messages)
        self.user_messages = [(e.time, str(e.data.get("text", "")))
                              for e in timeline.of("user_message")]
        ended = timeline.of("history")  # the history as it ended: late finals updated it
        #: (role, text) of every message of the history as it ended (None: not reported)
        self.final: list[tuple[str, str]] | None = None
        if ended:
            self.final = [(str(m.get("role")), str(m.get("text", "")))
                          for m in ended[-1].data.get("messages", ())]
            texts = [text for role, text in self.final if role == "user"]
            if len(texts) == len(self.user_messages):
                self.user_messages = [(t, text) for (t, _), text in
                                      zip(self.user_messages, texts, strict=True)]
        self.errors = timeline.of("error")
        self.exceeded = [e.time for e in timeline.of("user_turn_exceeded")]
        self.finals = [e for e in timeline.of("user_transcript") if e.data.get("final")]
        self.voice = voice_spans(timeline.of("user_state"), self.end)
        self.protected = self._protected_spans(timeline.of("agent_state"))

    def _heard_until(self, speech: AgentSpeech) -> float:
        """The end of the speech's last audible sample (its start if none was)."""
        assert speech.end is not None
        last = self.call.room.last_agent_sample_before(speech.end + TAIL)
        return last if last is not None and last > speech.start else speech.start

    def heard(self, speech: AgentSpeech) -> bool:
        """True if any of the speech was audible."""
        return self.heard_until[speech.id] > speech.start

    def answer_after(self, t: float) -> AgentSpeech | None:
        """The first heard speech that started at or after ``t``."""
        return next((s for s in self.speeches if s.start >= t - EPS and self.heard(s)), None)

    def _protected_spans(self, states: list[TimelineEvent]) -> list[tuple[float, float]]:
        """Where protected speech played; back-to-back protected speeches (the agent not
        listening in between: a cut-in and its reply) make one span, gap included."""
        listening = [e.time for e in states if e.data.get("state") == "listening"]
        spans: list[tuple[float, float]] = []
        for s in self.speeches:
            if not s.protected:
                continue
            end = s.end if s.end is not None else self.end
            if spans and not any(spans[-1][1] - EPS <= t < s.start - EPS
                                 for t in listening):
                between = [p for p in self.speeches if not p.protected
                           and spans[-1][0] - EPS < p.start < s.start - EPS]
                if not between:
                    spans[-1] = (spans[-1][0], end)
                    continue
            spans.append((s.start, end))
        return spans

    def protected_at(self, t: float) -> bool:
        """True if protected speech played at ``t``."""
        return any(a - EPS <= t < b + EPS for a, b in self.protected)


def voice_spans(states: list[TimelineEvent], end: float) -> list[tuple[float, float]]:
    """Where the agent's VAD said the caller was speaking (its ``user_state`` reports)."""
    spans: list[tuple[float, float]] = []
    since: float | None = None
    for e in states:
        if e.data.get("state") == "speaking" and since is None:
            since = e.time
        elif e.data.get("state") != "speaking" and since is not None:
            spans.append((since, e.time))
            since = None
    if since is not None:
        spans.append((since, end))
    return spans
