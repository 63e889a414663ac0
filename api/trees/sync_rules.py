"""The trees feature's rules for its database over sync (`trees`, registered at start-up).

Every role reads the library, except the trees scoped to teams the reader is not in
(api/teams/scopes.py): those, with their versions and sidecars, are left out of every
answer, and fetching one is refused. Owners, admins and authors write drafts (`tree:`
documents, which must have a tree's shape); an author only of trees open to them for "edit".
Published versions are immutable and the sidecars hold the server's own bookkeeping, so
nobody writes those over sync: the server writes them through the store directly. A
replica pushing one back unchanged is let through, since it only returns what it received.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sync.access import DatabaseRules, Principal, Role
from sync.errors import BranchlineError, Forbidden
from sync.nonblocking import ensure_may_block

from ..attachments.sync_content import check_attachment_content, same_content
from ..core.docs import get_or_none
from ..teams import scopes
from .service import check_shape, touch_edited, trees_db

# Documents only the server writes: published versions, tree metadata, starter offers,
# suggestion marks and publish reviews.
SERVER_ONLY_PREFIXES = ("treever:", "treemeta:", "treestarter:", "treesug:", "treereview:")
# Drafts this request wrote, by id: the winning revision before the write (None for a new
# draft). Whoever changes which revision wins made the draft as it now is.
_EDITS_KEY = "trees.draft_edits"
# Per request: the trees the caller may not read (computed once, from the scoping caches).
_HIDDEN_KEY = "trees.hidden"


class TreesRules(DatabaseRules):
    database = "trees"
    writers: tuple[Role, ...] = ("owner", "admin", "author")
    # Pure checks of the document and its stored revision; a draft edit is sent to a worker
    # thread first (`ensure_may_block`), as `written` records its editor: a second write.
    waits_only_in_store = True

    def __init__(self, ctx: Any = None) -> None:
        self.ctx = ctx

    # --- reads: team-scoped trees ----------------------------------------------------------
    def _hidden(self, principal: Principal) -> frozenset[str]:
        if principal.is_admin or self.ctx is None:
            return frozenset()
        hidden = principal.extra.get(_HIDDEN_KEY)
        if hidden is None:
            hidden = principal.extra[_HIDDEN_KEY] = scopes.scopes_of(self.ctx).hidden(principal)
        return hidden

    def reads_everything(self, principal: Principal) -> bool:
        return not self._hidden(principal)

    def can_read(self, principal: Principal, doc: dict[str, Any]) -> bool:
        docid = doc.get("_id")
        return self.may_read_id(principal, docid if isinstance(docid, str) else "")

    def may_read_id(self, principal: Principal, docid: str) -> bool:
        hidden = self._hidden(principal)
        return not hidden or scopes.tree_id_of(docid) not in hidden

    def read_prefilter(self, principal: Principal) -> Callable[[str], bool] | None:
        hidden = self._hidden(principal)
        if not hidden:
            return None
        return lambda docid: scopes.tree_id_of(docid) not in hidden

    def extra_changes_ids(self, principal: Principal, since: Any) -> set[str]:
        """The documents of trees the caller may read now but not at `since` (a team they
        joined, a tree whose teams changed), whose last change a feed from `since` would
        not send again."""
        number = scopes.since_number(since)
        if principal.is_admin or self.ctx is None or number <= 0:
            return set()
        view = scopes.scopes_of(self.ctx).view(principal)
        trees = scopes.readable_since(principal, *view, number)
        if not trees:
            return set()
        db = trees_db(self.ctx, principal.tenant_id)
        ids = scopes.ids_of_trees(db, trees)
        rows = db.changes(since=0, doc_ids=sorted(ids))["results"] if ids else []
        return {r["id"] for r in rows if (scopes.since_number(r.get("seq")) or 0) <= number}

    # --- writes -------------------------------------------------------------------------------
    def check_write(self, principal: Principal, doc: dict[str, Any], current: dict[str, Any] | None) -> None:
        docid = doc.get("_id")
        docid = docid if isinstance(docid, str) else ""
        tree_id = scopes.tree_id_of(docid)
        if tree_id is not None and self.ctx is not None and not principal.is_admin:
            perms = scopes.scopes_of(self.ctx).permissions(principal, tree_id)
            if not perms:
                raise Forbidden(f"{docid}: {tree_id} belongs to teams you are not in.")
            if docid.startswith("tree:") and "edit" not in perms and not same_content(doc, current):
                raise Forbidden(
                    f"{docid}: your teams may not edit {tree_id}; ask an owner or admin for the "
                    "'edit' permission on one of its teams."
                )
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
