"""The hash chain of the audit log, as pure functions.

Each entry's `hash` is the SHA-256 of a canonical JSON of the entry's own fields plus
`prev_hash`, the hash of the entry before it, so editing, removing or reordering any entry
breaks the chain at that point. The first entry follows `GENESIS`. Retention removes the
oldest entries; a checkpoint (the last removed entry's seq and hash, signed with the
server's key so it cannot be forged to hide more removals) becomes the anchor the first kept
entry must follow.

Nothing in the entries themselves says where the log ends, so removing the newest ones would
leave a shorter chain that still verifies. The head record does: the seq and hash of the
newest entry, signed with the server's key and written in the same store write as that
entry. Verification then names entries missing after the last one present, and an entry at
the head's seq that is not the one it names (the tail replaced by a re-hashed one).
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


def _signing_key(secret: str, purpose: bytes) -> bytes:
    """A key per purpose, so a signed checkpoint can never be passed off as a head or back."""
    return hmac.new(secret.encode("utf-8"), purpose, hashlib.sha256).digest()


def _signature(secret: str, purpose: bytes, seq: int, last_hash: str) -> str:
    return hmac.new(
        _signing_key(secret, purpose), canonical({"seq": seq, "hash": last_hash}), hashlib.sha256
    ).hexdigest()


def checkpoint_signature(secret: str, seq: int, last_hash: str) -> str:
    return _signature(secret, b"branchline audit checkpoint", seq, last_hash)


def head_signature(secret: str, seq: int, last_hash: str) -> str:
    return _signature(secret, b"branchline audit head", seq, last_hash)


def entry_signature(secret: str, seq: int, entry_hash_: str) -> str:
    """An entry's own signature (not hashed: it signs the hash). The chain's hashes are plain
    SHA-256, which anyone can extend; entries past the signed head are trusted only with this."""
    return _signature(secret, b"branchline audit entry", seq, entry_hash_)


def signed_by(entry: Mapping[str, Any], secret: str) -> bool:
    seq, digest = entry.get("seq"), entry.get("hash")
    if not isinstance(seq, int) or not isinstance(digest, str):
        return False
    return hmac.compare_digest(entry_signature(secret, seq, digest), str(entry.get("signature", "")))


def head_of(head: Mapping[str, Any] | None, secret: str) -> Anchor | str | None:
    """The newest entry a head record vouches for, None without one, or why it cannot be trusted."""
    if head is None:
        return None
    seq, last_hash = head.get("seq"), head.get("hash")
    if not isinstance(seq, int) or not isinstance(last_hash, str):
        return "the head record is malformed (it needs an integer seq and a hash)"
    if not hmac.compare_digest(head_signature(secret, seq, last_hash), str(head.get("signature", ""))):
        return (
            "the head record's signature does not match: it was edited, or the server's secret key "
            "(BRANCHLINE_SECRET_KEY) differs from the one that signed it"
        )
    return Anchor(seq, last_hash)


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
    # The newest entry checked (or the anchor when none was): where the chain ends.
    last: Anchor = GENESIS_ANCHOR

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(
    entries: Iterable[Mapping[str, Any]],
    anchor: Anchor,
    head: Anchor | None = None,
    secret: str | None = None,
) -> Verdict:
    """Walk `entries` in seq order from `anchor`; stop at the first missing or edited entry.

    Entries at or before the anchor are ones a retention run had not finished removing:
    the checkpoint already vouches for them, so they are skipped. With `head` (the signed
    head record), the chain must reach the head's seq, and the entry there must be the one
    it names. Entries past the head are allowed: a head lags when the store took an entry but
    not its head (a crash between the two on CouchDB, whose batches are not transactions),
    and the next append brings it forward. Each must carry its own signature (`secret`), as
    every entry written since heads exist does: else it was added by someone without the key.
    """
    verdict = _walk(entries, anchor, head, secret)
    if verdict.ok and head is not None and head.seq > verdict.last.seq:
        first = verdict.last.seq + 1
        missing = f"entry {first}" if first == head.seq else f"entries {first} to {head.seq}"
        return Verdict(
            verdict.entries,
            f"{missing} missing after the last one present: the signed head record says the log "
            f"reached entry {head.seq} (the newest entries were deleted)",
            first,
            verdict.last,
        )
    return verdict


def _walk(
    entries: Iterable[Mapping[str, Any]], anchor: Anchor, head: Anchor | None, secret: str | None
) -> Verdict:
    if head is not None and head.seq == anchor.seq and head.hash != anchor.hash:
        return Verdict(0, "the head record and the retention checkpoint name different entries", anchor.seq)
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
                Anchor(expected_seq - 1, prev),
            )
        last = Anchor(expected_seq - 1, prev)
        if entry_hash(entry) != entry.get("hash"):
            return Verdict(
                count, f"entry {seq} was edited: its content no longer matches its hash", seq, last
            )
        if entry.get("prev_hash") != prev:
            return Verdict(
                count,
                f"entry {seq} does not follow entry {seq - 1}: its prev_hash differs "
                "(an earlier entry was replaced)",
                seq,
                last,
            )
        if head is not None and secret is not None and seq > head.seq and not signed_by(entry, secret):
            return Verdict(
                count,
                f"entry {seq} comes after the signed head record and carries no valid signature: "
                "it was added by someone without the server's key",
                seq,
                last,
            )
        if head is not None and seq == head.seq and entry["hash"] != head.hash:
            return Verdict(
                count,
                f"entry {seq} is not the one the signed head record names: the entries from there "
                "on were replaced",
                seq,
                last,
            )
        prev, expected_seq, count = str(entry["hash"]), expected_seq + 1, count + 1
    return Verdict(count, last=Anchor(expected_seq - 1, prev))
