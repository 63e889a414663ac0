"""Sizes as operators type them (`10GiB`, `500 MB`, `unlimited`) and as people read them.

Units are binary, as the app shows sizes: 1 KB = 1 KiB = 1024 bytes, 1 GB = 1 GiB = 1024^3
bytes. Mixing decimal input with binary display would make `--storage 10GB` show as
"9.3 GB" on the Usage page.
"""

from __future__ import annotations

import re

from sync.quota import format_size

__all__ = ["UNLIMITED", "format_size", "parse_size"]

_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.I)
UNLIMITED = ("unlimited", "none", "off")
MAX_BYTES = 1024**5  # a petabyte: anything larger is a typing mistake


def parse_size(text: str) -> int:
    """Bytes for `text` (`10GiB`, `10 GB`, `512m`, `1073741824`; `unlimited`: 0, no quota).

    ValueError, with what was wrong, for anything else."""
    cleaned = text.strip().lower()
    if cleaned in UNLIMITED:
        return 0
    found = _SIZE.match(cleaned)
    if not found:
        raise ValueError(
            f"{text!r} is not a size: give a number with an optional unit, e.g. 10GiB, 500MB or "
            "1073741824 (bytes), or 'unlimited' for no quota."
        )
    number, unit = found.groups()
    value = int(float(number) * _UNITS[unit.lower()])
    if value > MAX_BYTES:
        raise ValueError(f"{text!r} is more than a petabyte; check the number and its unit.")
    return value
