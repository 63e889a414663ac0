"""Brand colours: hex parsing and the WCAG 2.x contrast check.

A brand colour fills the app's header and buttons and the export's header band, with text
on it. That text is white or near-black, whichever reads better; the colour is accepted only
if that choice reaches 4.5:1 (WCAG 2.x AA for normal text), so no brand can make the app's
own labels unreadable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_RATIO = 4.5
WHITE = "#ffffff"
DARK = "#111827"  # the app's darkest text colour, not pure black

_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def parse_hex(value: str) -> str | None:
    """`#rgb` or `#rrggbb` (the `#` optional) as lower-case `#rrggbb`; None if not a hex colour."""
    match = _HEX.match(value.strip()) if isinstance(value, str) else None
    if not match:
        return None
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits


def _channel(c8: int) -> float:
    c = c8 / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(color: str) -> float:
    """WCAG 2.x relative luminance of a `#rrggbb` colour, 0 (black) to 1 (white)."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2.x contrast ratio of two `#rrggbb` colours, 1 to 21, whatever their order."""
    la, lb = relative_luminance(a), relative_luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


@dataclass(frozen=True)
class TextChoice:
    text: str  # WHITE or DARK
    ratio: float

    @property
    def passes(self) -> bool:
        return self.ratio >= MIN_RATIO


def text_on(background: str) -> TextChoice:
    """The text colour (white or dark) that contrasts most with `background`."""
    white, dark = contrast_ratio(background, WHITE), contrast_ratio(background, DARK)
    return TextChoice(WHITE, white) if white >= dark else TextChoice(DARK, dark)


def _mix(color: str, toward: str, amount: float) -> str:
    parts = []
    for i in (1, 3, 5):
        a, b = int(color[i : i + 2], 16), int(toward[i : i + 2], 16)
        parts.append(round(a + (b - a) * amount))
    return "#" + "".join(f"{p:02x}" for p in parts)


def suggest(background: str) -> str:
    """The colour nearest `background` along the way to black (for white text) or to white
    (for dark text), whichever comes sooner, on which `text_on` passes. Always exists: black
    gives white text 21:1, white gives dark text more than 17:1. A colour that passes is
    its own suggestion."""
    if text_on(background).passes:
        return background
    best: tuple[float, str] | None = None
    for toward, text in (("#000000", WHITE), ("#ffffff", DARK)):
        for step in range(1, 101):
            candidate = _mix(background, toward, step / 100)
            if contrast_ratio(candidate, text) >= MIN_RATIO:
                if best is None or step < best[0]:
                    best = (step, candidate)
                break
    assert best is not None  # both walks end at a colour that passes
    return best[1]
