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
from sync.nonblocking import ensure_may_block

from ..attachments.sync_content import check_attachment_content, same_content
from ..core.docs import get_or_none
from .service import check_shape, touch_edited, trees_db

# Documents only the server writes: published versions, tree metadata, starter offers,
# suggestion marks and publish reviews.
SERVER_ONLY_PREFIXES = ("treever:", "treemeta:", "treestarter:", "treesug:", "treereview:")
# Drafts this request wrote, by id: the winning revision before the write (None for a new
# draft). Whoever changes which revision wins made the draft as it now is.
_EDITS_KEY = "trees.draft_edits"


class TreesRules(DatabaseRules):
    database = "trees"
    writers: tuple[Role, ...] = ("owner", "admin", "author")
    # Pure checks of the document and its stored revision; a draft edit is sent to a worker
    # thread first (`ensure_may_block`), as `written` records its editor: a second write.
    waits_only_in_store = True

    def __init__(self, ctx: Any = None) -> None:
        self.ctx = ctx

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
            if docid.startswith("tree:"):
                # Deleting the winning revision of a draft with conflicts promotes another
                # branch: an edit like any other, whose maker a review must know.
                self._note_edit(principal, docid, doc, current)
            return
        check_attachment_content(docid, doc.get("_attachments"))
        if docid.startswith("tree:"):
            try:
                check_shape(doc)
            except BranchlineError as exc:
                raise Forbidden(f"{docid}: {exc.reason}") from None
            self._note_edit(principal, docid, doc, current)

    def _note_edit(
        self, principal: Principal, docid: str, doc: dict[str, Any], current: dict[str, Any] | None
    ) -> None:
        """Remember a draft write, so `written` records who made the revision that wins after
        it: a publish review must not be approved by the draft's last editor, whichever way
        the edit came (an edit, a replicated revision, a tombstone promoting a conflict)."""
        if self.ctx is None:
            return
        parent = (current or {}).get("_rev")
        if doc.get("_rev") == parent and same_content(doc, current) and not doc.get("_deleted"):
            return  # a replica pushing the stored revision back: nobody edited anything
        ensure_may_block()
        principal.extra.setdefault(_EDITS_KEY, {}).setdefault(docid, parent)

    def written(self, principal: Principal, ids: list[str]) -> None:
        pending = principal.extra.get(_EDITS_KEY)
        if not pending or self.ctx is None:
            return
        db = trees_db(self.ctx, principal.tenant_id)
        for docid in ids:
            if docid not in pending:
                continue
            before = pending.pop(docid)
            stored = get_or_none(db, docid)
            if stored is None or stored["_rev"] == before:
                # Deleted outright, or the same revision still wins (a replicated revision or a
                # tombstone on a losing branch): the draft's last editor is unchanged.
                continue
            touch_edited(db, docid, principal, stored["_rev"])
