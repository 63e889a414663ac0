"""Reading documents: one by id, open revisions, `_bulk_get`, `_revs_diff`, `_all_docs`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import orjson

from .. import revtree
from ..errors import BadRequest, BranchlineError
from ..store import Doc
from ..store_args import check_all_docs, check_bulk_get, check_open_revs, check_revs_diff, keys_window
from .docs import _not_found
from .local_docs import _LocalDocs


class _Reads(_LocalDocs):
    """Document reads."""

    def get(
        self,
        docid: str,
        *,
        rev: str | None = None,
        revs: bool = False,
        revs_info: bool = False,
        conflicts: bool = False,
        deleted_conflicts: bool = False,
        attachments: bool = False,
        atts_since: list[str] | None = None,
        latest: bool = False,
        local_seq: bool = False,
    ) -> Doc:
        """The winning revision (or `rev`). Raises NotFound (`missing` or `deleted`)."""
        if isinstance(docid, str) and docid.startswith("_local/"):
            return self.get_local(docid)
        with self._reading():
            row = self._row(docid) if isinstance(docid, str) else None
            return self._get_from(
                docid,
                row,
                self._body,
                rev=rev,
                revs=revs,
                revs_info=revs_info,
                conflicts=conflicts,
                deleted_conflicts=deleted_conflicts,
                attachments=attachments,
                atts_since=atts_since,
                latest=latest,
                local_seq=local_seq,
            )

    def _get_from(
        self,
        docid: str,
        row: tuple[revtree.Tree, str, bool, int] | None,
        body_of: Callable[[str, str], Doc | None],
        *,
        rev: str | None,
        revs: bool,
        revs_info: bool,
        conflicts: bool,
        deleted_conflicts: bool,
        attachments: bool,
        atts_since: list[str] | None,
        latest: bool,
        local_seq: bool,
    ) -> Doc:
        """`get` on a row already read (`body_of` reads a revision's body); lock held."""
        if row is None:
            raise _not_found("missing")
        tree, winner, deleted, seq = row
        if rev is None:
            if deleted:
                raise _not_found("deleted")
            target = winner
        else:
            revtree.parse_rev(rev)
            if rev not in tree:
                raise _not_found("missing")
            target = rev
            if latest:
                target = (revtree.descendant_leaves(tree, rev) or [rev])[0]
        body = body_of(docid, target)
        if body is None:
            raise _not_found("missing")
        return self._render(
            docid,
            target,
            tree,
            body,
            revs=revs,
            revs_info=revs_info,
            conflicts=conflicts,
            deleted_conflicts=deleted_conflicts,
            attachments=attachments,
            atts_since=atts_since,
            winner=winner,
            seq=seq if local_seq else None,
        )

    def get_open_revs(
        self,
        docid: str,
        open_revs: list[str] | Literal["all"],
        *,
        revs: bool = False,
        attachments: bool = False,
        atts_since: list[str] | None = None,
        latest: bool = False,
    ) -> list[Doc]:
        """`open_revs`: a list of `{"ok": doc}` or `{"missing": rev}` entries."""
        with self._reading():
            row = self._row(docid) if isinstance(docid, str) else None
            return self._open_revs_from(
                docid,
                row,
                self._body,
                open_revs,
                revs=revs,
                attachments=attachments,
                atts_since=atts_since,
                latest=latest,
            )

    def _open_revs_from(
        self,
        docid: str,
        row: tuple[revtree.Tree, str, bool, int] | None,
        body_of: Callable[[str, str], Doc | None],
        open_revs: list[str] | Literal["all"],
        *,
        revs: bool,
        attachments: bool,
        atts_since: list[str] | None,
        latest: bool,
    ) -> list[Doc]:
        """`get_open_revs` on a row already read; lock held."""
        check_open_revs(open_revs)
        if open_revs == "all":
            if row is None:
                raise _not_found("missing")
            wanted = revtree.leaves(row[0])
        else:
            for r in open_revs:
                revtree.parse_rev(r)
            wanted = list(open_revs)
        out: list[Doc] = []
        seen: set[str] = set()
        for r in wanted:
            if row is None or r not in row[0]:
                out.append({"missing": r})
                continue
            tree = row[0]
            targets = revtree.descendant_leaves(tree, r) if latest else [r]
            for t in targets or [r]:
                if t in seen:
                    continue
                seen.add(t)
                body = body_of(docid, t)
                if body is None:
                    out.append({"missing": t})
                    continue
                out.append(
                    {
                        "ok": self._render(
                            docid, t, tree, body, revs=revs, attachments=attachments, atts_since=atts_since
                        )
                    }
                )
        return out

    def bulk_get(
        self, requests: list[Doc], *, revs: bool = False, attachments: bool = False, latest: bool = False
    ) -> list[Doc]:
        """`_bulk_get` results: `[{"id", "docs": [{"ok": doc} | {"error": {...}}]}]`."""
        check_bulk_get(requests)
        out = []
        with self._reading():
            # Every tree and leaf body the batch needs, in two statements instead of two
            # per document (a replicator asks for 100 documents at a time).
            ids = [
                r["id"]
                for r in requests
                if isinstance(r, dict)
                and isinstance(r.get("id"), str)
                and r["id"]
                and not r["id"].startswith("_local/")
            ]
            rows, bodies = self._load_rows(ids)

            def body_of(docid: str, rev: str) -> Doc | None:
                raw = bodies.get((docid, rev))
                if raw is None:  # not a leaf: an old body, if not compacted yet
                    return self._body(docid, rev)
                loaded: Doc = orjson.loads(raw)
                return loaded

            for req in requests:
                docid = req.get("id") if isinstance(req, dict) else None
                rev = req.get("rev") if isinstance(req, dict) else None
                atts_since = req.get("atts_since") if isinstance(req, dict) else None

                def error(err: str, reason: str, r: Any = rev, d: Any = docid) -> Doc:
                    return {"error": {"id": d, "rev": r, "error": err, "reason": reason}}

                if not isinstance(docid, str) or not docid:
                    out.append({"id": docid, "docs": [error("bad_request", "Each request needs an id.")]})
                    continue
                row = rows.get(docid)
                if isinstance(rev, str) and row is not None and not attachments and atts_since is None:
                    # The replicator's request, answered without the general machinery:
                    # one stored leaf revision (only leaves keep bodies) with no
                    # attachments. Anything else takes the general path below.
                    tree = row[0]
                    node = tree.get(rev)
                    raw = bodies.get((docid, rev))
                    if (
                        node is not None
                        and raw is not None
                        and b'"_attachments"' not in raw
                        and (not latest or len(tree) == 1 or revtree.is_leaf(tree, rev))
                    ):
                        doc: Doc = {"_id": docid, "_rev": rev}
                        doc.update(orjson.loads(raw))
                        if node[1]:
                            doc["_deleted"] = True
                        if revs:
                            doc["_revisions"] = revtree.revisions(tree, rev)
                        out.append({"id": docid, "docs": [{"ok": doc}]})
                        continue
                try:
                    if rev is None and docid.startswith("_local/"):
                        docs = [
                            {"ok": self.get(docid, revs=revs, attachments=attachments, atts_since=atts_since)}
                        ]
                    elif rev is None:
                        docs = [
                            {
                                "ok": self._get_from(
                                    docid,
                                    row,
                                    body_of,
                                    rev=None,
                                    revs=revs,
                                    revs_info=False,
                                    conflicts=False,
                                    deleted_conflicts=False,
                                    attachments=attachments,
                                    atts_since=atts_since,
                                    latest=False,
                                    local_seq=False,
                                )
                            }
                        ]
                    else:
                        docs = []
                        for entry in self._open_revs_from(
                            docid,
                            row,
                            body_of,
                            [rev],
                            revs=revs,
                            attachments=attachments,
                            atts_since=atts_since,
                            latest=latest,
                        ):
                            if "missing" in entry:
                                docs.append(error("not_found", "missing", entry["missing"]))
                            else:
                                docs.append(entry)
                except BranchlineError as exc:
                    docs = [error(exc.error, exc.reason)]
                out.append({"id": docid, "docs": docs})
        return out

    def revs_diff(self, revs: dict[str, list[str]]) -> dict[str, Doc]:
        """`{id: {"missing": [...], "possible_ancestors": [...]}}` for ids with missing revs."""
        check_revs_diff(revs)
        out: dict[str, Doc] = {}
        with self._reading():
            states = self._load_states(revs.keys())
            for docid, wanted in revs.items():
                if not isinstance(wanted, list):
                    raise BadRequest(f"_revs_diff: revs of {docid!r} must be a list.")
                tree = states[docid].tree
                missing = [r for r in dict.fromkeys(wanted) if r not in tree]
                if not missing:
                    continue
                entry: Doc = {"missing": missing}
                positions = []
                for r in missing:
                    try:
                        positions.append(revtree.parse_rev(r)[0])
                    except BadRequest:
                        pass
                if tree and positions:
                    top = max(positions)
                    ancestors = [leaf for leaf in revtree.leaves(tree) if revtree.rev_pos(leaf) < top]
                    if ancestors:
                        entry["possible_ancestors"] = ancestors
                out[docid] = entry
        return out

    def all_docs(
        self,
        *,
        keys: list[str] | None = None,
        startkey: str | None = None,
        endkey: str | None = None,
        inclusive_end: bool = True,
        limit: int | None = None,
        skip: int = 0,
        descending: bool = False,
        include_docs: bool = False,
        conflicts: bool = False,
        attachments: bool = False,
        update_seq: bool = False,
        offset: bool = True,
    ) -> Doc:
        """`{"total_rows", "offset", "rows": [{"id", "key", "value": {"rev"}, "doc"?}]}` (see
        `Database.all_docs` for `offset`)."""
        check_all_docs(limit, skip)
        with self._reading() as conn:
            total = int(self._meta("doc_count"))
            rows: list[Doc] = []
            if keys is not None:
                ordered = keys_window(keys, skip=skip, limit=limit, descending=descending)
                states = self._load_states(k for k in ordered if isinstance(k, str))
                for key in ordered:
                    state = states.get(key) if isinstance(key, str) else None
                    if state is None or not state.tree:
                        rows.append({"key": key, "error": "not_found"})
                        continue
                    row: Doc = {"id": key, "key": key, "value": {"rev": state.winner}}
                    if state.deleted:
                        row["value"]["deleted"] = True
                        if include_docs:
                            row["doc"] = None
                    elif include_docs and state.winner is not None:
                        row["doc"] = self._winner_doc(
                            state.id, state.tree, state.winner, conflicts, attachments
                        )
                    rows.append(row)
                first: int | None = 0
            else:
                where: list[str] = ["deleted = 0"]
                params: list[Any] = []
                lo_op, hi_op = (">=", "<=" if inclusive_end else "<")
                if descending:
                    if startkey is not None:
                        where.append("id <= ?")
                        params.append(startkey)
                    if endkey is not None:
                        where.append("id >= ?" if inclusive_end else "id > ?")
                        params.append(endkey)
                else:
                    if startkey is not None:
                        where.append(f"id {lo_op} ?")
                        params.append(startkey)
                    if endkey is not None:
                        where.append(f"id {hi_op} ?")
                        params.append(endkey)
                order = "DESC" if descending else "ASC"
                sql = (
                    "SELECT d.id, d.winner, d.tree, b.body FROM docs d "
                    "LEFT JOIN bodies b ON b.id = d.id AND b.rev = d.winner "
                    if include_docs
                    else "SELECT d.id, d.winner, NULL, NULL FROM docs d "
                )
                sql += "WHERE " + " AND ".join(f"d.{w}" for w in where)
                sql += f" ORDER BY d.id {order} LIMIT ? OFFSET ?"
                params += [-1 if limit is None else limit, skip]
                for docid, winner, tree_blob, body_blob in conn.execute(sql, params):
                    row = {"id": docid, "key": docid, "value": {"rev": winner}}
                    if include_docs:
                        tree = revtree.loads(tree_blob)
                        body = orjson.loads(body_blob) if body_blob else {}
                        row["doc"] = self._render(
                            docid,
                            winner,
                            tree,
                            body,
                            conflicts=conflicts,
                            attachments=attachments,
                            winner=winner,
                        )
                    rows.append(row)
                if not offset:
                    first = None
                elif startkey is None:
                    first = min(skip, total)
                else:
                    # SQLite keeps no counts in its index: this walks every id before startkey.
                    cmp = ">" if descending else "<"
                    before = conn.execute(
                        f"SELECT COUNT(*) FROM docs WHERE deleted = 0 AND id {cmp} ?", (startkey,)
                    ).fetchone()[0]
                    first = min(before + skip, total)
            out: Doc = {"total_rows": total, "offset": first, "rows": rows}
            if update_seq:
                out["update_seq"] = int(self._meta("update_seq"))
            return out

    def _winner_doc(
        self, docid: str, tree: revtree.Tree, winner: str, conflicts: bool, attachments: bool
    ) -> Doc | None:
        body = self._body(docid, winner)
        if body is None:
            return None
        return self._render(
            docid, winner, tree, body, conflicts=conflicts, attachments=attachments, winner=winner
        )
