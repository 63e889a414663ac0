"""Recording, reading, retention and verification of the audit log (see `chain.py`).

Appends are ordered per tenant: an entry's id is its seq, so two writers (threads, or
instances on one CouchDB) taking the same seq conflict on the store and the loser reads the
new head and tries the next seq; the chain never forks. Within one process a lock per
tenant keeps those conflicts rare.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sync.access import Principal
from sync.errors import BadRequest, BranchlineError, Conflict
from sync.store import Database, Store

from ..core.docs import each_tenant, get_or_none, retry_on_conflict, save, tenants_with_db
from ..core.keyed_locks import KeyedLocks
from . import repository as repo
from .chain import (
    GENESIS_ANCHOR,
    Anchor,
    Verdict,
    anchor_of,
    checkpoint_signature,
    entry_hash,
    entry_id,
    entry_signature,
    head_of,
    head_signature,
    signed_by,
    verify,
)

log = logging.getLogger("branchline.audit")

SCHEMA_VERSION = 1
# Entries at 2 are written with a signed head record (chain.py): a log whose newest entry is at
# 2 must have one. Logs from before keep verifying without one until their next append.
ENTRY_SCHEMA_VERSION = 2
# Concurrent writers of one tenant each win one seq per round, so a burst of N needs N rounds.
APPEND_ATTEMPTS = 64
MAX_RETENTION_DAYS = 36500
# Appends to one tenant's log take turns in this process (see `append`).
_lock = KeyedLocks()


def now_iso(moment: datetime | None = None) -> str:
    """UTC with milliseconds and `Z`: entries of one second stay distinguishable and sort as text."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def actor_of(who: Principal | Mapping[str, Any] | None) -> dict[str, Any]:
    """`{type, id, email?, name?}` of a caller (a Principal), a user document, or the server itself
    (`name`: an API key's name)."""
    if who is None:
        return {"type": "system", "id": "branchline"}
    if isinstance(who, Principal):
        actor: dict[str, Any] = {"type": "api_key" if who.kind == "apikey" else "user", "id": who.user_id}
        if who.email:
            actor["email"] = who.email
        # A key has no e-mail; its name (as it was when it acted) is what a reader of the log
        # recognises, and stays readable after the key is revoked or renamed.
        if who.kind == "apikey" and isinstance(who.extra.get("display_name"), str):
            actor["name"] = who.extra["display_name"]
        return actor
    actor = {"type": "user", "id": str(who.get("user_id", ""))}
    if who.get("email"):
        actor["email"] = str(who["email"])
    return actor


def _tenant_of_actor(who: Principal | Mapping[str, Any] | None) -> str | None:
    if isinstance(who, Principal):
        return who.tenant_id
    if who is not None and isinstance(who.get("tenant_id"), str):
        return str(who["tenant_id"])
    return None


def _head(db: Database) -> tuple[Anchor, dict[str, Any] | None]:
    """The seq and hash the next entry follows, and the head record to replace.

    The head record names the newest entry, and that entry must be stored (see
    `_names_a_stored_entry`). A log without a head (written before heads existed, or new), or
    whose head names an entry that was never stored, looks up its newest entry, else its
    retention checkpoint. A head
    that lags behind the entries (see `append_to`) makes the append conflict on the entry's
    id while its head write goes through; that write is then repaired to the newest entry and
    the next attempt starts from there.
    """
    head_doc = repo.head(db)
    seq, last_hash = (head_doc or {}).get("seq"), (head_doc or {}).get("hash")
    if isinstance(seq, int) and isinstance(last_hash, str) and _names_a_stored_entry(db, seq, last_hash):
        return Anchor(seq, last_hash), head_doc
    last = repo.latest_entry(db)
    if last is not None:
        return Anchor(int(last["seq"]), str(last["hash"])), head_doc
    ckpt = repo.checkpoint(db)
    if ckpt is not None and isinstance(ckpt.get("seq"), int):
        return Anchor(int(ckpt["seq"]), str(ckpt["hash"])), head_doc
    return GENESIS_ANCHOR, head_doc


