"""Attachments: content stored once by digest, read from any revision, built into new revisions."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from .. import revtree
from ..errors import BadRequest, NotFound, PreconditionFailed
from ..store import Doc
from .core import _Core
from .docs import _Batch, _not_found


def attachment_digest(data: bytes) -> str:
    """CouchDB's attachment digest: `md5-` and the base64 of the MD5 of the bytes."""
    return "md5-" + base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


def _decode_base64(name: str, data: Any) -> bytes:
    if not isinstance(data, str):
        raise BadRequest(f"Attachment {name!r}: data must be a base64 string.")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"Attachment {name!r}: data is not valid base64.") from None


class _Attachments(_Core):
    """Attachment reads, and the attachments of a revision being written."""

    def get_attachment(self, docid: str, name: str, *, rev: str | None = None) -> tuple[bytes, str, str]:
        """`(data, content_type, digest)` of an attachment, from any revision incl. losers."""
        with self._reading():
            row = self._row(docid) if isinstance(docid, str) else None
            if row is None:
                raise _not_found("missing")
            tree, winner, deleted, _ = row
            if rev is None:
                if deleted:
                    raise _not_found("deleted")
                rev = winner
            elif rev not in tree:
                revtree.parse_rev(rev)
                raise _not_found("missing")
            body = self._body(docid, rev) or {}
            meta = (body.get("_attachments") or {}).get(name)
            if meta is None:
                raise NotFound(f"Document is missing attachment {name!r}.")
            data = self._blob(meta["digest"])
            if data is None:
                raise NotFound(f"Attachment {name!r} content is missing.")
            return data, meta["content_type"], meta["digest"]

    def _edit_attachments(
        self, docid: str, parent: str | None, atts: Any, new_pos: int, batch: _Batch
    ) -> Doc:
        if not atts:
            return {}
        if not isinstance(atts, dict):
            raise BadRequest("_attachments must be an object of name: attachment.")
        parent_atts: Doc | None = None
        out: Doc = {}
        for name, att in atts.items():
            if not isinstance(att, dict):
                raise BadRequest(f"Attachment {name!r} must be an object.")
            if att.get("stub"):
                if parent_atts is None:
                    parent_body = self._body(docid, parent, batch) if parent else None
                    parent_atts = (parent_body or {}).get("_attachments") or {}
                prior = parent_atts.get(name)
                if prior is None:
                    raise PreconditionFailed(
                        f"Attachment stub {name!r} does not match an attachment of the "
                        "revision being edited; send the data instead.",
                        error="missing_stub",
                    )
                out[name] = prior
            elif "data" in att:
                data = _decode_base64(name, att["data"])
                out[name] = self._new_blob(data, att, new_pos, batch)
            else:
                raise BadRequest(f"Attachment {name!r} needs base64 `data` or `stub: true`.")
        return out

    @staticmethod
    def _new_blob(data: bytes, att: Doc, revpos: int, batch: _Batch) -> Doc:
        digest = attachment_digest(data)
        batch.blobs[digest] = data
        content_type = att.get("content_type") or "application/octet-stream"
        if not isinstance(content_type, str):
            raise BadRequest("Attachment content_type must be a string.")
        return {"content_type": content_type, "digest": digest, "length": len(data), "revpos": revpos}

    def _replicated_attachments(self, atts: Any, rev: str, batch: _Batch) -> Doc:
        if not atts:
            return {}
        pos = revtree.rev_pos(rev)
        if not isinstance(atts, dict):
            raise BadRequest("_attachments must be an object of name: attachment.")
        out: Doc = {}
        for name, att in atts.items():
            if not isinstance(att, dict):
                raise BadRequest(f"Attachment {name!r} must be an object.")
            given = att.get("revpos")
            revpos = given if isinstance(given, int) else pos
            if att.get("stub"):
                digest = att.get("digest")
                data = batch.blobs.get(digest) if isinstance(digest, str) else None
                if data is None and isinstance(digest, str):
                    data = self._blob(digest)
                if data is None:
                    raise PreconditionFailed(
                        f"Attachment stub {name!r} refers to content this database does not "
                        "hold; send the data.",
                        error="missing_stub",
                    )
                out[name] = {
                    "content_type": att.get("content_type") or "application/octet-stream",
                    "digest": digest,
                    "length": len(data),
                    "revpos": revpos,
                }
            elif "data" in att:
                out[name] = self._new_blob(_decode_base64(name, att["data"]), att, revpos, batch)
            else:
                raise BadRequest(f"Attachment {name!r} needs base64 `data` or `stub: true`.")
        return out
