"""The CouchDB backend: the store interface over CouchDB 3.x or IBM Cloudant.

CouchDB already implements the revision model, so this backend passes documents through
(`new_edits=false` writes, `_revs_diff`, `_bulk_get`, `open_revs`, `_local` documents,
attachments, `_changes`) and only evens out where servers differ from the interface's
contract, so that the sync endpoints answer the same on both backends:

- Branchline's own design documents (`_design/branchline-*`: the validator, indexes, the
  conflicts view) are hidden from devices: left out of `_changes` and `_all_docs`, not
  readable or writable through the store. A feed page emptied that way is refilled, because
  PouchDB takes a short page for the end of the feed.
- `_changes` with a selector is filtered here with the same Mango matcher as the embedded
  backend (`sync.mango`), so both backends agree on what matches (and servers without
  `filter=_selector` still work).
- `_bulk_docs` with `new_edits=false` answers one result per document, as the interface
  says; `_bulk_get` answers CouchDB's error entry for a missing revision on every server.
- Sequences are opaque (strings on CouchDB 3, integers on some servers): never parsed.

Databases are created with a `_security` object that admits only Branchline's service
account (and server admins): devices never reach CouchDB directly.

Writes made through this process wake its listeners at once; writes made by other
Branchline instances arrive through `_db_updates` (one feed for the whole server), or, on
servers without it, through one `_changes` longpoll per database this process has opened.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any, Literal
from urllib.parse import quote

import orjson

from .couchdb_client import _BY_STATUS, CouchClient, CouchUnavailable, db_path, doc_path, encode_param
from .couchdb_ddocs import conflicts_count, install_design_docs
from .couchdb_watch import ChangeWatcher
from .embedded import check_db_name
from .errors import BadRequest, BranchlineError, Forbidden, NotFound, PreconditionFailed
from .mango import compile_selector
from .store import Candidates, Doc, Seq
from .store_args import (
    check_all_docs,
    check_bulk_docs,
    check_bulk_get,
    check_changes,
    check_open_revs,
    check_revs_diff,
    check_revs_limit,
    keys_window,
    local_id,
    tombstone,
)

_log = logging.getLogger(__name__)

# Design documents Branchline installs and keeps to itself (see design_docs/README.md).
RESERVED_PREFIX = "_design/branchline"
_RESERVED_END = RESERVED_PREFIX + "\ufff0"


def is_reserved(docid: Any) -> bool:
    return isinstance(docid, str) and docid.startswith(RESERVED_PREFIX)


def _reserved_error(docid: str) -> Forbidden:
    return Forbidden(
        f"{docid} is maintained by Branchline itself and cannot be written "
        "through sync; see design_docs/README.md."
    )


def _flag(value: bool) -> str | None:
    return "true" if value else None


class CouchDatabase:
    """One CouchDB database. Implements `sync.store.Database`."""

    def __init__(self, store: CouchStore, name: str) -> None:
        self.store = store
        self.client = store.client
        self.name = name
        self.path = db_path(name)

    # --- plumbing ----------------------------------------------------------------------
    def _doc_url(self, docid: str) -> str:
        return f"{self.path}/{doc_path(docid)}"

    def _changed(self) -> None:
        self.store._notify(self.name, None)

    def _hidden_ids(self) -> list[str]:
        rows = self.client.json(
            "GET",
            f"{self.path}/_all_docs",
            params={"startkey": encode_param(RESERVED_PREFIX), "endkey": encode_param(_RESERVED_END)},
        )
        return [r["id"] for r in rows["rows"]]

    def _hidden_count(self) -> int:
        return len(self._hidden_ids())

    # --- database ----------------------------------------------------------------------
    def info(self) -> Doc:
        """`GET /db`, with the counts Branchline's design documents would add taken out."""
        raw = self.client.json("GET", self.path)
        live = max(int(raw.get("doc_count", 0)) - self._hidden_count(), 0)
        dead = raw.get("doc_del_count")
        if dead is None:
            # Not reported by every CouchDB-compatible server (CouchDB does): count it.
            feed = self.client.json("GET", f"{self.path}/_changes")
            dead = sum(
                1 for r in feed.get("results") or [] if r.get("deleted") and not is_reserved(r.get("id"))
            )
        out = {
            "db_name": self.name,
            "doc_count": live,
            "doc_del_count": dead,
            "update_seq": raw.get("update_seq"),
            "purge_seq": raw.get("purge_seq", 0),
            "compact_running": raw.get("compact_running", False),
            "disk_size": raw.get("disk_size", 0),
            "data_size": raw.get("data_size", 0),
            "sizes": raw.get("sizes") or {"file": 0, "active": 0, "external": 0},
            "instance_start_time": str(raw.get("instance_start_time", "0")),
            "disk_format_version": raw.get("disk_format_version", 1),
        }
        out["committed_update_seq"] = raw.get("committed_update_seq", out["update_seq"])
        return out

    @property
    def update_seq(self) -> Seq:
        return self.client.json("GET", self.path)["update_seq"]

    def get_revs_limit(self) -> int:
        return int(self.client.json("GET", f"{self.path}/_revs_limit"))

    def set_revs_limit(self, limit: int) -> None:
        check_revs_limit(limit)
        self.client.request(
            "PUT", f"{self.path}/_revs_limit", raw=str(limit).encode(), content_type="application/json"
        )

    def compact(self) -> int:
        """Ask CouchDB to compact this database (it does so in the background)."""
        self.client.request("POST", f"{self.path}/_compact", raw=b"{}", content_type="application/json")
        return 0

    def set_security(self, security: Doc) -> None:
        """CouchDB's own `_security` object of this database (not the devices' view of it)."""
        self.client.request("PUT", f"{self.path}/_security", body=security)

    # --- reading documents -------------------------------------------------------------
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
        if not isinstance(docid, str) or not docid:
            raise NotFound("missing")
        if docid.startswith("_local/"):
            return self.get_local(docid)
        if is_reserved(docid):
            raise NotFound("missing")
        params = {
            "rev": rev,
            "revs": _flag(revs or bool(atts_since and attachments)),
            "revs_info": _flag(revs_info),
            "conflicts": _flag(conflicts),
            "deleted_conflicts": _flag(deleted_conflicts),
            "attachments": _flag(attachments),
            "latest": _flag(latest),
            "local_seq": _flag(local_seq),
            "atts_since": encode_param(atts_since) if atts_since else None,
        }
        try:
            doc: Doc = self.client.json("GET", self._doc_url(docid), params=params)
        except NotFound as exc:
            if rev is None and exc.reason == "missing" and self._is_tombstone(docid):
                # CouchDB says `deleted` here; some compatible servers say `missing`.
                raise NotFound("deleted") from None
            raise
        if atts_since and attachments:
            doc = _stub_known(doc, atts_since, keep_revisions=revs)
        if deleted_conflicts and "_deleted_conflicts" not in doc and rev is None:
            # Some compatible servers ignore the option: derive it from the leaves.
            dead = sorted(
                (
                    e["ok"]["_rev"]
                    for e in self._leaves(docid)
                    if e["ok"].get("_deleted") and e["ok"]["_rev"] != doc["_rev"]
                ),
                key=_rev_key,
                reverse=True,
            )
            if dead:
                doc["_deleted_conflicts"] = dead
        return doc

    def _leaves(self, docid: str, **params: Any) -> list[Doc]:
        try:
            res = self.client.json("GET", self._doc_url(docid), params={"open_revs": "all", **params})
        except NotFound:
            return []
        return [e for e in res if "ok" in e]

    def _is_tombstone(self, docid: str) -> bool:
        try:
            leaves = self.client.json("GET", self._doc_url(docid), params={"open_revs": "all"})
        except NotFound:
            return False
        return bool(leaves) and all(e.get("ok", {}).get("_deleted") for e in leaves)

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
        check_open_revs(open_revs)
        if is_reserved(docid):
            if open_revs == "all":
                raise NotFound("missing")
            return [{"missing": r} for r in open_revs]
        flags = {
            "revs": _flag(revs),
            "attachments": _flag(attachments),
            "atts_since": encode_param(atts_since) if atts_since else None,
        }
        if latest and open_revs != "all":
            return self._open_revs_latest(docid, open_revs, revs=revs, flags=flags)
        params = {"open_revs": "all" if open_revs == "all" else encode_param(open_revs), **flags}
        if atts_since and attachments:
            params["revs"] = "true"
        res: list[Doc] = self.client.json("GET", self._doc_url(docid), params=params)
        if atts_since and attachments:
            res = [
                {"ok": _stub_known(e["ok"], atts_since, keep_revisions=revs)} if "ok" in e else e for e in res
            ]
        return res

    def _open_revs_latest(
        self, docid: str, wanted: list[str], *, revs: bool, flags: dict[str, Any]
    ) -> list[Doc]:
        """`latest=true` worked out from the leaves and their histories, the same on every
        server (some compatible servers answer nothing for a non-leaf revision)."""
        leaves = self._leaves(docid, **{**flags, "revs": "true"})
        out: list[Doc] = []
        seen: set[str] = set()
        plain: list[str] = []
        for rev in wanted:
            found = [leaf["ok"] for leaf in leaves if rev in _ancestry(leaf["ok"])]
            if not found:
                plain.append(rev)
                continue
            for doc in found:
                if doc["_rev"] not in seen:
                    seen.add(doc["_rev"])
                    if flags.get("atts_since") and flags.get("attachments"):
                        doc = _stub_known(doc, orjson.loads(flags["atts_since"]), keep_revisions=True)
                    if not revs:
                        doc = {k: v for k, v in doc.items() if k != "_revisions"}
                    out.append({"ok": doc})
        if plain:
            params = {"open_revs": encode_param(plain), **flags, "revs": _flag(revs)}
            out += self.client.json("GET", self._doc_url(docid), params=params)
        return out

    def bulk_get(
        self, requests: list[Doc], *, revs: bool = False, attachments: bool = False, latest: bool = False
    ) -> list[Doc]:
        """`_bulk_get` results: `[{"id", "docs": [{"ok": doc} | {"error": {...}}]}]`."""
        check_bulk_get(requests)
        params = {"revs": _flag(revs), "attachments": _flag(attachments), "latest": _flag(latest)}
        try:
            res = self.client.json("POST", f"{self.path}/_bulk_get", params=params, body={"docs": requests})[
                "results"
            ]
        except (NotFound, BadRequest):
            res = [{} for _ in requests]  # a server without _bulk_get: one read each
        if len(res) != len(requests) or any(
            isinstance(q, dict) and r.get("id") not in (None, q.get("id"))
            for q, r in zip(requests, res, strict=True)
        ):
            # Some servers fold repeated ids into one result: answer one by one instead.
            res = [{} for _ in requests]
        out = []
        for req, entry in zip(requests, res, strict=True):
            docid = req.get("id") if isinstance(req, dict) else None
            rev = req.get("rev") if isinstance(req, dict) else None
            docs = entry.get("docs") or []
            if is_reserved(docid) or not isinstance(docid, str) or not docid:
                docs = [{"error": {"id": docid, "rev": rev, "error": "not_found", "reason": "missing"}}]
            elif (
                not docs
                or any("ok" not in d and "error" not in d for d in docs)
                or (attachments and isinstance(req, dict) and req.get("atts_since"))
            ):
                # Answered one by one: `atts_since` is honoured the same on every server.
                # Some servers answer `{}` where CouchDB answers the document or an error
                # entry (e.g. a request without `rev`): ask for this one directly.
                docs = self._get_one(req, revs=revs, attachments=attachments, latest=latest)
            out.append({"id": docid, "docs": docs})
        return out

    def _get_one(self, req: Doc, *, revs: bool, attachments: bool, latest: bool) -> list[Doc]:
        docid, rev = req["id"], req.get("rev")
        atts_since = req.get("atts_since")

        def error(err: str, reason: str, r: Any = rev) -> Doc:
            return {"error": {"id": docid, "rev": r, "error": err, "reason": reason}}

        try:
            if rev is None:
                return [{"ok": self.get(docid, revs=revs, attachments=attachments, atts_since=atts_since)}]
            docs = []
            for entry in self.get_open_revs(
                docid, [rev], revs=revs, attachments=attachments, atts_since=atts_since, latest=latest
            ):
                docs.append(error("not_found", "missing", entry["missing"]) if "missing" in entry else entry)
            return docs
        except BranchlineError as exc:
            return [error(exc.error, exc.reason)]

    def revs_diff(self, revs: dict[str, list[str]]) -> dict[str, Doc]:
        """`{id: {"missing": [...], "possible_ancestors": [...]}}` for ids with missing revs."""
        check_revs_diff(revs)
        return self.client.json("POST", f"{self.path}/_revs_diff", body=revs) or {}

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
        """`{"total_rows", "offset", "rows": [...]}` without Branchline's design documents
        (CouchDB counts the offset cheaply, so it is answered even with `offset=False`)."""
        check_all_docs(limit, skip)
        hidden = self._hidden_ids()
        # Branchline's design documents are filtered out here, so `skip` and `limit` are
        # applied after filtering (the server is asked for enough rows to cover them).
        params: dict[str, Any] = {
            "inclusive_end": None if inclusive_end else "false",
            "limit": None if limit is None else limit + skip + len(hidden),
            "descending": _flag(descending),
            "include_docs": _flag(include_docs),
            "conflicts": _flag(conflicts),
            "attachments": _flag(attachments),
            "update_seq": _flag(update_seq),
        }
        if startkey is not None:
            params["startkey"] = encode_param(startkey)
        if endkey is not None:
            params["endkey"] = encode_param(endkey)
        if keys is not None:
            ordered = keys_window(keys, skip=skip, limit=limit, descending=descending)
            params.pop("descending", None)
            params["limit"] = None
            res = self.client.json("POST", f"{self.path}/_all_docs", params=params, body={"keys": ordered})
            rows = [
                {"key": r.get("key"), "error": "not_found"} if is_reserved(r.get("key")) else r
                for r in res["rows"]
            ]
            first = 0
        else:
            res = self.client.json("GET", f"{self.path}/_all_docs", params=params)
            rows = [r for r in res["rows"] if not is_reserved(r.get("id"))][skip:]
            if limit is not None:
                rows = rows[:limit]
            before = sum(
                1 for h in hidden if startkey is not None and (h > startkey if descending else h < startkey)
            )
            first = max(int(res.get("offset", 0) or 0) - before, 0) + skip
        total = max(int(res.get("total_rows", 0)) - len(hidden), 0)
        out: Doc = {"total_rows": total, "offset": min(first, total), "rows": rows}
        if update_seq:
            out["update_seq"] = res.get("update_seq", self.update_seq)
        return out

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
        """`{"results", "last_seq", "pending"}`, one row per document at its latest seq
        (`keep` and `candidates` are not used: CouchDB sends the rows whole anyway)."""
        ids = check_changes(style, limit, doc_ids)
        match = compile_selector(selector) if selector is not None else None
        if limit == 0:
            return {"results": [], "last_seq": since if not descending else self.update_seq, "pending": 0}
        need_docs = include_docs or match is not None
        results: list[Doc] = []
        cursor = since
        last_seq = since
        remaining: Any = 0
        while True:
            want = None if limit is None else limit - len(results)
            params: dict[str, Any] = {
                "since": _seq_param(cursor),
                "limit": want,
                "descending": _flag(descending),
                "style": "all_docs" if style == "all_docs" else None,
                "include_docs": _flag(need_docs),
                "conflicts": _flag(conflicts and need_docs),
                "attachments": _flag(attachments and need_docs),
            }
            if ids is not None:
                params["filter"] = "_doc_ids"
                res = self.client.json("POST", f"{self.path}/_changes", params=params, body={"doc_ids": ids})
            else:
                res = self.client.json("GET", f"{self.path}/_changes", params=params)
            got = res.get("results") or []
            last_seq = res.get("last_seq", last_seq)
            remaining = res.get("pending")
            left = 0  # rows of this page after the one that filled `limit`
            for i, row in enumerate(got):
                if is_reserved(row.get("id")):
                    continue
                doc = row.get("doc")
                if match is not None and (doc is None or not match(doc)):
                    continue
                if not include_docs:
                    row.pop("doc", None)
                results.append(row)
                if limit is not None and len(results) >= limit:
                    left = len(got) - i - 1
                    break
            if want is None or descending or not got or len(got) < want or len(results) >= (limit or 0):
                break
            cursor = last_seq
        cut = limit is not None and len(results) >= limit and bool(results)
        if cut and not descending:
            last_seq = results[-1]["seq"]
        if not cut:
            remaining = 0
        elif remaining is None:
            # Not every CouchDB-compatible server says (CouchDB does): count what follows,
            # unless the caller does not want it (another request per page).
            remaining = self._pending_after(last_seq, ids, descending) if pending else None
        else:
            # As on the embedded backend: every change after `last_seq`, filtered or not.
            remaining = int(remaining) + left
        return {"results": results, "last_seq": last_seq, "pending": remaining}

    def _pending_after(self, seq: Any, ids: list[str] | None, descending: bool) -> int:
        if descending:
            return 0
        params = {"since": _seq_param(seq)}
        if ids is not None:
            params["filter"] = "_doc_ids"
            res = self.client.json("POST", f"{self.path}/_changes", params=params, body={"doc_ids": ids})
        else:
            res = self.client.json("GET", f"{self.path}/_changes", params=params)
        return sum(1 for r in res.get("results") or [] if not is_reserved(r.get("id")))

    # --- writing documents -------------------------------------------------------------
    def put(self, doc: Doc, *, new_edits: bool = True) -> Doc:
        """Write one document. Returns `{"ok": True, "id", "rev"}`; raises Conflict."""
        if not isinstance(doc, dict):
            raise BadRequest("A document must be a JSON object.")
        docid = doc.get("_id")
        if isinstance(docid, str) and docid.startswith("_local/"):
            if doc.get("_deleted"):
                return self.delete_local(docid, doc.get("_rev"))
            return self.put_local(doc)
        result = self.bulk_docs([doc], new_edits=new_edits)[0]
        if "error" in result:
            raise _entry_error(result)
        return result

    def delete(self, docid: str, rev: str) -> Doc:
        if isinstance(docid, str) and docid.startswith("_local/"):
            return self.delete_local(docid, rev)
        return self.put(tombstone(docid, rev))

    def bulk_docs(self, docs: list[Doc], *, new_edits: bool = True) -> list[Doc]:
        """`_bulk_docs`: one result per input, `{ok, id, rev}` or `{id, error, reason}`."""
        check_bulk_docs(docs)
        out: list[Doc | None] = [None] * len(docs)
        send: list[tuple[int, Doc]] = []
        for i, doc in enumerate(docs):
            if not isinstance(doc, dict):
                out[i] = {
                    "id": None,
                    "error": "bad_request",
                    "reason": "Each document must be a JSON object.",
                }
            elif is_reserved(doc.get("_id")):
                err = _reserved_error(doc["_id"])
                out[i] = {"id": doc["_id"], "error": err.error, "reason": err.reason}
            elif isinstance(doc.get("_id"), str) and doc["_id"].startswith("_local/"):
                try:
                    out[i] = self.put(doc)
                except BranchlineError as exc:
                    out[i] = {"id": doc["_id"], "error": exc.error, "reason": exc.reason}
            elif not new_edits and not doc.get("_rev"):
                out[i] = {
                    "id": doc.get("_id"),
                    "error": "bad_request",
                    "reason": "A document written with new_edits=false needs a _rev.",
                }
            else:
                if new_edits and doc.get("_rev") and doc.get("_attachments"):
                    doc = self._complete_stubs(doc)
                send.append((i, doc))
        if send:
            body: Doc = {"docs": [d for _, d in send]}
            if not new_edits:
                body["new_edits"] = False
            res = self.client.json("POST", f"{self.path}/_bulk_docs", body=body) or []
            if new_edits:
                for (i, _doc), entry in zip(send, res, strict=True):
                    out[i] = entry
            else:
                # CouchDB answers only the failures of a replicated write.
                errors: dict[tuple[Any, Any], Doc] = {}
                for entry in res:
                    if "error" in entry:
                        errors[(entry.get("id"), entry.get("rev"))] = entry
                        errors.setdefault((entry.get("id"), None), entry)
                for i, doc in send:
                    failure = errors.get((doc.get("_id"), doc.get("_rev"))) or errors.get(
                        (doc.get("_id"), None)
                    )
                    if failure is not None:
                        out[i] = {
                            "id": doc.get("_id"),
                            "rev": doc.get("_rev"),
                            "error": failure["error"],
                            "reason": failure.get("reason", ""),
                        }
                    else:
                        out[i] = {"ok": True, "id": doc["_id"], "rev": doc["_rev"]}
            self._changed()
        return [o if o is not None else {"error": "internal_server_error"} for o in out]

    def _complete_stubs(self, doc: Doc) -> Doc:
        """`{"stub": true}` alone names an attachment of the edited revision; fill in its
        digest and length from that revision (CouchDB does this itself, some servers need it)."""
        atts = doc["_attachments"]
        if not isinstance(atts, dict) or not any(
            isinstance(a, dict) and a.get("stub") and "digest" not in a for a in atts.values()
        ):
            return doc
        try:
            parent = self.client.json("GET", self._doc_url(doc["_id"]), params={"rev": doc["_rev"]})
        except BranchlineError:
            return doc  # the write itself reports the problem
        known = parent.get("_attachments") or {}
        filled = {}
        for name, att in atts.items():
            if isinstance(att, dict) and att.get("stub") and "digest" not in att and name in known:
                filled[name] = {**known[name], "stub": True}
            else:
                filled[name] = att
        return {**doc, "_attachments": filled}

    # --- _local documents --------------------------------------------------------------
    def get_local(self, docid: str) -> Doc:
        docid = local_id(docid)
        doc: Doc = self.client.json("GET", self._doc_url(docid))
        doc["_id"] = docid
        return doc

    def put_local(self, doc: Doc) -> Doc:
        if not isinstance(doc, dict):
            raise BadRequest("A document must be a JSON object.")
        docid = local_id(doc.get("_id"))
        res = self.client.json("PUT", self._doc_url(docid), body={**doc, "_id": docid})
        return {"ok": True, "id": docid, "rev": res.get("rev")}

    def delete_local(self, docid: str, rev: str | None) -> Doc:
        docid = local_id(docid)
        if rev is None:
            rev = self.get_local(docid)["_rev"]
        self.client.json("DELETE", self._doc_url(docid), params={"rev": rev})
        return {"ok": True, "id": docid, "rev": "0-0"}

    # --- attachments -------------------------------------------------------------------
    def get_attachment(self, docid: str, name: str, *, rev: str | None = None) -> tuple[bytes, str, str]:
        """`(data, content_type, digest)` of an attachment, from any revision incl. losers."""
        if is_reserved(docid):
            raise NotFound("missing")
        _status, headers, data = self.client.request(
            "GET", f"{self._doc_url(docid)}/{_att_path(name)}", params={"rev": rev}, headers={"Accept": "*/*"}
        )
        content_type = headers.get("Content-Type") or "application/octet-stream"
        digest = "md5-" + base64.b64encode(hashlib.md5(data).digest()).decode("ascii")
        return data, content_type, digest

    def put_attachment(
        self, docid: str, name: str, data: bytes, content_type: str, *, rev: str | None
    ) -> Doc:
        if not isinstance(name, str) or not name or name.startswith("_"):
            raise BadRequest("Attachment names must be non-empty and not start with '_'.")
        if is_reserved(docid):
            raise _reserved_error(docid)
        res = self.client.json(
            "PUT",
            f"{self._doc_url(docid)}/{_att_path(name)}",
            params={"rev": rev},
            raw=bytes(data),
            content_type=content_type or "application/octet-stream",
        )
        self._changed()
        return {"ok": True, "id": res.get("id", docid), "rev": res["rev"]}

    def delete_attachment(self, docid: str, name: str, *, rev: str) -> Doc:
        if is_reserved(docid):
            raise _reserved_error(docid)
        res = self.client.json("DELETE", f"{self._doc_url(docid)}/{_att_path(name)}", params={"rev": rev})
        self._changed()
        return {"ok": True, "id": res.get("id", docid), "rev": res["rev"]}


