"""The application context: settings, the store and the signing secret, made once at startup."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sync.naming import SYSTEM_DB
from sync.private_files import private_dir, restrict_umask
from sync.store import Database, Store

from ..settings import Settings


def open_store(settings: Settings) -> Store:
    """The store backend chosen by settings (one place, so features never pick one)."""
    if settings.backend == "couchdb":
        from sync.couchdb import CouchStore  # noqa: PLC0415  (optional backend)

        return CouchStore(settings.couchdb_url, settings.couchdb_user, settings.couchdb_password)
    from sync.embedded import EmbeddedStore  # noqa: PLC0415

    return EmbeddedStore(settings.data_dir, max_open=settings.store_max_open,
                         cache_kb=settings.store_cache_kb, readers=settings.store_readers,
                         compact_seconds=settings.store_compact_seconds)


@dataclass
class AppContext:
    settings: Settings
    store: Store
    secret: str
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def system(self) -> Database:
        return self.store.db(SYSTEM_DB)

    @classmethod
    def create(cls, settings: Settings) -> "AppContext":
        restrict_umask()
        secret = settings.resolve_secret()
        private_dir(settings.data_dir)
        store = open_store(settings)
        if not store.db_exists(SYSTEM_DB):
            store.create_db(SYSTEM_DB)
        return cls(settings=settings, store=store, secret=secret)
