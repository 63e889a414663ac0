"""Storage of PSA connectors: the tenant's `integrations` database, server only.

- `psacfg:{system}`: a connector's configuration (its secret sealed, `sealing.py`).
- `psastatus:{system}`: its last success and last error, written by the worker, apart from
  the configuration so an admin's save never conflicts with a push being recorded; for
  Autotask also the zone discovered for the API user (`zone: {url, web_url, name, user}`).
- `psapush:{system}:{sid}`: one session's push, the outbox entry and its log in one document.
  One id per session and system, so queueing it twice (a completion seen by two instances,
  a replayed feed, a second click) conflicts instead of pushing twice.
- `psafeed:sessions:{system}`: how far each PSA's auto-push has followed the tenant's `sessions` feed.

Closed to `/sync/` (`SERVER_ONLY_DATABASES` in `sync/access.py`).
"""

from __future__ import annotations

from typing import Any

from sync.store import Database, Store

from ..core.docs import by_prefix, ensure_tenant_db, get_or_none, open_tenant_db

DB_NAME = "integrations"
SCHEMA_VERSION = 1
SYSTEMS = ("connectwise", "autotask")
PUSH_PREFIX = "psapush:"
# Each PSA follows the sessions feed on its own (two PSAs with auto-push each queue every
# completed session). The one shared checkpoint of the ConnectWise-only days is read once as
# ConnectWise's starting point.
LEGACY_FEED_ID = "psafeed:sessions"


def feed_id(system: str) -> str:
    return f"psafeed:sessions:{system}"


def feed_checkpoint(db: Database, system: str) -> dict[str, Any] | None:
    """How far `system`'s auto-push has followed the sessions feed (None: it never started)."""
    found = get_or_none(db, feed_id(system))
    if found is None and system == "connectwise":
        legacy = get_or_none(db, LEGACY_FEED_ID)
        if legacy is not None:
            found = {"_id": feed_id(system), "type": "psa_feed", "since": legacy.get("since", 0)}
            for key in ("schema_version",):
                if key in legacy:
                    found[key] = legacy[key]
    return found


def open_db(store: Store, tenant_id: str) -> Database | None:
    return open_tenant_db(store, tenant_id, DB_NAME)


def ensure_db(store: Store, tenant_id: str) -> Database:
    return ensure_tenant_db(store, tenant_id, DB_NAME)


def config_id(system: str) -> str:
    return f"psacfg:{system}"


def status_id(system: str) -> str:
    return f"psastatus:{system}"


def push_id(system: str, sid: str) -> str:
    return f"{PUSH_PREFIX}{system}:{sid}"


def config(db: Database | None, system: str) -> dict[str, Any] | None:
    return get_or_none(db, config_id(system)) if db is not None else None


def status(db: Database | None, system: str) -> dict[str, Any]:
    found = get_or_none(db, status_id(system)) if db is not None else None
    return found or {
        "_id": status_id(system),
        "type": "psa_status",
        "schema_version": SCHEMA_VERSION,
        "system": system,
    }


def pushes(db: Database | None, system: str | None = None) -> list[dict[str, Any]]:
    if db is None:
        return []
    return by_prefix(db, PUSH_PREFIX + (f"{system}:" if system else ""))
