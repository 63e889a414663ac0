"""The hash chain of the audit log, as pure functions.

Each entry's `hash` is the SHA-256 of a canonical JSON of the entry's own fields plus
`prev_hash`, the hash of the entry before it, so editing, removing or reordering any entry
breaks the chain at that point. The first entry follows `GENESIS`. Retention removes the
oldest entries; a checkpoint (the last removed entry's seq and hash, signed with the
server's key so it cannot be forged to hide more removals) becomes the anchor the first kept
entry must follow.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
ENTRY_PREFIX = "audit:"
# The fields a hash covers: everything an entry says, and the link to its predecessor.
HASHED_FIELDS = ("seq", "ts", "actor", "action", "target", "ip", "details", "prev_hash")


def entry_id(seq: int) -> str:
    """`audit:{seq:012d}`: ids sort in append order, and a second writer of the same seq conflicts."""
    return f"{ENTRY_PREFIX}{seq:012d}"


def canonical(value: Any) -> bytes:
    """JSON with sorted keys, no spaces and UTF-8 text: the same bytes for the same value on
    every instance and every Python version."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(entry: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical({k: entry.get(k) for k in HASHED_FIELDS})).hexdigest()


@dataclass(frozen=True)
class Anchor:
    """What the first entry present must follow: the genesis, or the last removed entry."""

    seq: int
    hash: str


GENESIS_ANCHOR = Anchor(0, GENESIS)


def _checkpoint_key(secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), b"branchline audit checkpoint", hashlib.sha256).digest()


def checkpoint_signature(secret: str, seq: int, last_hash: str) -> str:
    return hmac.new(
        _checkpoint_key(secret), canonical({"seq": seq, "hash": last_hash}), hashlib.sha256
    ).hexdigest()


def anchor_of(checkpoint: Mapping[str, Any] | None, secret: str) -> Anchor | str:
    """The anchor a checkpoint document gives, or why it cannot be trusted."""
    if checkpoint is None:
        return GENESIS_ANCHOR
    seq, last_hash = checkpoint.get("seq"), checkpoint.get("hash")
    if not isinstance(seq, int) or not isinstance(last_hash, str):
        return "the retention checkpoint is malformed (it needs an integer seq and a hash)"
    expected = checkpoint_signature(secret, seq, last_hash)
    if not hmac.compare_digest(expected, str(checkpoint.get("signature", ""))):
        return (
            "the retention checkpoint's signature does not match: it was edited, or the server's "
            "secret key (BRANCHLINE_SECRET_KEY) differs from the one that signed it"
        )
    return Anchor(seq, last_hash)


@dataclass(frozen=True)
class Verdict:
    """The outcome of a verification: `entries` checked and, when broken, the first problem."""

    entries: int
    problem: str | None = None
    seq: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(entries: Iterable[Mapping[str, Any]], anchor: Anchor) -> Verdict:
    """Walk `entries` in seq order from `anchor`; stop at the first missing or edited entry.

    Entries at or before the anchor are ones a retention run had not finished removing:
    the checkpoint already vouches for them, so they are skipped.
    """
    expected_seq, prev, count = anchor.seq + 1, anchor.hash, 0
    for entry in entries:
        seq = entry.get("seq")
        if not isinstance(seq, int) or entry.get("_id") != entry_id(seq):
            return Verdict(count, f"{entry.get('_id')} has a seq that does not match its id", None)
        if seq <= anchor.seq:
            continue
        if seq != expected_seq:
            missing = (
                f"entry {expected_seq}" if seq == expected_seq + 1 else f"entries {expected_seq} to {seq - 1}"
            )
            return Verdict(
                count,
                f"{missing} missing: the log jumps from entry {expected_seq - 1} to {seq}",
                expected_seq,
            )
        if entry_hash(entry) != entry.get("hash"):
            return Verdict(count, f"entry {seq} was edited: its content no longer matches its hash", seq)
        if entry.get("prev_hash") != prev:
            return Verdict(
                count,
                f"entry {seq} does not follow entry {seq - 1}: its prev_hash differs "
                "(an earlier entry was replaced)",
                seq,
            )
        prev, expected_seq, count = str(entry["hash"]), expected_seq + 1, count + 1
    return Verdict(count)
