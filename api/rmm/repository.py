"""Storage of RMM connectors and script runs: the tenant's `integrations` database (server
only, closed to `/sync/` like the PSA documents beside them).

- `rmmcfg:{system}`: a connector's configuration, its secret sealed (`core/sealing.py`).
- `rmmstatus:{system}`: its last success, last error and last connection test, written apart
  from the configuration so an admin's save never conflicts with a run being recorded.
- `rmmrun:{run_id}`: one script run, the outbox entry and its log in one document. The id is
  the request's id when the device sent one, so a request sent twice makes one run.
"""

from __future__ import annotations

from typing import Any

from sync.store import Database, Store

from ..core.docs import by_prefix, ensure_tenant_db, get_or_none, open_tenant_db

DB_NAME = "integrations"
SCHEMA_VERSION = 1
SYSTEMS = ("ninjaone", "datto")
RUN_PREFIX = "rmmrun:"


def open_db(store: Store, tenant_id: str) -> Database | None:
    return open_tenant_db(store, tenant_id, DB_NAME)


def ensure_db(store: Store, tenant_id: str) -> Database:
    return ensure_tenant_db(store, tenant_id, DB_NAME)


def config_id(system: str) -> str:
    return f"rmmcfg:{system}"


def status_id(system: str) -> str:
    return f"rmmstatus:{system}"


def run_id(value: str) -> str:
    return f"{RUN_PREFIX}{value}"


def config(db: Database | None, system: str) -> dict[str, Any] | None:
    return get_or_none(db, config_id(system)) if db is not None else None


def status(db: Database | None, system: str) -> dict[str, Any]:
    found = get_or_none(db, status_id(system)) if db is not None else None
    return found or {
        "_id": status_id(system),
        "type": "rmm_status",
        "schema_version": SCHEMA_VERSION,
        "system": system,
    }


def run(db: Database | None, value: str) -> dict[str, Any] | None:
    return get_or_none(db, run_id(value)) if db is not None else None


def runs(db: Database | None) -> list[dict[str, Any]]:
    return by_prefix(db, RUN_PREFIX) if db is not None else []
