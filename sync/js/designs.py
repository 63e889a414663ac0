"""Design documents' JavaScript on the sync endpoints: filters, `validate_doc_update`, views.

`DesignFunctions` is what the HTTP layer calls:

- `validate(...)` on every write through sync, after Branchline's own access policy: each
  design document's `validate_doc_update(newDoc, oldDoc, userCtx, secObj)` runs, and what
  it throws becomes CouchDB's answer (`{forbidden: msg}` is a 403, `{unauthorized: msg}` a
  401). `_local` documents are not validated, and design documents are not given to these
  functions; as in CouchDB, a design document is checked instead: its functions must compile.
- `changes_filter(...)` for `_changes?filter=ddoc/name` (`function(doc, req)`) and
  `filter=_view&view=ddoc/view` (the document passes when the map emits). The HTTP layer
  applies the access policy first, so a filter can only narrow what a caller receives.
- `views` (views.py) for `_design/{ddoc}/_view/{view}`.

Every function runs in the sandbox of sandbox.py, with its CPU-time and memory limits.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..access import Principal
from ..errors import BadRequest, BranchlineError, Forbidden, NotFound, Unauthorized
from ..naming import physical_name
from ..observed_cache import ObservedCache
from ..store import Database, Doc, Store
from .sandbox import Sandbox, compiled

if TYPE_CHECKING:
    from ..http_context import Ctx, FeedHost

DesignRef = tuple[str, str]  # (design document id, validate_doc_update source)


class FunctionError(BranchlineError):
    """A design function threw something other than CouchDB's forbidden/unauthorized."""

    status, error = 500, "render_error"


def javascript_ddoc(ddoc: Doc) -> None:
    """Refuse a design document in another language (Mango's `query` indexes have no code)."""
    language = ddoc.get("language", "javascript")
    if language != "javascript":
        raise BadRequest(
            f"{ddoc.get('_id')} is written in {language!r}; only javascript design functions run here.",
            error="invalid_design_doc",
        )


def check_design_doc(ddoc: Doc) -> None:
    """Refuse a design document whose functions do not compile, as CouchDB does when it is
    saved (rather than failing every later query): `compilation_error`, 400."""
    if ddoc.get("language", "javascript") != "javascript":
        return
    sources: dict[str, Any] = {}
    views = ddoc.get("views")
    if views is not None:
        if not isinstance(views, dict):
            raise BadRequest(
                "`views` must be an object of views, each with a `map` function.", error="invalid_design_doc"
            )
        for name, spec in views.items():
            if not isinstance(spec, dict) or not isinstance(spec.get("map"), str):
                raise BadRequest(
                    f"View {name!r} needs a `map` function (a string of JavaScript).",
                    error="invalid_design_doc",
                )
            sources[f"the map function in the {name!r} view"] = spec["map"]
            reducer = spec.get("reduce")
            if isinstance(reducer, str) and not reducer.strip().startswith("_"):
                sources[f"the reduce function in the {name!r} view"] = reducer
    filters = ddoc.get("filters")
    if isinstance(filters, dict):
        for name, source in filters.items():
            sources[f"the filter {name!r}"] = source
    if "validate_doc_update" in ddoc:
        sources["validate_doc_update"] = ddoc["validate_doc_update"]
    if not sources:
        return
    sandbox = Sandbox()
    for where, source in sources.items():
        sandbox.compile(source, where)


def design_docs(dbobj: Database) -> list[Doc]:
    """The database's live design documents, by id."""
    rows = dbobj.all_docs(startkey="_design/", endkey="_design0", include_docs=True, offset=False)["rows"]
    return [r["doc"] for r in rows if isinstance(r.get("doc"), dict)]


def get_ddoc(dbobj: Database, name: str) -> Doc:
    try:
        ddoc = dbobj.get("_design/" + name)
    except NotFound:
        raise NotFound("missing") from None
    return ddoc


def thrown_error(threw: Any, where: str) -> BranchlineError:
    """What a function threw, as the answer CouchDB gives for it."""
    if isinstance(threw, dict):
        if isinstance(threw.get("forbidden"), str):
            return Forbidden(threw["forbidden"])
        if isinstance(threw.get("unauthorized"), str):
            return Unauthorized(threw["unauthorized"])
        if isinstance(threw.get("error"), str):
            return FunctionError(
                f"{where} threw {threw['error']}: {threw.get('reason')}", error=threw["error"]
            )
    return FunctionError(
        f"{where} threw {threw!r}; fix the function, or throw {{forbidden: message}} to refuse a document."
    )


