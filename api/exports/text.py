"""Plain-text export helpers: text hung under a label, for `templates/text.j2` and ConnectWise.

The text export escapes nothing (it is never interpreted); it only lays lines out. Mirrored
in `pwa/src/shared/export.ts`.
"""

from __future__ import annotations


def hang(text: str | None, width: int) -> str:
    """Multi-line text whose second and later lines are indented by `width` spaces, so they
    line up under the first line after its label. Empty lines stay empty."""
    lines = (text or "").split("\n")
    pad = " " * width
    return "\n".join([lines[0], *(pad + line if line else "" for line in lines[1:])])


def indent(text: str | None, width: int) -> str:
    """Every non-empty line indented by `width` spaces."""
    pad = " " * width
    return "\n".join(pad + line if line else "" for line in (text or "").split("\n"))


FILTERS = {"hang": hang, "indent_lines": indent}