def _stub_known(doc: Doc, atts_since: list[str], *, keep_revisions: bool) -> Doc:
    """Attachments the client already holds (no newer than the most recent ancestor it
    names in `atts_since`) as stubs instead of data, as CouchDB sends them."""
    chain = _ancestry(doc)
    known = [
        int(r.split("-", 1)[0])
        for r in atts_since
        if isinstance(r, str) and r in chain and r.split("-", 1)[0].isdigit()
    ]
    cutoff = max(known, default=0)
    atts = doc.get("_attachments") or {}
    if cutoff and atts:
        out = {}
        for name, att in atts.items():
            if "data" in att and int(att.get("revpos", 0)) <= cutoff:
                length = att.get("length")
                if length is None:
                    length = len(base64.b64decode(att["data"]))
                att = {k: v for k, v in att.items() if k != "data"}
                att.update({"stub": True, "length": length})
            out[name] = att
        doc = {**doc, "_attachments": out}
    if not keep_revisions:
        doc = {k: v for k, v in doc.items() if k != "_revisions"}
    return doc


def _rev_key(rev: str) -> tuple[int, str]:
    pos, _, rid = rev.partition("-")
    return (int(pos) if pos.isdigit() else 0, rid)


def _ancestry(doc: Doc) -> set[str]:
    """Revisions named by a document's `_revisions` (itself first)."""
    history = doc.get("_revisions") or {}
    start, ids = history.get("start"), history.get("ids") or []
    if not isinstance(start, int):
        rev = doc.get("_rev")
        return {rev} if isinstance(rev, str) else set()
    return {f"{start - i}-{rid}" for i, rid in enumerate(ids)}