def user_ctx(principal: Principal, db: str) -> Doc:
    """CouchDB's userCtx for a caller: tenant owners and admins are the database's admins,
    so they carry `_admin`, which validation functions commonly let through."""
    roles = [principal.role] + (["_admin"] if principal.is_admin else [])
    return {"db": db, "name": principal.email or principal.user_id, "roles": roles}


def _for_js(doc: Doc) -> Doc:
    """A document as functions see it: attachments as stubs (the bytes stay out of JS)."""
    atts = doc.get("_attachments")
    if not isinstance(atts, dict):
        return doc
    stubs = {}
    for name, att in atts.items():
        if isinstance(att, dict):
            stub = {k: v for k, v in att.items() if k not in ("data", "follows")}
            stub["stub"] = True
            stubs[name] = stub
    return {**doc, "_attachments": stubs}


_VALIDATORS = "validate_doc_update"


def _every_db(db_name: str) -> str:
    return db_name


def _designs_source(db_name: Any, _key: Any) -> tuple[str, str]:
    return str(db_name), "_design/"


def _design_key(docid: str) -> tuple[str, ...]:
    return (_VALIDATORS,) if docid.startswith("_design/") else ()


def _read_validators(dbobj: Database) -> tuple[DesignRef, ...]:
    return tuple(
        (d["_id"], d["validate_doc_update"])
        for d in design_docs(dbobj)
        if isinstance(d.get("validate_doc_update"), str) and d.get("language", "javascript") == "javascript"
    )


