"""`GET|POST /{db}/_design/{ddoc}/_view/{view}`: CouchDB's view API over views.py.

Access: a view is computed over every document of its database, and its rows (keys, values,
counts, sums) say things about documents the caller may not be allowed to read. So views
answer only callers who may read every document of the database (`reads_everything` of
the policy); others get 403 with a pointer to the screened listings. Mapping only the
documents each reader may read would need an index per reader, and sessions (the one
database screened per reader) are read through `_changes` and `_all_docs` anyway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from ..errors import BadRequest, Forbidden, NotFound
from ..http_params import Query, json_response, parse_object
from ..store import Doc
from .collate import collate
from .designs import get_ddoc
from .views import ViewQuery

if TYPE_CHECKING:
    from ..http import SyncApi
    from ..http_context import Ctx


def _first(q: Query, *names: str) -> tuple[bool, Any]:
    for name in names:
        if q.has(name):
            return True, q.json(name)
    return False, None


def _docid(q: Query, body: dict[str, Any], *names: str) -> str | None:
    """A document id bound: plain text in the query string (as CouchDB reads it), or a
    string in a POST body."""
    for name in names:
        value: Any = body[name] if name in body else q.raw(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise BadRequest(f"`{name}` must be a document id.", error="query_parse_error")
        return value
    return None


def parse_view_query(q: Query, body: dict[str, Any]) -> ViewQuery:
    """CouchDB's view query options, refused as CouchDB refuses them."""
    out = ViewQuery()
    if q.has("reduce"):
        out.reduce = q.bool("reduce")
    out.group = q.bool("group")
    out.group_level = q.int("group_level")
    out.limit = q.int("limit")
    out.skip = q.int("skip", 0) or 0
    out.descending = q.bool("descending")
    out.include_docs = q.bool("include_docs")
    out.inclusive_end = q.bool("inclusive_end", True)
    out.update_seq = q.bool("update_seq")
    update = q.raw("update", "true")
    stale = q.raw("stale")
    out.update = update != "false" and stale != "ok"
    keys = q.json("keys")
    if keys is not None and not isinstance(keys, list):
        raise BadRequest("`keys` must be a JSON array of keys.", error="query_parse_error")
    out.keys = keys
    if q.has("key"):
        if keys is not None:
            raise BadRequest(
                "`keys` is incompatible with `key`: ask for one key with `key` or for several with `keys`.",
                error="query_parse_error",
            )
        out.startkey = out.endkey = q.json("key")
        out.has_startkey = out.has_endkey = True
    else:
        out.has_startkey, out.startkey = _first(q, "startkey", "start_key")
        out.has_endkey, out.endkey = _first(q, "endkey", "end_key")
    out.startkey_docid = _docid(q, body, "startkey_docid", "start_key_doc_id")
    out.endkey_docid = _docid(q, body, "endkey_docid", "end_key_doc_id")
    if out.has_startkey and out.has_endkey and keys is None:
        order = collate(out.startkey, out.endkey)
        if (order > 0 and not out.descending) or (order < 0 and out.descending):
            raise BadRequest(
                "No rows can match your key range, reverse your start_key and end_key "
                "or set descending=true.",
                error="query_parse_error",
            )
    return out


def query_view(api: SyncApi, ctx: Ctx, db: str, ddoc_name: str, view: str) -> Response:
    """A view's rows, or its reduction (see views.py and the module docstring)."""
    dbobj = api.open_db(ctx, db, "read")
    if not api.reads_all(ctx, db):
        raise Forbidden(
            f"Views of the {db!r} database are computed over documents you may not read; "
            "list your documents with _all_docs or _changes instead."
        )
    ddoc = get_ddoc(dbobj, ddoc_name)
    body: dict[str, Any] = {}
    if ctx.request.method == "POST" and ctx.body.strip():
        body = parse_object(ctx.body)
    q = parse_view_query(Query(ctx.request.query_params, body), body)

    def fetch_docs(wanted: list[tuple[str, str | None]]) -> list[Doc | None]:
        out: list[Doc | None] = []
        for docid, rev in wanted:
            try:
                doc: Doc | None = dbobj.get(docid, rev=rev)
            except NotFound:
                doc = None
            if doc is not None and doc.get("_deleted"):
                doc = None
            out.append(doc)
        return out

    return json_response(api.js.views.query(dbobj, ddoc, view, q, fetch_docs))
