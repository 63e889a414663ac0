"""The counting rules, as small pure functions (no clock, no storage).

Two shapes of limit:

- A token bucket (`take`), for the general per-caller limits: `burst` requests at once, then
  `rate` per second. A replication's bursts of a few hundred requests pass; a flood that
  keeps going past the burst is refused.
- A sliding-window counter (`count`), for rare expensive work shared by several instances
  (registrations, exports, PDF, uploads): at most `limit` in any `window` seconds,
  estimated from the current and the previous fixed window as one small document can hold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    """A named limit: `limit` requests per `window` seconds (a bucket refills at
    limit/window per second and holds `limit`)."""

    name: str
    limit: int
    window: float

    @property
    def rate(self) -> float:
        return self.limit / self.window


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    remaining: int
    reset: int  # whole seconds until the full quota is back (allowed) or a request fits (refused)


# --- token bucket -------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    tokens: float
    at: float


def take(b: Bucket | None, now: float, p: Policy) -> tuple[Bucket, Verdict]:
    """`b` after one request at `now`, and whether that request may go on."""
    tokens = float(p.limit) if b is None else min(float(p.limit), b.tokens + (now - b.at) * p.rate)
    if tokens >= 1.0:
        tokens -= 1.0
        return Bucket(tokens, now), Verdict(True, int(tokens), math.ceil((p.limit - tokens) / p.rate))
    return Bucket(tokens, now), Verdict(False, 0, max(1, math.ceil((1.0 - tokens) / p.rate)))


def full_at(b: Bucket, p: Policy) -> float:
    """When `b` is full again (and can be forgotten)."""
    return b.at + (p.limit - b.tokens) / p.rate


# --- sliding-window counter ---------------------------------------------------------------


@dataclass(frozen=True)
class Counter:
    start: float  # start of the current fixed window
    count: int  # requests counted in it
    previous: int  # requests counted in the window before


def _roll(c: Counter | None, now: float, window: float) -> Counter:
    start = math.floor(now / window) * window
    if c is None or c.start <= start - 2 * window:
        return Counter(start, 0, 0)
    if c.start < start:
        return Counter(start, 0, c.count)
    return c


def _estimate(c: Counter, now: float, window: float) -> float:
    weight = 1.0 - (now - c.start) / window
    return c.previous * weight + c.count


def count(c: Counter | None, now: float, p: Policy) -> tuple[Counter, Verdict]:
    """`c` after one request at `now` (counted only when allowed), and the verdict."""
    c = _roll(c, now, p.window)
    used = _estimate(c, now, p.window)
    if used + 1 <= p.limit:
        c = Counter(c.start, c.count + 1, c.previous)
        remaining = max(0, int(p.limit - used - 1))
        return c, Verdict(True, remaining, max(1, math.ceil(c.start + p.window - now)))
    return c, Verdict(False, 0, _wait(c, now, p))


def _wait(c: Counter, now: float, p: Policy) -> int:
    """Seconds until one more request fits: the previous window's share fades linearly."""
    room = p.limit - 1 - c.count
    if room >= 0 and c.previous > 0:
        fits_at = c.start + p.window * (1.0 - room / c.previous)
    else:
        # Not within this window: in the next one, this window's count fades in turn.
        fits_at = c.start + p.window * (2.0 - (p.limit - 1) / max(c.count, 1))
    return max(1, math.ceil(fits_at - now - 1e-6))  # not a second more for a rounding error


# --- the answer's headers -----------------------------------------------------------------


def headers(p: Policy, v: Verdict) -> dict[str, str]:
    """IETF `RateLimit-Policy` and `RateLimit` fields (structured-field lists), plus
    `Retry-After` on a refusal."""
    out = {
        "RateLimit-Policy": f'"{p.name}";q={p.limit};w={math.ceil(p.window)}',
        "RateLimit": f'"{p.name}";r={v.remaining};t={v.reset}',
    }
    if not v.allowed:
        out["Retry-After"] = str(v.reset)
    return out


def refusal_reason(p: Policy, v: Verdict, what: str) -> str:
    return (
        f"Too many requests: {what} allows {p.limit} per {_span(p.window)}. Wait {v.reset} "
        "seconds and try again (the Retry-After header says the same); if your normal use "
        "needs more, ask your administrator to raise the limit."
    )


def _span(seconds: float) -> str:
    if seconds % 3600 == 0:
        n = int(seconds // 3600)
        return "hour" if n == 1 else f"{n} hours"
    if seconds % 60 == 0:
        n = int(seconds // 60)
        return "minute" if n == 1 else f"{n} minutes"
    return f"{seconds:g} seconds"