def _names_a_stored_entry(db: Database, seq: int, last_hash: str) -> bool:
    """Whether the entry a head names is stored (or was removed by retention, whose checkpoint
    holds it). A writer whose entry lost its seq can still have its head write go through, and
    until `_repair_head` runs that head names an entry nobody stored: chaining to it would fork
    the log (seen as a seq whose prev_hash matches no entry). Only a stored entry is followed;
    otherwise the newest stored one is."""
    if seq == GENESIS_ANCHOR.seq:
        return last_hash == GENESIS_ANCHOR.hash
    entry = get_or_none(db, entry_id(seq))
    if entry is not None:
        return entry.get("hash") == last_hash
    ckpt = repo.checkpoint(db)
    return ckpt is not None and ckpt.get("seq") == seq and ckpt.get("hash") == last_hash


def head_doc(secret: str, entry: Mapping[str, Any], current: Mapping[str, Any] | None) -> dict[str, Any]:
    """The head record naming `entry`, replacing `current` (by its `_rev`)."""
    doc: dict[str, Any] = {
        "_id": repo.HEAD_ID,
        "type": "audit_head",
        "schema_version": 1,
        "seq": entry["seq"],
        "hash": entry["hash"],
        "ts": entry["ts"],
        "signature": head_signature(secret, entry["seq"], entry["hash"]),
    }
    if current is not None:
        doc["_rev"] = current["_rev"]
    return doc


def _repair_head(db: Database, secret: str, before: Mapping[str, Any] | None = None) -> None:
    """Point the head at the newest entry this server wrote. The walk starts from the head as
    it was `before` the failed append (the head now stored may name that append's entry, which
    was never stored), and goes over entries that follow it and carry their own signature: an
    entry someone added without the key stops it there, so the head never vouches for it."""

    def attempt() -> None:
        current = repo.head(db)
        base = before if before is not None else current
        signed = head_of(base, secret)
        if isinstance(signed, Anchor) and not _names_a_stored_entry(db, signed.seq, signed.hash):
            # A head naming a lost entry (see `_names_a_stored_entry`): the newest entry this
            # server signed is the one to name; the chain of signed entries cannot fork.
            signed = "the head names an entry that was never stored"
        if signed is None or isinstance(signed, str):
            last = repo.latest_entry(db)  # no head to start from (a log from before heads)
            if last is not None and (signed is None or signed_by(last, secret)):
                save(db, head_doc(secret, last, current))
            return
        newest: Mapping[str, Any] = {"seq": signed.seq, "hash": signed.hash, "ts": (base or {}).get("ts")}
        for entry in repo.entries(db, after_seq=signed.seq):
            follows = entry.get("seq") == newest["seq"] + 1 and entry.get("prev_hash") == newest["hash"]
            if not (follows and entry_hash(entry) == entry.get("hash") and signed_by(entry, secret)):
                break
            newest = entry
        if (current or {}).get("seq") != newest["seq"] or (current or {}).get("hash") != newest["hash"]:
            save(db, head_doc(secret, newest, current))

    retry_on_conflict(attempt, busy="The audit head is being rewritten", give_up=lambda: None)


class AlreadyFiled(Exception):
    """The `once` key of an append was filed before."""


# A `once` marker names the entry it was written with (seq and hash). The writes of a batch
# succeed one by one, so a marker can be stored while its entry lost its seq to another
# action: such a marker names an entry that is not there (or another one at that seq), and
# the next writer of that key takes it over instead of taking the action as filed. Before,
# the action was lost. Markers from before the hash (seq only) are taken at their word.


def _marker(once: str, entry: Mapping[str, Any], current: Mapping[str, Any] | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "_id": repo.once_id(once),
        "type": "audit_once",
        "seq": entry["seq"],
        "hash": entry["hash"],
    }
    if current is not None:
        doc["_rev"] = current["_rev"]
    return doc


def _marker_filed(db: Database, marker: Mapping[str, Any]) -> bool:
    """Whether the entry a `once` marker names is in the log (or was, before retention)."""
    seq, filed_hash = marker.get("seq"), marker.get("hash")
    if not isinstance(filed_hash, str) or not isinstance(seq, int):
        return True  # a marker from before hashes were kept: filed
    entry = get_or_none(db, entry_id(seq))
    if entry is not None:
        return entry.get("hash") == filed_hash
    ckpt = repo.checkpoint(db)
    return ckpt is not None and isinstance(ckpt.get("seq"), int) and ckpt["seq"] >= seq


