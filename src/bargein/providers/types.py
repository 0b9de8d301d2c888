"""Small value types shared by the provider interfaces."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class WordTiming:
    """One word and where it lies on an audio timeline, in seconds.

    ``char_start``/``char_end`` locate the word in the source text when known (TTS), so a
    truncated transcript can be cut at an exact character.
    """

    text: str
    start: float
    end: float
    confidence: float | None = None
    char_start: int | None = None
    char_end: int | None = None

    def shifted(self, offset: float) -> WordTiming:
        """The same word moved ``offset`` seconds later on the timeline."""
        return replace(self, start=self.start + offset, end=self.end + offset)
