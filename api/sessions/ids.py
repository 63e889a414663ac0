"""ULIDs for event ids: 26 characters, sortable by creation time.

`session:{id}:ev:{ulid}` ids sort in creation order within one device, which keeps the last
tie-breaker of the fold's order (`ts`, `device_id`, `_id`) meaningful. Same algorithm as
`pwa/src/shared/ulid.ts`: 48 bits of milliseconds, then 80 random bits, in Crockford's
base32; within one millisecond the random part is incremented so ids stay strictly
increasing on one process.
"""

from __future__ import annotations

import os
import threading
import time

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_MAX_TIME = 2**48 - 1
_MAX_RANDOM = 2**80 - 1

_lock = threading.Lock()
_last_ms = -1
_last_random = 0


def encode_ulid(ms: int, random: int) -> str:
    """The 26-character ULID for a millisecond timestamp and an 80-bit random number."""
    if not 0 <= ms <= _MAX_TIME:
        raise ValueError(f"ULID time must be within 0..2**48-1 ms, got {ms}")
    if not 0 <= random <= _MAX_RANDOM:
        raise ValueError("ULID random part must fit in 80 bits")
    value = (ms << 80) | random
    chars = []
    for _ in range(26):
        chars.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def ulid(now_ms: int | None = None) -> str:
    """A new ULID, strictly greater than the previous one made by this process."""
    global _last_ms, _last_random
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    with _lock:
        if ms <= _last_ms:
            # Same millisecond (or the clock stepped back): keep order by counting up.
            if _last_random >= _MAX_RANDOM:
                _last_ms += 1
                _last_random = int.from_bytes(os.urandom(10), "big") >> 1
            else:
                _last_random += 1
            ms = _last_ms
        else:
            _last_ms = ms
            # One bit spare so counting up within a millisecond practically never overflows.
            _last_random = int.from_bytes(os.urandom(10), "big") >> 1
        return encode_ulid(ms, _last_random)


def ulid_time(value: str) -> int:
    """The millisecond timestamp inside a ULID."""
    if len(value) != 26:
        raise ValueError(f"a ULID has 26 characters, got {len(value)}")
    number = 0
    for char in value.upper():
        index = ALPHABET.find(char)
        if index < 0:
            raise ValueError(f"{char!r} is not a Crockford base32 character")
        number = (number << 5) | index
    return number >> 80
