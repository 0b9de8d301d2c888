"""Generated sections inside hand-written Markdown: the text between
``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` belongs to a generator (benchmark tables,
the capability matrix); everything around it stays as people wrote it."""

from __future__ import annotations

from pathlib import Path


def markers(name: str) -> tuple[str, str]:
    """The begin and end markers of section ``name``."""
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def replace_between(text: str, name: str, body: str, *, heading: str | None = None) -> str:
    """``text`` with section ``name`` holding ``body`` (markers kept, on their own lines).

    A text without the section gets it appended under ``heading``; without a heading that is
    a ValueError.
    """
    begin, end = markers(name)
    block = f"{begin}\n{body}\n{end}"
    start, stop = text.find(begin), text.find(end)
    if start >= 0 and stop > start:
        return text[:start] + block + text[stop + len(end):]
    if heading is None:
        raise ValueError(f"the document has no '{begin}' ... '{end}' section")
    return text.rstrip("\n") + f"\n\n{heading}\n\n{block}\n"


def update_file(path: str | Path, name: str, body: str, *, heading: str | None = None) -> bool:
    """Rewrite section ``name`` of the file at ``path``; True if the file changed."""
    file = Path(path)
    text = file.read_text() if file.exists() else ""
    updated = replace_between(text, name, body, heading=heading)
    if updated != text:
        file.write_text(updated)
    return updated != text
