"""The trees feature's rules for its database over sync (`trees`, registered at start-up).

Every role reads the library; owners, admins and authors write drafts (`tree:` documents,
which must have a tree's shape). Published versions are immutable and the sidecars hold the
server's own bookkeeping, so nobody writes those over sync: the server writes them through
the store directly. A replica pushing one back unchanged is let through, since it only
returns what it received.
"""

from __future__ import annotations

from typing import Any

from sync.access import DatabaseRules, Principal, Role
from sync.errors import BranchlineError, Forbidden

from ..attachments.sync_content import check_attachment_content, same_content
from .service import check_shape

# Documents only the server writes: published versions, tree metadata, starter offers,
# suggestion marks and publish reviews.
SERVER_ONLY_PREFIXES = ("treever:", "treemeta:", "treestarter:", "treesug:", "treereview:")


class TreesRules(DatabaseRules):
    database = "trees"
    writers: tuple[Role, ...] = ("owner", "admin", "author")
    waits_only_in_store = True  # pure checks of the document and its stored revision

    def check_write(self, principal: Principal, doc: dict[str, Any], current: dict[str, Any] | None) -> None:
        docid = doc.get("_id")
        docid = docid if isinstance(docid, str) else ""
        if docid.startswith(SERVER_ONLY_PREFIXES):
            if same_content(doc, current) and not doc.get("_deleted"):
                return  # a replica pushing back the server's own revision unchanged
            raise Forbidden(
                f"{docid} is written by the server only (published versions and "
                "tree metadata); publish with POST /api/v1/trees/{id}/publish."
            )
        if doc.get("_deleted"):
            return
        check_attachment_content(docid, doc.get("_attachments"))
        if docid.startswith("tree:"):
            try:
                check_shape(doc)
            except BranchlineError as exc:
                raise Forbidden(f"{docid}: {exc.reason}") from None
