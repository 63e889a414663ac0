"""Small helpers over a store `Database` for the server's own documents."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from sync.errors import Conflict, NotFound, PreconditionFailed
from sync.naming import logical_of, physical_name, tenant_of
from sync.quota import TenantQuota
from sync.store import Database, Store

log = logging.getLogger("branchline")

if TYPE_CHECKING:
    from .context import AppContext


def get_or_none(db: Database, docid: str) -> dict[str, Any] | None:
    try:
        return db.get(docid)
    except NotFound:
        return None


def open_tenant_db(store: Store, tenant_id: str, name: str) -> Database | None:
    """The tenant's server-only database `name`, or None before its first document."""
    try:
        return store.db(physical_name(tenant_id, name))
    except NotFound:
        return None


def ensure_tenant_db(store: Store, tenant_id: str, name: str) -> Database:
    """The tenant's server-only database `name`, created on first use."""
    physical = physical_name(tenant_id, name)
    try:
        return store.db(physical)
    except NotFound:
        try:
            return store.create_db(physical)
        except PreconditionFailed:  # another request created it at the same moment
            return store.db(physical)


def tenants_with_db(store: Store, name: str) -> list[str]:
    """Tenants that have a database `name` (sorted)."""
    return sorted(t for n in store.list_dbs() if (t := tenant_of(n)) is not None and logical_of(n) == name)


def each_tenant(tenants: list[str], work: Callable[[str], int], what: str) -> dict[str, Any]:
    """A scheduled job's `work(tenant)` for each tenant, one tenant's failure never stopping
    the others: `{removed: {tenant: n}, failed: [tenant]}` (tenants with 0 left out)."""
    removed: dict[str, int] = {}
    failed: list[str] = []
    for tenant in tenants:
        try:
            count = work(tenant)
        except Exception:
            log.exception("%s failed for tenant %s", what, tenant)
            failed.append(tenant)
            continue
        if count:
            removed[tenant] = count
    return {"removed": removed, "failed": failed}


def save(db: Database, doc: dict[str, Any]) -> dict[str, Any]:
    """Write `doc` (with `_rev` for an update, without for a create) and return it updated.

    A stale `_rev` or an existing id raises Conflict: writes never overwrite blindly.
    """
    res = db.put(doc)
    doc["_rev"] = res["rev"]
    return doc


def check_write_limits(ctx: AppContext, db: Database, doc: dict[str, Any]) -> None:
    """413 when `doc` is over its database's document size limit, or the tenant's storage is
    full: the API's writes of user content follow the same rules as the sync endpoints, so
    neither path is a way around them."""
    ctx.doc_size_limits.check(logical_of(db.name), doc)
    tenant_id = tenant_of(db.name)
    if tenant_id is not None:
        tenant_quota(ctx).check(ctx.store, tenant_id)


def tenant_quota(ctx: AppContext) -> TenantQuota:
    """The one quota tracker of this process (sync and API share its measurements)."""
    return ctx.quota


T = TypeVar("T")


def retry_on_conflict(
    attempt: Callable[[], T],
    *,
    busy: str,
    attempts: int = 5,
    retry_on: tuple[type[Exception], ...] = (Conflict,),
    give_up: Callable[[], T] | None = None,
    backoff_s: float = 0.0,
) -> T:
    """`attempt()` (a read, a change, a `save`), run again while its save conflicts.

    For documents only the server writes: a conflict means another request of ours wrote
    the same document at that moment, so reading it again and reapplying is right. When
    every attempt conflicted, `give_up()` answers if given (for work that may be dropped,
    with `busy` logged as the reason), else `Conflict(busy)` is raised. `retry_on` adds the
    errors of a race with a deletion (NotFound) where the caller expects them.

    `backoff_s` > 0 waits a random time of up to `backoff_s` doubled at each conflict (capped
    at 32 times) before reading again: writers that collided on a hot document (one account
    guessed from many connections at once) then spread out instead of colliding again on
    every attempt until all attempts are spent.
    """
    for i in range(attempts):
        try:
            return attempt()
        except retry_on:
            if backoff_s > 0 and i + 1 < attempts:
                time.sleep(random.uniform(0, backoff_s * (1 << min(i, 5))))
            continue
    if give_up is not None:
        log.warning("%s (after %d conflicting writes)", busy, attempts)
        return give_up()
    raise Conflict(busy)


def by_prefix(
    db: Database, prefix: str, *, limit: int | None = None, startkey: str | None = None
) -> list[dict[str, Any]]:
    """Documents whose id starts with `prefix`, in id order, from `startkey` (exclusive) on."""
    start = prefix if startkey is None else startkey + "\u0000"
    rows = db.all_docs(
        startkey=start, endkey=prefix + "\ufff0", include_docs=True, limit=limit, offset=False
    )["rows"]
    return [r["doc"] for r in rows if r.get("doc")]
