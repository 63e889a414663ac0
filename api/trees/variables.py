"""Placeholders in tree text: `{{input.x}}` and `{{client.x}}`, found and filled.

Syntax: `{{`, optional spaces, `input.` or `client.`, a name matching
`[A-Za-z_][A-Za-z0-9_]{0,63}`, optional spaces, `}}`. Every `{{` in tree text starts a
placeholder; anything else between `{{` and `}}` (or a `{{` never closed) is malformed, which
validation reports so that a typo such as `{{inptu.vda}}` never reaches an engineer.

Filling never lets template syntax reach an export: a placeholder without a usable value
becomes `NOT_RECORDED`, "(not recorded)", which reads naturally in a past-tense log sentence
("Restarted BrokerAgent on (not recorded).") and tells the reader the engineer did not
record it. A malformed `{{...}}` is replaced by the same text; a `{{` that is never closed is
not a placeholder at all and stays as written.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

NOT_RECORDED = "(not recorded)"
"""What an unfilled placeholder becomes in any output."""

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
            snippet = text[pos:pos + 40]
            yield MalformedPlaceholder(pos, len(text), snippet,
                                       "it is opened with '{{' but never closed with '}}'",
                                       closed=False)
            return
        reopened = text.find("{{", pos + 2, close)
        if reopened != -1:
            yield MalformedPlaceholder(pos, reopened, text[pos:reopened],
                                       "it is opened with '{{' but never closed with '}}'",
                                       closed=False)
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
                pos, end, raw,
                "placeholders are written {{input.NAME}} or {{client.NAME}}, NAME being letters, "
                "digits and _ (not starting with a digit)")
        pos = text.find("{{", end)


def scan_placeholders(text: str) -> tuple[list[Placeholder], list[MalformedPlaceholder]]:
    """All well-formed and all malformed placeholders in `text`, in order, in one pass."""
    good: list[Placeholder] = []
    bad: list[MalformedPlaceholder] = []
    if "{{" not in text:
        return good, bad
    for token in _tokens(text):
        (good if isinstance(token, Placeholder) else bad).append(token)
    return good, bad


def find_placeholders(text: str) -> list[Placeholder]:
    """The well-formed placeholders in `text`, in order."""
    return scan_placeholders(text)[0]


def _render(value: Any) -> str | None:
    """A value as sentence text, or None when there is nothing worth printing."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        parts = [p for p in (_render(v) for v in value) if p]
        return ", ".join(parts) or None
    if isinstance(value, dict):
        # A nested object has no natural sentence form; printing its repr would be noise.
        return None
    text = str(value).strip()
    return text or None


def fill(text: str, *, inputs: Mapping[str, Any] | None = None,
         client: Mapping[str, Any] | None = None,
         escape: Callable[[str], str] | None = None,
         fallback: str = NOT_RECORDED) -> str:
    """`text` with every placeholder replaced by its value, or by `fallback` when missing.

    `inputs` are the session's input values by variable name; `client` is the client
    context (`name` and any other field). Empty, blank and `None` values count as missing;
    lists are joined with ", ". `escape` (e.g. `html.escape`) is applied to filled values
    only, so an exporter can make user-typed values safe for its format. The result never
    contains a placeholder or a `{{...}}` fragment.
    """
    if "{{" not in text:
        return text
    sources = {"input": inputs or {}, "client": client or {}}
    out: list[str] = []
    last = 0
    for token in _tokens(text):
        if isinstance(token, MalformedPlaceholder) and not token.closed:
            # Never closed: not a placeholder, so the text stays as the author wrote it.
            continue
        out.append(text[last:token.start])
        value = None
        if isinstance(token, Placeholder):
            value = _render(sources[token.namespace].get(token.name))
        if value is None:
            out.append(fallback)
        else:
            out.append(escape(value) if escape else value)
        last = token.end
    out.append(text[last:])
    return "".join(out)


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