def _claim_marker(db: Database, once: str, entry: Mapping[str, Any]) -> None:
    """Our entry is stored but its marker was not (another writer of the key changed it in
    between): point the marker at our entry, unless it already names a filed one."""

    def attempt() -> None:
        current = get_or_none(db, repo.once_id(once))
        if current is not None and _marker_filed(db, current):
            return  # another writer filed the key too; its marker stands
        save(db, _marker(once, entry, current))

    retry_on_conflict(attempt, busy="The audit once-marker is being rewritten", give_up=lambda: None)


def append_to(
    db: Database,
    secret: str,
    lock_key: str,
    actor: dict[str, Any],
    action: str,
    target: dict[str, Any],
    *,
    ip: str | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
    once: str | None = None,
) -> dict[str, Any] | None:
    """Append one entry to the log in `db` and return it; None when `once` was filed before.

    The entry, the head record naming it and the `once` marker go in one `_bulk_docs`, one
    transaction on the embedded store. The entry's id is the lock: a writer that lost the seq
    has its whole batch refused (its head `_rev` is stale too) and tries again on the new head.
    """

    def attempt() -> dict[str, Any] | None:
        head, current = _head(db)
        marker = get_or_none(db, repo.once_id(once)) if once is not None else None
        if marker is not None and _marker_filed(db, marker):
            raise AlreadyFiled
        entry: dict[str, Any] = {
            "_id": entry_id(head.seq + 1),
            "type": "audit_entry",
            "schema_version": ENTRY_SCHEMA_VERSION,
            "seq": head.seq + 1,
            "ts": now_iso(at),
            "actor": actor,
            "action": action,
            "target": target,
            "ip": ip,
            "details": details or {},
            "prev_hash": head.hash,
        }
        entry["hash"] = entry_hash(entry)
        entry["signature"] = entry_signature(secret, entry["seq"], entry["hash"])
        batch = [entry, head_doc(secret, entry, current)]
        if once is not None:
            batch.append(_marker(once, entry, marker))
        results = db.bulk_docs(batch)
        if "error" in results[0]:
            if "error" not in results[1]:
                # The head was behind the entries (a crash between the two writes on CouchDB,
                # whose batches are not transactions), or a rival's entry landed between our
                # reads and this write: this head names an entry that was not stored. Point
                # it back at the newest stored one.
                _repair_head(db, secret, before=current)
            if results[0].get("error") == "conflict":
                raise Conflict(results[0].get("reason", "conflict"))
            raise BadRequest(f"The audit entry was refused: {results[0].get('reason')}")
        entry["_rev"] = results[0]["rev"]
        if once is not None and "error" in results[2]:
            _claim_marker(db, once, entry)
        if "error" in results[1]:
            # Another writer changed the head between our read and this write (a repair): bring
            # it to the newest entry now, so a quiet log does not keep naming an older one. The
            # entry is stored: a failure here must not make the append look failed (a caller
            # retrying would file it twice); the next append repairs the head anyway.
            try:
                _repair_head(db, secret)
            except BranchlineError as exc:
                log.warning("audit head of %s left behind its newest entry: %s", db.name, exc)
        return entry

    with _lock(lock_key):
        try:
            return retry_on_conflict(
                attempt, busy="The audit log is busy with other writes; try again.", attempts=APPEND_ATTEMPTS
            )
        except AlreadyFiled:
            return None


def append(
    store: Store,
    tenant_id: str,
    actor: dict[str, Any],
    action: str,
    target: dict[str, Any],
    *,
    secret: str,
    ip: str | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
    once: str | None = None,
) -> dict[str, Any] | None:
    """Append one entry to the tenant's chain and return it (None: `once` was filed before)."""
    return append_to(
        repo.ensure_db(store, tenant_id),
        secret,
        tenant_id,
        actor,
        action,
        target,
        ip=ip,
        details=details,
        at=at,
        once=once,
    )


def record(
    ctx: Any,
    who: Principal | Mapping[str, Any] | None,
    action: str,
    target_type: str,
    target_id: str | None,
    *,
    ip: str | None = None,
    details: dict[str, Any] | None = None,
    tenant_id: str | None = None,
    once: str | None = None,
) -> dict[str, Any] | None:
    """Record `action` by `who` on `target_type`/`target_id` in the tenant's audit log.

    The one call other features make, after the action succeeded (or, for failures such as a
    wrong password, when it was refused). The tenant is the caller's unless given. With
    `once`, an action reported again under the same key is not recorded twice (None).
    """
    tenant = tenant_id or _tenant_of_actor(who)
    if tenant is None:
        raise ValueError(f"audit: no tenant for {action}")
    return append(
        ctx.store,
        tenant,
        actor_of(who),
        action,
        {"type": target_type, "id": target_id},
        secret=ctx.secret,
        ip=ip,
        details=details,
        once=once,
    )


