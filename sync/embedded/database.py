"""`EmbeddedDatabase`: one CouchDB-style database in one SQLite file."""

from __future__ import annotations

import base64
import os

import orjson

from ..errors import BadRequest, Conflict, NotFound
from ..store import Doc, Seq
from ..store_args import check_revs_limit
from .changes import _Changes
from .writes import _Writes


class EmbeddedDatabase(_Writes, _Changes):
    """One CouchDB-style database in one SQLite file. Implements `sync.store.Database`."""

    # --- database ----------------------------------------------------------------------
    def info(self) -> Doc:
        """`GET /db`: counts, `update_seq` and sizes."""
        with self._reading() as conn:
            meta = dict(
                conn.execute(
                    "SELECT key, value FROM meta WHERE key IN ('update_seq', 'doc_count', 'doc_del_count')"
                ).fetchall()
            )
        live, dead = int(meta["doc_count"]), int(meta["doc_del_count"])
        seq = int(meta["update_seq"])
        size = 0
        for suffix in ("", "-wal"):
            try:
                size += os.stat(self._path_str + suffix).st_size
            except OSError:
                pass
        return {
            "db_name": self.name,
            "doc_count": live,
            "doc_del_count": dead,
            "update_seq": seq,
            "purge_seq": 0,
            "compact_running": False,
            "disk_size": size,
            "data_size": size,
            "sizes": {"file": size, "active": size, "external": size},
            "instance_start_time": "0",
            "disk_format_version": 1,
            "committed_update_seq": seq,
        }

    def get_revs_limit(self) -> int:
        """How many revisions each branch keeps (CouchDB's `_revs_limit`, default 1000)."""
        with self._reading():
            return self._revs_limit

    def set_revs_limit(self, limit: int) -> None:
        """Set `_revs_limit`; applies to documents as they are next written."""
        check_revs_limit(limit)
        with self._writing() as (handle, conn):
            conn.execute("UPDATE meta SET value = ? WHERE key = 'revs_limit'", (limit,))
            handle.revs_limit = limit

    def compact(self) -> int:
        """Compact, as CouchDB does: drop the bodies of revisions that are no longer leaves,
        then attachment content no remaining revision refers to; returns how many
        attachments went.

        Attachments are shared by digest, so their bytes cannot be removed when one
        revision goes; this sweep reclaims them. It runs on a schedule for every database
        written since the last run (`EmbeddedStore.compact_written`), and on demand through
        `POST /db/_compact`.
        """
        with self._writing() as (_, conn):
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("DELETE FROM old_bodies")
                used: set[str] = set()
                for (blob,) in conn.execute(
                    "SELECT body FROM bodies WHERE instr(body, ?) > 0", (b'"_attachments"',)
                ):
                    for meta in (orjson.loads(blob).get("_attachments") or {}).values():
                        used.add(meta["digest"])
                gone = [(d,) for (d,) in conn.execute("SELECT digest FROM attachments") if d not in used]
                conn.executemany("DELETE FROM attachments WHERE digest = ?", gone)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return len(gone)

    @property
    def update_seq(self) -> Seq:
        """The seq of the latest change (0 for an empty database)."""
        with self._reading():
            return int(self._meta("update_seq"))

    # --- edits built on a read and a write ----------------------------------------------
    def _edit_base(self, docid: str, rev: str | None) -> Doc:
        """The document an attachment edit builds on, with its attachments as stubs."""
        try:
            doc = self.get(docid, rev=rev) if rev is not None else None
        except NotFound:
            raise Conflict("Document update conflict: that revision is not current.") from None
        if doc is None:
            return {"_id": docid}
        for meta in (doc.get("_attachments") or {}).values():
            meta["stub"] = True
        doc.pop("_deleted", None)
        return doc

    def put_attachment(
        self, docid: str, name: str, data: bytes, content_type: str, *, rev: str | None
    ) -> Doc:
        """Add or replace one attachment, creating the document when `rev` is None."""
        if not isinstance(name, str) or not name or name.startswith("_"):
            raise BadRequest("Attachment names must be non-empty and not start with '_'.")
        doc = self._edit_base(docid, rev)
        atts = doc.setdefault("_attachments", {})
        atts[name] = {"content_type": content_type, "data": base64.b64encode(bytes(data)).decode("ascii")}
        return self.put(doc)

    def delete_attachment(self, docid: str, name: str, *, rev: str) -> Doc:
        """Write a new revision without attachment `name`."""
        doc = self._edit_base(docid, rev)
        atts = doc.get("_attachments") or {}
        if name not in atts:
            raise NotFound(f"Document is missing attachment {name!r}.")
        del atts[name]
        if not atts:
            doc.pop("_attachments", None)
        return self.put(doc)