class DesignFunctions:
    """The design-document functions of every database of a store (see the module docstring)."""

    def __init__(
        self, views_dir: Callable[[], Path | None], get_store: Callable[[], Store] | None = None
    ) -> None:
        from .views import Views  # noqa: PLC0415 - views imports this module

        self.views = Views(views_dir)
        # Per database: the update_seq at which its validators were read, and them. A batch
        # of writes validated before any is written reads the design documents once.
        self._validators: dict[str, tuple[Any, tuple[DesignRef, ...]]] = {}
        self._lock = threading.Lock()
        # Where the store tells of every write: the validators kept until a design document
        # of their database is written, so an ordinary write reads nothing for them (not even
        # the update_seq, a read of its own that every replicated document paid).
        self._get_store = get_store
        self._designs: ObservedCache[tuple[DesignRef, ...]] | None = None
        self._designs_tried = False

    def _design_cache(self) -> ObservedCache[tuple[DesignRef, ...]] | None:
        if not self._designs_tried and self._get_store is not None:
            with self._lock:
                if not self._designs_tried:
                    cache = ObservedCache[tuple[DesignRef, ...]](
                        _every_db, _design_key, id_prefix="_design/", source=_designs_source
                    )
                    self._designs = cache.attach(self._get_store())
                    self._designs_tried = True
        return self._designs

    # --- validate_doc_update ------------------------------------------------------------
    def may_validate(self, physical: str) -> bool:
        """False only when the database is known to have no validation function: then a
        write needs no JavaScript (the HTTP layer answers such writes on the event loop)."""
        cache = self._design_cache()
        if cache is not None:
            found, refs = cache.peek(physical, _VALIDATORS)
            return not found or bool(refs)
        known = self._validators.get(physical)
        return known is None or bool(known[1])

    def may_validate_db(self, tenant_id: str, db: str) -> bool:
        """`may_validate` by the tenant's logical name; True for a malformed name, so the
        request takes the ordinary path, which authenticates before it refuses the name."""
        try:
            return self.may_validate(physical_name(tenant_id, db))
        except BranchlineError:
            return True

    def validators(self, dbobj: Database) -> tuple[DesignRef, ...]:
        cache = self._design_cache()
        if cache is not None:
            return cache.get(dbobj.name, _VALIDATORS, lambda: _read_validators(dbobj))
        seq = dbobj.update_seq
        with self._lock:
            known = self._validators.get(dbobj.name)
        if known is not None and known[0] == seq:
            return known[1]
        found = _read_validators(dbobj)
        with self._lock:
            self._validators[dbobj.name] = (seq, found)
        return found

    def validate(
        self,
        dbobj: Database,
        db: str,
        doc: Doc,
        current: Doc | None,
        principal: Principal,
        sec_obj: Callable[[], Doc],
        load_current: Callable[[], Doc | None] | None = None,
        refs: tuple[DesignRef, ...] | None = None,
    ) -> None:
        """Run every `validate_doc_update` of the database on a write (see the module docstring).

        `current` is the stored winner, or None; `load_current`, when given, fetches it
        (called only when there is a function to run); `refs`, when given, are the
        database's functions as `validators` answered for the whole batch.
        """
        docid = doc.get("_id")
        if not isinstance(docid, str) or docid.startswith("_local/"):
            return
        if docid.startswith("_design/"):
            # The next write reads the validators again (and leaves the event loop for it).
            with self._lock:
                self._validators.pop(dbobj.name, None)
            if not doc.get("_deleted"):
                check_design_doc(doc)
            return
        if refs is None:
            refs = self.validators(dbobj)
        if not refs:
            return
        if current is None and load_current is not None:
            current = load_current()
        sources = {ddoc_id: src for ddoc_id, src in refs}
        what = {ddoc_id: f"validate_doc_update of {ddoc_id}" for ddoc_id in sources}
        sandbox, handles = compiled(dbobj.name, sources, what)
        args = [
            _for_js(doc),
            None if current is None else _for_js(current),
            user_ctx(principal, db),
            sec_obj(),
        ]
        for ddoc_id, _ in refs:
            outcome = sandbox.call(handles[ddoc_id], args, what[ddoc_id])
            if outcome.failed:
                raise thrown_error(outcome.threw, what[ddoc_id])

    # --- _changes filters ---------------------------------------------------------------
    def changes_filter(self, dbobj: Database, name: str, req: Doc) -> Callable[[Doc | None], bool]:
        """`filter=ddoc/name`: a predicate on a change's document (None: left out)."""
        ddoc_name, fname = name.split("/", 1)
        ddoc = get_ddoc(dbobj, ddoc_name)
        javascript_ddoc(ddoc)
        filters = ddoc.get("filters")
        if not isinstance(filters, dict) or fname not in filters:
            raise NotFound(f"missing: _design/{ddoc_name} has no filter named {fname!r}.")
        where = f"the filter {name!r}"
        sources = {"filter": filters[fname]}
        what = {"filter": where}
        scope = dbobj.name
        compiled(scope, sources, what)  # a function that does not compile fails the request now

        def passes(doc: Doc | None) -> bool:
            if doc is None:
                return False
            sandbox, handles = compiled(scope, sources, what)
            outcome = sandbox.call(handles["filter"], [_for_js(doc), req], where)
            if outcome.failed:
                raise thrown_error(outcome.threw, where)
            return bool(outcome.value)

        return passes

    def view_filter(self, dbobj: Database, name: str) -> Callable[[Doc | None], bool]:
        """`filter=_view&view=ddoc/view`: a document passes when the view's map emits for it."""
        ddoc_name, vname = name.split("/", 1)
        ddoc = get_ddoc(dbobj, ddoc_name)
        javascript_ddoc(ddoc)
        views = ddoc.get("views")
        if (
            not isinstance(views, dict)
            or not isinstance(views.get(vname), dict)
            or not isinstance(views[vname].get("map"), str)
        ):
            raise NotFound(f"missing: _design/{ddoc_name} has no view named {vname!r}.")
        where = f"the map function of view {name!r}"
        sources = {"map": views[vname]["map"]}
        what = {"map": where}
        scope = dbobj.name
        compiled(scope, sources, what)

        def passes(doc: Doc | None) -> bool:
            if doc is None:
                return False
            sandbox, handles = compiled(scope, sources, what)
            outcome = sandbox.map([handles["map"]], _for_js(doc), where)[0]
            return not outcome.failed and bool(outcome.value)

        return passes


def views_dir_of(store: Any) -> Path | None:
    """Where a store's view indexes live: `views/` beside the embedded store's `dbs/`
    folder; None (in memory) for a store without a data folder (CouchDB)."""
    folder = getattr(store, "dir", None)
    return Path(folder).parent / "views" if isinstance(folder, (str, Path)) else None


def filter_request(api: FeedHost, ctx: Ctx, dbobj: Database, db: str) -> Doc:
    """The `req` object CouchDB passes to a filter function (credentials left out)."""
    hidden = {"authorization", "cookie", "x-api-key"}
    request = ctx.request
    path = [db, "_changes"]
    return {
        "info": dict(dbobj.info(), db_name=db),
        "id": None,
        "uuid": uuid.uuid4().hex,
        "method": request.method,
        "requested_path": path,
        "path": path,
        "raw_path": "/" + "/".join(path),
        "query": dict(request.query_params),
        "headers": {k: v for k, v in request.headers.items() if k.lower() not in hidden},
        "body": ctx.body.decode("utf-8", "replace") if ctx.body else "undefined",
        "peer": request.client.host if request.client else None,
        "form": {},
        "cookie": {},
        "userCtx": user_ctx(ctx.principal, db),
        "secObj": api.security_object(dbobj),
    }
