"""The checks both store backends make of their arguments, written once.

`EmbeddedStore` and `CouchStore` take the same calls (`sync/store.py`) and must refuse the same
bad arguments with the same CouchDB error, whichever backend a tenant runs on: the checks and
their words live here, and each backend calls them before doing its own work.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .errors import BadRequest, Conflict


def local_id(docid: Any) -> str:
    """A `_local/` document's full id, from the id with or without its prefix."""
    if not isinstance(docid, str) or not docid:
        raise BadRequest("Document id must be a non-empty string.", error="illegal_docid")
    return docid if docid.startswith("_local/") else "_local/" + docid


def tombstone(docid: str, rev: str | None) -> dict[str, Any]:
    """The document that deletes `docid` on top of `rev`; deleting needs the current rev."""
    if rev is None:
        raise Conflict("Document update conflict: deleting needs the current _rev.")
    return {"_id": docid, "_rev": rev, "_deleted": True}


def check_revs_limit(limit: Any) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise BadRequest("revs_limit must be a positive integer.")
    return limit


def check_open_revs(open_revs: Any) -> None:
    if open_revs != "all" and not isinstance(open_revs, list):
        raise BadRequest('open_revs must be "all" or a list of revs.')


def check_bulk_get(requests: Any) -> None:
    if not isinstance(requests, list):
        raise BadRequest("docs must be a list of {id, rev?} objects.")


def check_bulk_docs(docs: Any) -> None:
    if not isinstance(docs, list):
        raise BadRequest("docs must be a list of documents.")


def check_revs_diff(revs: Any) -> None:
    if not isinstance(revs, dict):
        raise BadRequest("_revs_diff takes an object of id: [revs].")


def check_limit(limit: Any) -> None:
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise BadRequest("limit must be a non-negative integer.")


def check_all_docs(limit: Any, skip: Any) -> None:
    check_limit(limit)
    if not isinstance(skip, int) or skip < 0:
        raise BadRequest("skip must be a non-negative integer.")


def keys_window(keys: Any, *, skip: int, limit: int | None, descending: bool) -> list[Any]:
    """The `keys` an `_all_docs` with keys answers for, in order, after `skip` and `limit`."""
    if not isinstance(keys, list):
        raise BadRequest("keys must be a list of document ids.")
    ordered = list(reversed(keys)) if descending else list(keys)
    ordered = ordered[skip:]
    return ordered if limit is None else ordered[:limit]


def check_changes(style: Any, limit: Any, doc_ids: Iterable[str] | None) -> list[str] | None:
    """The `doc_ids` filter as a list (None: no filter), once `style` and `limit` are checked."""
    if style not in ("main_only", "all_docs"):
        raise BadRequest("style must be main_only or all_docs.")
    check_limit(limit)
    if doc_ids is None:
        return None
    if isinstance(doc_ids, str):
        raise BadRequest("doc_ids must be a list of document ids.")
    return list(doc_ids)
