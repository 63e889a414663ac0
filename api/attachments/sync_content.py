"""What a document written over sync carries in `_attachments`, whatever its database.

Attachments written over sync pass the uploads' check of their bytes, and a replica pushing
back a revision it received (same body, same attachments) is told apart from an edit.
The features' sync rules (`api/sessions/access.py`, `api/trees/sync_rules.py`) call these.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

import orjson

from sync.access import DatabaseRules, Principal
from sync.errors import BranchlineError, Forbidden

from .sniff import sniff


def attachment_digests(doc: dict[str, Any]) -> dict[str, str] | None:
    """name -> digest of a document's attachments; inline data is digested as CouchDB does."""
    atts = doc.get("_attachments")
    if not atts:
        return {}
    if not isinstance(atts, dict):
        return None
    out = {}
    for name, att in atts.items():
        if not isinstance(att, dict):
            return None
        if "data" in att:
            raw = inline_bytes(att)
            if raw is None:
                return None
            out[name] = "md5-" + base64.b64encode(hashlib.md5(raw).digest()).decode()
        elif isinstance(att.get("digest"), str):
            out[name] = att["digest"]
        else:
            return None
    return out


def inline_bytes(att: dict[str, Any]) -> bytes | None:
    """The bytes of an attachment written with its document: base64 `data` as CouchDB takes
    it, or raw bytes as the sync layer hands over the body of an attachment PUT."""
    data = att.get("data")
    if isinstance(data, bytes):
        return data
    if not isinstance(data, str):
        return None
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


def check_attachment_content(docid: str, atts: Any) -> None:
    """Attachments written over sync pass the uploads' check: the type comes from the bytes
    (`api/attachments/sniff.py`), so an executable named screenshot.png is refused, and a
    declared type must be the one the bytes show. Stubs are attachments already stored."""
    if not atts:
        return
    if not isinstance(atts, dict):
        raise Forbidden(f"{docid}: `_attachments` must be an object keyed by file name.")
    for name, att in atts.items():
        if not isinstance(att, dict):
            raise Forbidden(f"{docid}: attachment {name!r} must be an object with content_type and data.")
        if att.get("stub") and "data" not in att:
            continue
        raw = inline_bytes(att)
        if raw is None:
            raise Forbidden(f"{docid}: attachment {name!r} needs its content as base64 `data`.")
        try:
            found = sniff(raw)
        except BranchlineError as exc:
            raise Forbidden(f"{docid}: attachment {name!r} refused: {exc.reason}") from None
        declared = att.get("content_type")
        base = declared.split(";")[0].strip().lower() if isinstance(declared, str) else None
        if base and base != "application/octet-stream" and base != found.content_type:
            raise Forbidden(
                f"{docid}: attachment {name!r} is declared {declared!r} but its bytes are a "
                f"{found.label} ({found.content_type}); declare the type the file really has."
            )


def same_content(a: dict[str, Any], b: dict[str, Any] | None) -> bool:
    """Is `a` a re-push of `b` (same body and same attachments)? Retried pushes of a document
    someone else wrote must pass; anything else would be an edit."""
    if b is None:
        return False
    if _body_bytes(a) != _body_bytes(b):
        return False
    digests = attachment_digests(a)
    return digests is not None and digests == attachment_digests(b)


def _body_bytes(doc: dict[str, Any]) -> bytes:
    return orjson.dumps({k: v for k, v in doc.items() if not k.startswith("_")}, option=orjson.OPT_SORT_KEYS)


class OtherDatabasesRules(DatabaseRules):
    """The databases no feature declared (one an admin created over sync): owners and admins
    write them, and their attachments pass the same check of their bytes as any other."""

    waits_only_in_store = True  # a check of the bytes sent, nothing read or written

    def check_write(self, principal: Principal, doc: dict[str, Any], current: dict[str, Any] | None) -> None:
        if not doc.get("_deleted"):
            docid = doc.get("_id")
            check_attachment_content(docid if isinstance(docid, str) else "", doc.get("_attachments"))
