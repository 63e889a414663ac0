"""Placeholders in tree text: `{{input.x}}` and `{{client.x}}`, found for validation.

Syntax: `{{`, optional spaces, `input.` or `client.`, a name matching
`[A-Za-z_][A-Za-z0-9_]{0,63}`, optional spaces, `}}`. Every `{{` in tree text starts a
placeholder; anything else between `{{` and `}}` (or a `{{` never closed) is malformed, which
validation reports so that a typo such as `{{inptu.vda}}` never reaches an engineer.

Filling is not done here: `api.sessions.fold.fill` is the one filler of tree text (sentences,
titles, commands), so what the runner shows, what an engineer copies and what an export
records cannot disagree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

NAMESPACES: tuple[str, ...] = ("input", "client")

_INNER = re.compile(r"\s*(input|client)\.([A-Za-z_][A-Za-z0-9_]{0,63})\s*")


@dataclass(frozen=True, slots=True)
class Placeholder:
    """A well-formed placeholder: `namespace` is `input` or `client`."""

    namespace: Literal["input", "client"]
    name: str
    start: int
    end: int
    raw: str


@dataclass(frozen=True, slots=True)
class MalformedPlaceholder:
    """A `{{` that does not start a well-formed placeholder, and why."""

    start: int
    end: int
    raw: str
    reason: str
    closed: bool = True


def _tokens(text: str) -> Iterator[Placeholder | MalformedPlaceholder]:
    pos = text.find("{{")
    while pos != -1:
        close = text.find("}}", pos + 2)
        if close == -1:
            snippet = text[pos : pos + 40]
            yield MalformedPlaceholder(
                pos, len(text), snippet, "it is opened with '{{' but never closed with '}}'", closed=False
            )
            return
        reopened = text.find("{{", pos + 2, close)
        if reopened != -1:
            yield MalformedPlaceholder(
                pos,
                reopened,
                text[pos:reopened],
                "it is opened with '{{' but never closed with '}}'",
                closed=False,
            )
            pos = reopened
            continue
        end = close + 2
        raw = text[pos:end]
        match = _INNER.fullmatch(text, pos + 2, close)
        if match:
            namespace: Any = match.group(1)  # the pattern admits only "input" or "client"
            yield Placeholder(namespace, match.group(2), pos, end, raw)
        else:
            yield MalformedPlaceholder(
                pos,
                end,
                raw,
                "placeholders are written {{input.NAME}} or {{client.NAME}}, NAME being letters, "
                "digits and _ (not starting with a digit)",
            )
        pos = text.find("{{", end)


def scan_placeholders(text: str) -> tuple[list[Placeholder], list[MalformedPlaceholder]]:
    """All well-formed and all malformed placeholders in `text`, in order, in one pass."""
    good: list[Placeholder] = []
    bad: list[MalformedPlaceholder] = []
    if "{{" not in text:
        return good, bad
    for token in _tokens(text):
        if isinstance(token, Placeholder):
            good.append(token)
        else:
            bad.append(token)
    return good, bad


def find_placeholders(text: str) -> list[Placeholder]:
    """The well-formed placeholders in `text`, in order."""
    return scan_placeholders(text)[0]


def placeholders_in(values: Mapping[str, Any] | Any) -> Iterator[Placeholder]:
    """Every well-formed placeholder in any string nested inside `values` (dicts, lists)."""
    if isinstance(values, str):
        yield from find_placeholders(values)
    elif isinstance(values, Mapping):
        for value in values.values():
            yield from placeholders_in(value)
    elif isinstance(values, (list, tuple)):
        for value in values:
            yield from placeholders_in(value)
