"""The `_changes` feed: one row per document, at its latest seq."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal

import orjson

from .. import revtree
from ..mango import compile_selector
from ..seq import parse_since
from ..store import Candidates, Doc, Seq
from ..store_args import check_changes
from .core import _Core
from .schema import _CHUNK


class _Changes(_Core):
    """The changes feed."""

    def changes(
        self,
        *,
        since: Seq = 0,
        limit: int | None = None,
        descending: bool = False,
        style: Literal["main_only", "all_docs"] = "main_only",
        include_docs: bool = False,
        conflicts: bool = False,
        attachments: bool = False,
        doc_ids: Iterable[str] | None = None,
        selector: Doc | None = None,
        keep: Callable[[str], bool] | None = None,
        pending: bool = True,
        candidates: Candidates | None = None,
    ) -> Doc:
        """`{"results": [{"seq", "id", "changes", "deleted"?, "doc"?}], "last_seq", "pending"}`.

        One row per document, at its latest seq. With a filter (`doc_ids`, `selector`,
        `keep`) and no `limit` cut, `last_seq` is the current update_seq, so a client does
        not rescan the changes it was not sent. `pending=False` (see `Database.changes`):
        a cut page answers `pending: None`. `candidates`: see `Database.changes`.
        """
        ids = check_changes(style, limit, doc_ids)
        match = compile_selector(selector) if selector is not None else None
        id_filter = None if ids is None else set(ids)
        need_body = include_docs or match is not None
        need_tree = need_body or style == "all_docs"  # main_only rows need only the winner
        with self._reading() as conn:
            current = int(self._meta("update_seq"))
            since_n = parse_since(since, current)
            if since_n > current and not descending:
                # A seq this file never reached: the client read another history of it (the
                # database was restored from a backup, lost its last commits to a power cut,
                # or was deleted and created again). CouchDB answers a seq from an unknown
                # history from the beginning; so does this, or the client would skip every
                # document the file is given until its seqs pass the client's checkpoint.
                # Devices keep their checkpoints to themselves (api/sync_history.py), so
                # nothing else would tell them.
                since_n, candidates = 0, None
            cols = "d.seq, d.id, d.winner, d.deleted, d.tree, " + (
                "b.body FROM docs d LEFT JOIN bodies b ON b.id = d.id AND b.rev = d.winner"
                if need_body
                else "NULL FROM docs d"
            )
            params: list[Any] = []
            where = ""
            if id_filter is not None and len(id_filter) <= _CHUNK:
                where = f" AND d.id IN ({','.join('?' * len(id_filter))})"
                params += list(id_filter)
            if descending:
                sql = f"SELECT {cols} WHERE 1{where} ORDER BY d.seq DESC"
            else:
                sql = f"SELECT {cols} WHERE d.seq > ?{where} ORDER BY d.seq"
                params.insert(0, since_n)
            results: list[Doc] = []
            last = None
            cut = False

            def add(
                seq: int, docid: str, winner: str, deleted: int, tree_blob: bytes, body_blob: Any
            ) -> bool:
                """Append the row (unless the selector refuses it); True once `limit` is reached."""
                nonlocal last
                # A one-revision tree (most documents) is `{"rev":[null,0]}`: its only
                # leaf is the winner, so all_docs rows need not parse it.
                tree = revtree.loads(tree_blob) if need_body or (need_tree and b"]," in tree_blob) else None
                doc = None
                if need_body and tree is not None:
                    body = orjson.loads(body_blob) if body_blob else {}
                    doc = self._render(
                        docid, winner, tree, body, conflicts=conflicts, attachments=attachments, winner=winner
                    )
                    if match is not None and not match(doc):
                        return False
                if style == "all_docs" and tree is not None and len(tree) > 1:
                    revs = revtree.leaves(tree)
                    if revs[0] != winner:
                        revs.remove(winner)
                        revs.insert(0, winner)
                else:
                    revs = [winner]  # a one-revision tree's only leaf is its winner
                row: Doc = {"seq": seq, "id": docid, "changes": [{"rev": r} for r in revs]}
                if deleted:
                    row["deleted"] = True
                if include_docs:
                    row["doc"] = doc
                results.append(row)
                last = seq
                return limit is not None and len(results) >= limit

            if limit == 0:
                cut = True
            elif keep is not None and not descending:
                # Ids first, from the seq index alone, and only the rows `keep` may want are
                # read whole: a feed that sees a few documents of a busy database otherwise
                # parses every other document changed since its last request.
                def read_whole(chunk: list[str]) -> bool:
                    found = {
                        r[1]: r
                        for r in conn.execute(
                            f"SELECT {cols} WHERE d.id IN ({','.join('?' * len(chunk))})", chunk
                        )
                    }
                    # Same snapshot: every candidate is still there, at the seq the scan saw.
                    return any(add(*found[docid]) for docid in chunk)

                scan_from = since_n
                known = self._known_rows(conn, cols, since_n, current, candidates)
                if known is not None:
                    # The rows up to `upto` that can concern the reader, found by id; the
                    # scan goes on after them.
                    assert candidates is not None
                    scan_from = candidates.upto
                    for row in known:
                        if (id_filter is not None and row[1] not in id_filter) or not keep(row[1]):
                            continue
                        if add(*row):
                            cut = True
                            break
                chunk: list[str] = []
                for (docid,) in (
                    ()
                    if cut
                    else conn.execute("SELECT id FROM docs WHERE seq > ? ORDER BY seq", (scan_from,))
                ):
                    if (id_filter is not None and docid not in id_filter) or not keep(docid):
                        continue
                    chunk.append(docid)
                    # A short chunk when few rows are still wanted: a limited page stops early.
                    if len(chunk) >= min(_CHUNK, max(1, (limit or _CHUNK) - len(results))):
                        if read_whole(chunk):
                            cut = True
                            break
                        chunk = []
                else:
                    cut = cut or (bool(chunk) and read_whole(chunk))
            else:
                for seq, docid, winner, deleted, tree_blob, body_blob in conn.execute(sql, params):
                    if id_filter is not None and docid not in id_filter:
                        continue
                    if add(seq, docid, winner, deleted, tree_blob, body_blob):
                        cut = True
                        break
            # SQLite keeps no counts in its index: `pending` walks every row left, which
            # callers that page through a whole feed (derived indexes, outboxes) skip.
            left: int | None = 0
            if descending:
                last_seq = last if last is not None else current
                if cut:
                    left = (
                        conn.execute("SELECT COUNT(*) FROM docs WHERE seq < ?", (last_seq,)).fetchone()[0]
                        if pending
                        else None
                    )
            elif cut:
                last_seq = last if last is not None else since_n
                left = (
                    conn.execute("SELECT COUNT(*) FROM docs WHERE seq > ?", (last_seq,)).fetchone()[0]
                    if pending
                    else None
                )
            else:
                last_seq = max(current, since_n)
            return {"results": results, "last_seq": last_seq, "pending": left}

    @staticmethod
    def _known_rows(
        conn: Any, cols: str, since: int, current: int, candidates: Candidates | None
    ) -> list[tuple[Any, ...]] | None:
        """The rows of `candidates.ids` changed in (since, upto], in seq order. None when the
        hint cannot be used: `upto` is not between `since` and the current seq, or a change
        after `upto` may have changed who reads the rows before it (then the whole feed is
        scanned, as without the hint)."""
        if candidates is None or not since <= candidates.upto <= current:
            return None
        later = conn.execute("SELECT id FROM docs WHERE seq > ?", (candidates.upto,))
        if any(candidates.suspect(docid) for (docid,) in later):
            return None
        ids = sorted(candidates.ids)
        rows: list[tuple[Any, ...]] = []
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            rows += conn.execute(
                f"SELECT {cols} WHERE d.id IN ({','.join('?' * len(chunk))}) AND d.seq > ? AND d.seq <= ?",
                [*chunk, since, candidates.upto],
            ).fetchall()
        rows.sort(key=lambda r: r[0])
        return rows