def _att_path(name: str) -> str:
    return quote(name, safe="")


def _seq_param(seq: Any) -> str | None:
    if seq is None or seq == "":
        return None
    if isinstance(seq, str):
        return seq
    if isinstance(seq, bool):
        raise BadRequest(f"Invalid since value {seq!r}.")
    if isinstance(seq, int):
        return str(seq)
    return encode_param(seq)


def _entry_error(entry: Doc) -> BranchlineError:
    error = entry.get("error") or "bad_request"
    reason = entry.get("reason") or error
    by_error = {
        "conflict": 409,
        "forbidden": 403,
        "not_found": 404,
        "bad_request": 400,
        "unauthorized": 403,
        "missing_stub": 412,
        "doc_validation": 400,
        "illegal_docid": 400,
        "file_exists": 412,
        "too_large": 413,
    }
    cls = _BY_STATUS.get(by_error.get(error, 400), BadRequest)
    return cls(reason, error=error)


class CouchStore:
    """Every database of one CouchDB server or Cloudant account. Implements `sync.store.Store`."""

    def __init__(
        self,
        url: str | None,
        user: str | None = None,
        password: str | None = None,
        *,
        design_docs: bool = True,
        validator: bool | None = None,
    ) -> None:
        """`validator=None` installs the validator except on pouchdb-server, whose
        validation layer silently drops replicated (`new_edits=false`) writes once a
        `validate_doc_update` exists; CouchDB and Cloudant run it correctly."""
        if not url:
            raise BadRequest("The CouchDB backend needs a URL (BRANCHLINE_COUCHDB_URL).")
        self.client = CouchClient(url, user, password)
        self.user = user
        self.design_docs = design_docs
        self._lock = threading.RLock()
        self._open: dict[str, CouchDatabase] = {}
        self._listeners: list[Callable[[str, Any], None]] = []
        self._watcher: ChangeWatcher | None = None
        self._ddocs_checked: set[str] = set()
        self._validator = validator

    @property
    def validator(self) -> bool:
        if self._validator is None:
            welcome = self.client.json("GET", "/") or {}
            self._validator = "express-pouchdb" not in welcome
            if not self._validator:
                _log.warning(
                    "pouchdb-server detected: Branchline's validate_doc_update is not "
                    "installed (it would drop replicated writes there)"
                )
        return self._validator

    # --- listeners ---------------------------------------------------------------------
    def _notify(self, name: str, seq: Any) -> None:
        for callback in list(self._listeners):
            try:
                callback(name, seq)
            except Exception:  # noqa: BLE001 - a broken follower must not fail the write
                _log.exception("change listener failed for %s", name)

    def add_listener(self, callback: Any) -> None:
        """Register `callback(db_name, seq)`: this process's writes at once, other
        instances' writes as CouchDB reports them (`_db_updates` or `_changes`)."""
        with self._lock:
            self._listeners.append(callback)
            if self._watcher is None:
                self._watcher = ChangeWatcher(self.client, self._notify)
                self._watcher.start()
                for name in self._open:
                    self._watcher.follow(name)

    def observe_writes(
        self, callback: Callable[[str, list[str] | None], None], forget: Callable[[], None] | None = None
    ) -> bool:
        """Never: other instances write the same databases, and their writes are reported
        late (by the watcher), so no cache may rest on this store's own writes."""
        return False

    # --- databases ---------------------------------------------------------------------
    def security_object(self) -> Doc:
        """Only the service account and server admins may read or write a database."""
        names = [self.user] if self.user else []
        return {
            "admins": {"names": names, "roles": ["_admin"]},
            "members": {"names": names, "roles": ["_admin"]},
        }

    def _opened(self, name: str) -> CouchDatabase:
        with self._lock:
            db = self._open.get(name)
            if db is None:
                db = self._open[name] = CouchDatabase(self, name)
                if self._watcher is not None:
                    self._watcher.follow(name)
        return db

    def create_db(self, name: str) -> CouchDatabase:
        """Create a database with its `_security` object and Branchline's design documents."""
        check_db_name(name)
        status, _h, _b = self.client.request("PUT", db_path(name), ok_statuses=(412,))
        if status == 412:
            raise PreconditionFailed(f"Database {name!r} already exists.", error="file_exists")
        db = self._opened(name)
        db.set_security(self.security_object())
        self._ensure_design_docs(db)
        return db

    def db(self, name: str) -> CouchDatabase:
        """Open an existing database. Raises NotFound if missing."""
        check_db_name(name)
        with self._lock:
            db = self._open.get(name)
        if db is not None:
            return db
        if not self.db_exists(name):
            raise NotFound(f"Database {name!r} does not exist.", error="not_found")
        db = self._opened(name)
        self._ensure_design_docs(db)
        return db

    def delete_db(self, name: str) -> None:
        check_db_name(name)
        if not self.db_exists(name):
            raise NotFound(f"Database {name!r} does not exist.", error="not_found")
        with self._lock:
            self._open.pop(name, None)
            self._ddocs_checked.discard(name)
        status, _h, _b = self.client.request("DELETE", db_path(name), ok_statuses=(404,))
        if status == 404:
            raise NotFound(f"Database {name!r} does not exist.", error="not_found")
        if self._watcher is not None:
            self._watcher.unfollow(name)

    def db_exists(self, name: str) -> bool:
        try:
            check_db_name(name)
        except BadRequest:
            return False
        status, _h, _b = self.client.request("HEAD", db_path(name), ok_statuses=(404,))
        return status == 200

    def list_dbs(self) -> list[str]:
        """Every database Branchline may use (CouchDB's own `_users`, ... left out), sorted."""
        names = self.client.json("GET", "/_all_dbs")
        return sorted(n for n in names if not n.startswith("_"))

    def close(self) -> None:
        with self._lock:
            watcher, self._watcher = self._watcher, None
            self._open.clear()
        if watcher is not None:
            watcher.stop()

    # --- design documents ---------------------------------------------------------------
    def _ensure_design_docs(self, db: CouchDatabase) -> None:
        if not self.design_docs or db.name in self._ddocs_checked:
            return
        try:
            install_design_docs(db, validator=self.validator)
        except CouchUnavailable:
            raise
        except BranchlineError:
            # Another instance may be installing the same version right now; the next
            # start tries again. Branchline's own checks do not depend on them.
            _log.exception("installing design documents into %s failed", db.name)
        with self._lock:
            self._ddocs_checked.add(db.name)

    def upgrade_design_docs(self) -> dict[str, list[str]]:
        """Install or upgrade Branchline's design documents in every database now."""
        report: dict[str, list[str]] = {}
        for name in self.list_dbs():
            report[name] = install_design_docs(self._opened(name), validator=self.validator)
            with self._lock:
                self._ddocs_checked.add(name)
        return report

    def conflicts_count(self, name: str) -> int | None:
        """Documents with conflicts in database `name` (the `branchline-conflicts` view)."""
        return conflicts_count(self.db(name), validator=self.validator)
