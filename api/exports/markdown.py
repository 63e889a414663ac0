"""Markdown export: the built-in `templates/markdown.j2` over the view model, and its escaping.

User and tree text is escaped so that nothing anyone typed can change the structure of the
notes: `\\ ` * _ [ ] < > | ~` everywhere, an `&` that would start an entity, and at the
start of a line `#`, `-`, `+`, `=` and `1.` / `1)` (headings, lists, rules). Leading blanks
are dropped so a note never turns into an indented code block. Commands go into fenced code
blocks whose fence is longer than any run of backticks inside.
`pwa/src/shared/export.ts` implements exactly the same rules; the golden fixtures hold both
to the same bytes.
"""

from __future__ import annotations

import re

_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_ORDERED = re.compile(r"^([0-9]{1,9})([.)])")
_BACKTICKS = re.compile(r"`+")
_NEWLINES = re.compile(r"[ \t\r\n]*[\r\n][ \t\r\n]*")


_ESCAPES = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|~"})


def _escape(text: str) -> str:
    text = text.translate(_ESCAPES)
    return _ENTITY.sub(r"\\&", text) if "&" in text else text


def md_inline(text: str | None) -> str:
    """Escape text for a place inside a line (after a list marker or label)."""
    if not text:
        return ""
    if "\n" in text or "\r" in text:
        text = _NEWLINES.sub(" ", text)
    return _escape(text)


def md_lines(text: str | None) -> list[str]:
    """Escape multi-line text line by line, each line able to start a block."""
    out = []
    for line in (text or "").split("\n"):
        line = _escape(line.lstrip(" \t"))
        first = line[:1]
        if first in ("#", "+", "=", "-"):
            line = "\\" + line
        elif "0" <= first <= "9":
            line = _ORDERED.sub(r"\1\\\2", line)
        out.append(line)
    return out


def md_block(text: str | None) -> str:
    """Multi-line text as paragraphs: blank lines kept, and a line break inside a paragraph
    kept as a hard break (a trailing backslash), so pasted command output stays one per line."""
    lines = md_lines(text)
    return "\n".join(
        line + "\\" if line and i + 1 < len(lines) and lines[i + 1] else line for i, line in enumerate(lines)
    )


def md_quote(text: str | None) -> str:
    """Multi-line text as a block quote, line breaks kept as in `md_block`."""
    return "\n".join("> " + line if line else ">" for line in md_block(text).split("\n"))


def md_fence(text: str | None, language: str | None = None) -> str:
    """A fenced code block holding `text` verbatim."""
    text = text or ""
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language or ''}\n{text}\n{fence}"


FILTERS = {"md": md_inline, "md_block": md_block, "md_quote": md_quote, "md_fence": md_fence}
