"""The scripts feature's rules for its database over sync (`scripts`, registered at start-up).

Engineers and viewers receive the published copies (`scriptver:`) and the sidecars
(`scriptmeta:`), so they can copy a script with no signal; drafts (`script:`) reach only
authors, admins and owners. Nobody writes over sync: every change is validated and audited
by the API. A replica pushing back a document unchanged is let through, since it only
returns what it received.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sync.access import DatabaseRules, Principal, Role
from sync.errors import Forbidden

from ..attachments.sync_content import same_content
from .service import DATABASE, WRITERS

DRAFT_PREFIX = "script:"


def _not_a_draft(docid: str) -> bool:
    return not docid.startswith(DRAFT_PREFIX)


class ScriptsRules(DatabaseRules):
    database = DATABASE
    writers: tuple[Role, ...] = WRITERS
    waits_only_in_store = True  # pure checks of the document and its stored revision

    def can_read(self, principal: Principal, doc: dict[str, Any]) -> bool:
        return principal.role in WRITERS or _not_a_draft(str(doc.get("_id", "")))

    def read_prefilter(self, principal: Principal) -> Callable[[str], bool] | None:
        return None if principal.role in WRITERS else _not_a_draft

    def reads_everything(self, principal: Principal) -> bool:
        return principal.role in WRITERS

    def readers(self, tenant_id: str, ids: list[str]) -> frozenset[str] | None:
        # Drafts only wake the feeds of callers who read everything (authors and up).
        return None if any(_not_a_draft(i) for i in ids) else frozenset()

    def reshapes_readers(self, docid: str) -> bool:
        return False  # who reads a script depends on that script's id alone

    def check_write(self, principal: Principal, doc: dict[str, Any], current: dict[str, Any] | None) -> None:
        if same_content(doc, current) and not doc.get("_deleted"):
            return
        raise Forbidden(
            f"{doc.get('_id')}: scripts are changed through the API only (POST or PUT "
            "/api/v1/scripts, then POST /api/v1/scripts/{id}/publish), which validates and audits them."
        )