def public(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An entry as the API shows it (DESIGN.md: `{id, ts, actor, action, target, ip, details}`,
    plus `seq` and the chain's `hash` and `prev_hash`)."""
    return {
        "id": entry["_id"],
        "seq": entry["seq"],
        "ts": entry["ts"],
        "actor": entry["actor"],
        "action": entry["action"],
        "target": entry["target"],
        "ip": entry.get("ip"),
        "details": entry.get("details") or {},
        "hash": entry["hash"],
        "prev_hash": entry["prev_hash"],
    }


# --- reading ------------------------------------------------------------------------------------


def _bound(text: str | None, name: str, *, end: bool) -> datetime | None:
    """A `from`/`to` query value: an ISO date (a `to` date includes that whole day) or date-time."""
    if not text:
        return None
    try:
        if len(text) == 10:
            day = datetime.fromisoformat(text).replace(tzinfo=UTC)
            return day + timedelta(days=1) if end else day
        moment = parse_ts(text)
    except ValueError:
        raise BadRequest(
            f"`{name}` must be an ISO 8601 date (2026-12-03) or date-time "
            f"(2026-12-03T09:30:00Z); got {text!r}."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Filters:
    """What a list keeps: `action` exact or a prefix ending in `.` (`user.`); `actor` an id or
    e-mail; `target` a target id; `from` inclusive and `to` exclusive (a `to` date: that whole day)."""

    action: str | None = None
    actor: str | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def parse(
        cls,
        *,
        action: str | None,
        actor: str | None,
        target: str | None,
        since: str | None,
        until: str | None,
    ) -> Filters:
        return cls(
            action or None,
            (actor or "").strip().lower() or None,
            target or None,
            _bound(since, "from", end=False),
            _bound(until, "to", end=True),
        )

    def keeps(self, entry: Mapping[str, Any]) -> bool:
        if self.action and not (
            entry["action"] == self.action
            or (self.action.endswith(".") and entry["action"].startswith(self.action))
        ):
            return False
        who = entry.get("actor") or {}
        if self.actor and self.actor not in (
            str(who.get("id", "")).lower(),
            str(who.get("email", "")).lower(),
        ):
            return False
        if self.target and (entry.get("target") or {}).get("id") != self.target:
            return False
        ts = parse_ts(entry["ts"])
        return not ((self.since and ts < self.since) or (self.until and ts >= self.until))

    def past(self, entry: Mapping[str, Any]) -> bool:
        """Newest first, is this entry (and so every older one) before `from`?"""
        return self.since is not None and parse_ts(entry["ts"]) < self.since


def matching(
    store: Store, tenant_id: str, filters: Filters, *, before_seq: int | None = None
) -> Iterator[dict[str, Any]]:
    """The tenant's entries that `filters` keep, newest first, below `before_seq`."""
    db = repo.open_db(store, tenant_id)
    if db is None:
        return
    for entry in repo.entries(db, descending=True, before_seq=before_seq):
        if filters.past(entry):
            return
        if filters.keeps(entry):
            yield entry


CSV_COLUMNS = (
    "id",
    "seq",
    "ts",
    "actor_type",
    "actor_id",
    "actor_email",
    "action",
    "target_type",
    "target_id",
    "ip",
    "details",
    "hash",
    "prev_hash",
)


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: one starting like a formula gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_lines(entries: Iterator[dict[str, Any]]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        actor, target = entry.get("actor") or {}, entry.get("target") or {}
        writer.writerow(
            [
                _cell(v)
                for v in (
                    entry["_id"],
                    entry["seq"],
                    entry["ts"],
                    actor.get("type"),
                    actor.get("id"),
                    actor.get("email"),
                    entry["action"],
                    target.get("type"),
                    target.get("id"),
                    entry.get("ip"),
                    json.dumps(entry.get("details") or {}, sort_keys=True, ensure_ascii=False),
                    entry["hash"],
                    entry["prev_hash"],
                )
            ]
        )
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    yield buf.getvalue()


# --- settings and retention ------------------------------------------------------------------


def retention_days(store: Store, tenant_id: str) -> int | None:
    doc = repo.settings(repo.open_db(store, tenant_id))
    days = doc.get("retention_days") if doc else None
    return days if isinstance(days, int) else None


def set_retention_days(store: Store, tenant_id: str, days: int | None) -> dict[str, Any]:
    db = repo.ensure_db(store, tenant_id)

    def attempt() -> dict[str, Any]:
        doc = repo.settings(db) or {
            "_id": repo.SETTINGS_ID,
            "type": "audit_settings",
            "schema_version": SCHEMA_VERSION,
        }
        doc["retention_days"] = days
        return save(db, doc)

    return retry_on_conflict(attempt, busy="The audit settings were being changed; try again.")


def apply_retention(store: Store, secret: str, tenant_id: str, *, now: datetime | None = None) -> int:
    """Remove the tenant's entries older than its retention setting; answer how many.

    The signed checkpoint (the last removed entry's seq and hash) is written before anything is
    removed, so a run stopped half-way leaves entries the checkpoint already covers (skipped by
    verification, removed by the next run), never a gap.
    """
    days = retention_days(store, tenant_id)
    db = repo.open_db(store, tenant_id)
    if days is None or db is None:
        return 0
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    old = []
    for entry in repo.entries(db):
        if parse_ts(entry["ts"]) >= cutoff:
            break
        old.append(entry)
    if not old:
        return 0
    last = old[-1]

    def write_checkpoint() -> dict[str, Any]:
        doc = repo.checkpoint(db) or {
            "_id": repo.CHECKPOINT_ID,
            "type": "audit_checkpoint",
            "schema_version": SCHEMA_VERSION,
        }
        if isinstance(doc.get("seq"), int) and doc["seq"] >= last["seq"]:
            return doc
        doc.update(
            {
                "seq": last["seq"],
                "hash": last["hash"],
                "removed_at": now_iso(now),
                "removed_total": int(doc.get("removed_total", 0)) + len(old),
                "signature": checkpoint_signature(secret, last["seq"], last["hash"]),
            }
        )
        return save(db, doc)

    retry_on_conflict(write_checkpoint, busy="The audit checkpoint was being written; try again.")
    for entry in old:
        db.delete(entry["_id"], entry["_rev"])
    return len(old)


def audit_tenants(store: Store) -> list[str]:
    """Tenants that have an audit log."""
    return tenants_with_db(store, repo.DB_NAME)


def retention_run(ctx: Any) -> dict[str, Any]:
    """The scheduled job: retention for every tenant; one tenant's failure never stops the others."""
    return each_tenant(
        audit_tenants(ctx.store), lambda t: apply_retention(ctx.store, ctx.secret, t), "audit retention"
    )


# --- verification ------------------------------------------------------------------------------


def verify_tenant(store: Store, secret: str, tenant_id: str) -> Verdict:
    """Recompute the tenant's chain from its anchor (genesis, or the signed checkpoint)."""
    db = repo.open_db(store, tenant_id)
    return Verdict(0) if db is None else verify_db(db, secret)


def verify_db(db: Database, secret: str) -> Verdict:
    """Recompute the chain in `db` from its anchor up to its signed head."""
    anchor = anchor_of(repo.checkpoint(db), secret)
    if isinstance(anchor, str):
        return Verdict(0, anchor, None)
    head = head_of(repo.head(db), secret)
    if isinstance(head, str):
        return Verdict(0, head, None)
    if head is None:
        newest = repo.latest_entry(db)
        if newest is not None and int(newest.get("schema_version") or 1) >= 2:
            return Verdict(
                0,
                "the head record is missing: it is written with every entry, so it was deleted "
                "(perhaps with the newest entries)",
                None,
            )
    return verify(repo.entries(db), anchor, head, secret)


def user_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The audit actions an edit of a user made: role, activation and name, each with from/to."""
    found: list[tuple[str, dict[str, Any]]] = []
    if before.get("role") != after.get("role"):
        found.append(("user.role_changed", {"from": before.get("role"), "to": after.get("role")}))
    if before.get("active") != after.get("active"):
        found.append(("user.reactivated" if after.get("active") else "user.deactivated", {}))
    if before.get("display_name") != after.get("display_name"):
        found.append(("user.renamed", {"from": before.get("display_name"), "to": after.get("display_name")}))
    if bool(before.get("reviewer")) != bool(after.get("reviewer")):
        found.append(
            (
                "user.reviewer_changed",
                {"from": bool(before.get("reviewer")), "to": bool(after.get("reviewer"))},
            )
        )
    return found
