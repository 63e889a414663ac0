"""What the sync handlers share: one authenticated request (`Ctx`), and what the feeds need
from the handlers (`FeedHost`). Both `sync/http.py` and `sync/http_changes.py` import this
module, and neither imports the other's internals through it, so dependencies point one way:
http -> http_changes -> http_context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from fastapi import Request

from .access import AccessPolicy, DbAction, Principal
from .http_params import Query
from .longpoll import ChangeNotifier
from .store import Database, Store

if TYPE_CHECKING:
    from .js.designs import DesignFunctions


@dataclass
class Ctx:
    """One authenticated request."""

    request: Request
    tenant_id: str
    principal: Principal
    store: Store
    query: Query
    body: bytes

    def header(self, name: str) -> str | None:
        return self.request.headers.get(name)


class FeedHost(Protocol):
    """The parts of the sync handlers (`sync.http.SyncApi`) a `_changes` feed uses."""

    policy: AccessPolicy
    notifier: ChangeNotifier
    filters_reads: bool
    js: DesignFunctions

    def open_db(self, ctx: Ctx, name: str, action: DbAction) -> Database: ...

    def reads_all(self, ctx: Ctx, db: str) -> bool: ...

    def security_object(self, dbobj: Database) -> dict[str, Any]: ...

    def readable(self, ctx: Ctx, db: str, doc: dict[str, Any] | None) -> bool: ...

    def _authenticate(self, request: Request, tenant_id: str) -> Principal: ...

    def _authenticate_cached(self, request: Request, tenant_id: str) -> Principal | None: ...

    def may_inline(self, db: str) -> bool: ...

    def run_inline(self, fn: Callable[..., Any], *args: Any) -> tuple[bool, Any]: ...
