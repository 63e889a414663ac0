"""`_local/` documents (replication checkpoints): never replicated, revisions `0-N`."""

from __future__ import annotations

import orjson

from .. import revtree
from ..errors import BadRequest, Conflict
from ..store import Doc
from ..store_args import local_id
from .core import _Core
from .docs import _Batch, _not_found


class _LocalDocs(_Core):
    """Reading `_local/` documents, and writing them inside a batch."""

    def get_local(self, docid: str) -> Doc:
        """A `_local/` document (with or without the prefix in `docid`)."""
        docid = local_id(docid)
        with self._reading() as conn:
            row = conn.execute("SELECT rev, body FROM local_docs WHERE id = ?", (docid,)).fetchone()
        if row is None:
            raise _not_found("missing")
        doc = {"_id": docid, "_rev": f"0-{row[0]}"}
        doc.update(orjson.loads(row[1]))
        return doc

    def _write_local(self, doc: Doc, docid: str, batch: _Batch) -> Doc:
        if docid in batch.locals:
            current = batch.locals[docid]
            cur_rev = current[0] if current else None
        else:
            row = self._conn.execute("SELECT rev FROM local_docs WHERE id = ?", (docid,)).fetchone()
            cur_rev = row[0] if row else None
        given = doc.get("_rev")
        expected = f"0-{cur_rev}" if cur_rev is not None else None
        if given is not None and not (isinstance(given, str) and given.startswith("0-")):
            raise BadRequest(f"Invalid rev {given!r} for a _local document: they look like '0-N'.")
        if given != expected:
            raise Conflict("Document update conflict: send the _local document's current _rev.")
        if doc.get("_deleted"):
            if cur_rev is None:
                raise _not_found("missing")
            batch.locals[docid] = None
            return {"ok": True, "id": docid, "rev": "0-0"}
        body = {k: v for k, v in doc.items() if not k.startswith("_")}
        new = (cur_rev or 0) + 1
        batch.locals[docid] = (new, revtree.encode(body))
        return {"ok": True, "id": docid, "rev": f"0-{new}"}
