"""The instance's own audit log: what happens to no tenant, read by the operator.

A sign-in with an e-mail no account has belongs to no tenant, so it cannot go into a
tenant's log; it goes here, into `branchline_audit`, with the same chain, head and
verification as a tenant's (`service.append_to`, `service.verify_db`). Only the server
writes it and nothing serves it over HTTP: the operator reads it with `branchline audit
instance` and checks it with `branchline audit verify`.

What is kept of the e-mail typed: people type a password into the e-mail field often
enough, so no part of the text is stored, not even what follows an `@` ("Summer@Home.lan" is a
password). An entry keeps whether the text reads as an e-mail address and a tag of the whole
normalized text: an HMAC under a key derived from the server's secret, so the log alone gives
no way to guess what was typed, while an operator who asks "was alice@contoso.com tried?"
can (`--email`, which computes the same tag).

Bounded under a flood: failures are counted per client address and hour in `tally:`
documents, and an entry is written only at the 1st, 2nd, 4th, 8th... failure of that
address in that hour, each saying how many it has seen. An address never costs more than
a few entries an hour, and past MAX_ADDRESSES_PER_WINDOW addresses in one hour the rest are
counted together under `*`. The tallies of past hours are removed as new hours start.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sync.errors import Conflict, NotFound, PreconditionFailed
from sync.store import Database, Store

from ..core.docs import get_or_none, retry_on_conflict, save
from . import repository as repo, service

DB_NAME = "branchline_audit"
LOCK_KEY = "@instance"
WINDOW_S = 3600
MAX_ADDRESSES_PER_WINDOW = 200
OTHERS = "*"
TALLY_PREFIX = "tally:"
SWEEP_LIMIT = 200
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})+$")


def open_db(store: Store) -> Database | None:
    """The instance's audit database, or None before its first entry."""
    try:
        return store.db(DB_NAME)
    except NotFound:
        return None


def ensure_db(store: Store) -> Database:
    try:
        db = store.db(DB_NAME)
    except NotFound:
        try:
            db = store.create_db(DB_NAME)
        except PreconditionFailed:  # another request created it at the same moment
            db = store.db(DB_NAME)
    return repo.short_history(db)


# --- pure rules --------------------------------------------------------------------------------


def email_tag(secret: str, email: str) -> str:
    """A keyed tag of what was typed as the e-mail: equal texts, equal tags; no way back."""
    key = hmac.new(secret.encode("utf-8"), b"branchline audit e-mail tag", hashlib.sha256).digest()
    return hmac.new(key, email.encode("utf-8"), hashlib.sha256).hexdigest()[:20]


def reads_as_email(email: str) -> bool:
    """Whether the text has an e-mail address's shape (something, `@`, a domain name)."""
    local, at, domain = email.rpartition("@")
    return bool(at and local and _DOMAIN.match(domain))


def worth_an_entry(count: int) -> bool:
    """The 1st, 2nd, 4th, 8th... failure of an address in a window gets an entry."""
    return count > 0 and count & (count - 1) == 0


def window_of(now: float) -> int:
    return int(now) // WINDOW_S * WINDOW_S


def _tally_id(window: int, who: str) -> str:
    return f"{TALLY_PREFIX}{window:012d}:{who}"


# --- recording ---------------------------------------------------------------------------------


def _count(db: Database, window: int, address: str) -> tuple[str, int]:
    """Count one failure of `address` in `window`: (whom it was counted for, the new count)."""
    who = address
    if get_or_none(db, _tally_id(window, who)) is None:
        prefix = _tally_id(window, "")
        rows = db.all_docs(
            startkey=prefix, endkey=prefix + "\ufff0", limit=MAX_ADDRESSES_PER_WINDOW + 1, offset=False
        )["rows"]
        if len(rows) >= MAX_ADDRESSES_PER_WINDOW:
            who = OTHERS
        if not rows:
            _sweep(db, window)

    def attempt() -> int:
        doc = get_or_none(db, _tally_id(window, who)) or {
            "_id": _tally_id(window, who),
            "type": "audit_tally",
            "window": window,
            "address": who,
            "count": 0,
        }
        doc["count"] = int(doc["count"]) + 1
        save(db, doc)
        return int(doc["count"])

    return who, retry_on_conflict(attempt, busy="Failed sign-ins are being counted; try again.", attempts=20)


def _sweep(db: Database, window: int) -> None:
    """Remove the tallies of hours before `window` (a bounded batch: the next hour goes on)."""
    rows = db.all_docs(startkey=TALLY_PREFIX, endkey=_tally_id(window, ""), limit=SWEEP_LIMIT, offset=False)[
        "rows"
    ]
    for row in rows:
        try:
            db.delete(row["id"], row["value"]["rev"])
        except (Conflict, NotFound):
            pass  # another instance swept it


def sign_in_failed(
    ctx: Any, email: str, address: str | None, *, now: float | None = None
) -> dict[str, Any] | None:
    """Count a failed sign-in for an e-mail no account has; the entry, when this one gets one."""
    moment = time.time() if now is None else now
    window = window_of(moment)
    db = ensure_db(ctx.store)
    who, count = _count(db, window, address or "unknown")
    if not worth_an_entry(count):
        return None
    tag = email_tag(ctx.secret, email)
    return service.append_to(
        db,
        ctx.secret,
        LOCK_KEY,
        {"type": "anonymous", "id": address or "unknown"},
        "auth.sign_in_failed",
        {"type": "email", "id": tag},
        ip=address,
        details={
            "reason": "unknown_email",
            "reads_as_email": reads_as_email(email),
            "email_tag": tag,
            "counted_for": "this address" if who != OTHERS else "every address past the hour's limit",
            "count": count,
            "window": {
                "from": service.now_iso(datetime.fromtimestamp(window, UTC)),
                "to": service.now_iso(datetime.fromtimestamp(window + WINDOW_S, UTC)),
            },
        },
        at=datetime.fromtimestamp(moment, UTC),
    )


# --- reading -----------------------------------------------------------------------------------


def entries(store: Store, secret: str, *, email: str | None = None) -> Iterator[dict[str, Any]]:
    """The instance's entries, newest first; with `email`, those of that typed text only."""
    db = open_db(store)
    if db is None:
        return
    tag = email_tag(secret, email) if email is not None else None
    for entry in repo.entries(db, descending=True):
        if tag is None or (entry.get("target") or {}).get("id") == tag:
            yield entry


def line(entry: dict[str, Any]) -> str:
    """One entry as the command line prints it."""
    d = entry.get("details") or {}
    window = d.get("window") or {}
    shape = "an e-mail address" if d.get("reads_as_email") else "(not an e-mail address)"
    return (
        f"{entry['ts']}  #{entry['seq']}  {entry['action']}  from {entry.get('ip') or 'unknown'}  "
        f"typed {shape}, tag {d.get('email_tag')}  "
        f"failure {d.get('count')} of {d.get('counted_for')} in {window.get('from')} to {window.get('to')}"
    )
