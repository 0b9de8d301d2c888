"""What the simulated caller says, written by a language model.

The caller is played by any :class:`~bargein.providers.llm.LLM`, for example
``OpenAICompatibleLLM`` pointed at OpenAI, a local llama.cpp server or Ollama. Each request
holds the persona, the goals and the conversation so far, with the roles turned round: the
agent's messages are the model's "user" turns and the caller's own lines are its
"assistant" turns, so a chat model simply writes the caller's next turn.

The requests are deterministic for a deterministic conversation (no times, no randomness),
so a cassette (``bargein.providers.cassette``) recorded once replays them exactly inside a
simulation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bargein.errors import ScenarioError
from bargein.providers.llm import LLM, ChatMessage
from bargein.scenario.user_lines import Turn

MAX_LINE_WORDS = 60
MAX_INTERJECTION_WORDS = 16

_SPEAKER = re.compile(r"^\s*(user|caller|customer|me|you|assistant)\s*:\s*", re.IGNORECASE)
_STAGE = re.compile(r"\*[^*]*\*|\([^)]*\)|\[[^\]]*\]")


def line_messages(persona: str, goals: Sequence[str],
                  conversation: Sequence[Turn]) -> list[ChatMessage]:
    """The chat request for the caller's next line."""
    listed = "\n".join(f"{i}. {g}" for i, g in enumerate(goals, 1)) or "(none in particular)"
    system = (
        f"You are playing a caller on a phone call with a voice agent. You are {persona}.\n"
        f"Your goals, in order:\n{listed}\n"
        "Write only your next spoken line: one or two short sentences in plain words, as you "
        "would say them out loud. Pursue the first goal the agent has not dealt with yet; "
        "answer the agent's questions as this person would. No stage directions, no quotes, "
        "no speaker name. When every goal is dealt with, thank the agent and say goodbye."
    )
    messages = [ChatMessage("system", system)]
    for turn in conversation:
        if turn.speaker == "agent":
            text = turn.text + (" [you cut in here]" if turn.cut_off else "")
            messages.append(ChatMessage("user", text))
        else:
            messages.append(ChatMessage("assistant", turn.text))
    if len(messages) == 1 or messages[-1].role == "assistant":
        messages.append(ChatMessage("user", "(The agent is silent, waiting for you.)"))
    return messages


def interjection_messages(persona: str, goal: str | None, heard: Sequence[str],
                          conversation: Sequence[Turn],
                          examples: Sequence[str]) -> list[ChatMessage]:
    """The chat request for a barge-in: what the caller heard of the agent's current reply,
    the conversation before it, and example interjections (the phrase pool) for style."""
    earlier = "\n".join(f"{'Agent' if t.speaker == 'agent' else 'You'}: {t.text}"
                        for t in conversation[-8:]) or "(nothing yet)"
    shown = "\n".join(f"- {p}" for p in examples)
    steer = f" Steer the agent towards what you still want: {goal}" if goal else ""
    prompt = (
        f"You are {persona}, on a phone call with a voice agent.\n"
        f"The conversation so far:\n{earlier}\n"
        f"The agent is now saying: \"{' '.join(heard[-40:])}\"\n"
        f"Cut in on it with one short, natural sentence (at most "
        f"{MAX_INTERJECTION_WORDS - 4} words) that reacts to what it is saying.{steer}\n"
        f"Examples of the kind of thing you might say:\n{shown}\n"
        "Answer with the sentence only."
    )
    return [ChatMessage("user", prompt)]


async def ask(llm: LLM, messages: list[ChatMessage], *, max_words: int, what: str) -> str:
    """The model's answer as one clean spoken line, or a :class:`ScenarioError` if it gave
    none (a caller who says nothing is not silently replaced by another line)."""
    text = "".join([chunk.text async for chunk in llm.chat(messages)])
    line = clean_line(text, max_words)
    if not line:
        raise ScenarioError(f"the user simulator's LLM wrote no {what}: it answered "
                            f"{text[:200]!r}")
    return line


def clean_line(text: str, max_words: int) -> str:
    """A model's answer made speakable: the first non-empty line, without speaker names,
    stage directions or wrapping quotes; longer than ``max_words``, it ends at the last sentence
    end within them (or after its first sentence)."""
    line = next((x.strip() for x in text.strip().splitlines() if x.strip()), "")
    line = _SPEAKER.sub("", line)
    line = _STAGE.sub("", line)
    line = " ".join(line.split()).strip().strip("\"'“”‘’").strip()
    tokens = line.split()
    if len(tokens) <= max_words:
        return line
    cut = " ".join(tokens[:max_words])
    end = max(cut.rfind(c) for c in ".!?")
    if end > 0:
        return cut[: end + 1]
    # one long sentence: kept whole rather than cut mid-phrase
    first = re.match(r"[^.!?]*[.!?]", line)
    return first.group(0) if first else line
