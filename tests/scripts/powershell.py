"""A real PowerShell parser for the tests: the tree-sitter PowerShell grammar (PyPI).

`shape` is a syntax tree with every leaf's text dropped: two scripts with the same shape have
the same statements, commands, pipelines and expressions, whatever their strings hold.

The grammar reads only `'` as a single quote; PowerShell's tokenizer also takes U+2018,
U+2019, U+201A and U+201B as single quotes (any of them opens or closes a verbatim string,
and two in a row are an escaped quote). `parse` maps them to `'` first, so the tree is the
one PowerShell itself would build; without that mapping a value holding U+2019 would look
harmless to the grammar while PowerShell ended the string there.
"""

from __future__ import annotations

from typing import Any

import tree_sitter
import tree_sitter_powershell

_PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
_AS_POWERSHELL_READS = str.maketrans({c: "'" for c in "\u2018\u2019\u201a\u201b"})


def parse(text: str) -> tree_sitter.Tree:
    return _PARSER.parse(text.translate(_AS_POWERSHELL_READS).encode("utf-8"))


def shape(node: tree_sitter.Node) -> Any:
    """Node types of the named nodes, nested; errors and missing tokens stay visible."""
    kids = tuple(shape(c) for c in node.children if c.is_named or c.is_missing or c.type == "ERROR")
    kind = "MISSING" if node.is_missing else node.type
    return (kind, kids) if kids else kind


def problems(text: str) -> list[str]:
    """Syntax errors of `text`, as `row:column type` strings (empty when it parses cleanly)."""
    out: list[str] = []

    def walk(node: tree_sitter.Node) -> None:
        if node.type == "ERROR" or node.is_missing:
            out.append(f"{node.start_point[0] + 1}:{node.start_point[1] + 1} {node.type}")
        for child in node.children:
            walk(child)

    walk(parse(text).root_node)
    return out


def script_shape(text: str) -> Any:
    return shape(parse(text).root_node)
