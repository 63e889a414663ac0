"""Branchline's design documents on the CouchDB backend: install, upgrade, query.

The sources live as plain files under `design_docs/couchdb/` (see design_docs/README.md):

- `_design/branchline-validate`: `validate_doc_update` (tenant databases).
- `_design/branchline-conflicts`: the `conflicts` view (map + `_count`), every database.
- `_design/branchline-idx-<name>-<hash>`: the Mango indexes of `indexes.json`.

Each design document carries `branchline_version`, a hash of its content; an unchanged
document is left alone, so a restart costs one read per document.

Upgrades happen without downtime, stage then swap: a changed view is first written under
a staging id and queried, which makes CouchDB build its index while the old view keeps
answering; the live document is then replaced with identical view code, so CouchDB (which
keys indexes by their content) serves it from the index just built, and the staging copy
is deleted. A changed Mango index gets a new design document (its name carries the hash),
is built by a query, and only then is the old one removed. The validator has no index
and is replaced in one write.

Several instances may start at once: a write that loses a race (409) is checked again,
and whichever instance wrote the same version first wins.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Protocol

import orjson

from .couchdb_client import CouchClient, doc_path, encode_param
from .errors import Conflict, NotFound
from .naming import SYSTEM_DB, parse_physical

_log = logging.getLogger(__name__)

SOURCE_DIR = Path(__file__).resolve().parents[1] / "design_docs" / "couchdb"
VALIDATE_ID = "_design/branchline-validate"
CONFLICTS_ID = "_design/branchline-conflicts"
STAGING_SUFFIX = "-staging"
INDEX_PREFIX = "_design/branchline-idx-"


class DesignTarget(Protocol):
    """The database design documents are written to (`couchdb.CouchDatabase` is one).

    Typed by shape, so this module needs only the client: the store imports it, never the
    other way round.
    """

    @property
    def client(self) -> CouchClient: ...

    @property
    def name(self) -> str: ...

    @property
    def path(self) -> str: ...


def _doc_url(db: DesignTarget, docid: str) -> str:
    return f"{db.path}/{doc_path(docid)}"


def _version(content: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def logical_of(physical: str) -> str | None:
    """`trees` for `t_abc123_trees`, `system` for the system database, else None."""
    if physical == SYSTEM_DB:
        return "system"
    parsed = parse_physical(physical)
    return None if parsed is None else parsed.name


def validate_ddoc() -> dict[str, Any]:
    source = (SOURCE_DIR / "branchline-validate" / "validate_doc_update.js").read_text()
    content = {"language": "javascript", "validate_doc_update": source.strip()}
    return {**content, "branchline_version": _version(content)}


def conflicts_ddoc() -> dict[str, Any]:
    base = SOURCE_DIR / "branchline-conflicts" / "views" / "conflicts"
    content = {
        "language": "javascript",
        "views": {
            "conflicts": {
                "map": (base / "map.js").read_text().strip(),
                "reduce": (base / "reduce").read_text().strip(),
            }
        },
    }
    return {**content, "branchline_version": _version(content)}


def mango_indexes(logical: str) -> list[dict[str, Any]]:
    spec = orjson.loads((SOURCE_DIR / "indexes.json").read_bytes())
    out = []
    for entry in spec["indexes"]:
        if logical in entry["databases"]:
            index = {"index": entry["index"], "name": entry["name"], "type": "json"}
            out.append({**index, "ddoc": f"branchline-idx-{entry['name']}-{_version(index)[:8]}"})
    return out


def _current(db: DesignTarget, docid: str) -> dict[str, Any] | None:
    try:
        doc: dict[str, Any] = db.client.json("GET", _doc_url(db, docid))
    except NotFound:
        return None
    return doc


def _put(db: DesignTarget, docid: str, doc: dict[str, Any]) -> bool:
    """Write `doc` over whatever is there; False when another writer got there first."""
    current = _current(db, docid)
    if current is not None and current.get("branchline_version") == doc.get("branchline_version"):
        return False
    body = {**doc, "_id": docid}
    if current is not None:
        body["_rev"] = current["_rev"]
    try:
        db.client.json("PUT", _doc_url(db, docid), body=body)
    except Conflict:
        return False
    return True


def _delete(db: DesignTarget, docid: str) -> None:
    current = _current(db, docid)
    if current is not None:
        try:
            db.client.json("DELETE", _doc_url(db, docid), params={"rev": current["_rev"]})
        except (Conflict, NotFound):
            pass


def _install_view(db: DesignTarget, docid: str, ddoc: dict[str, Any]) -> bool:
    live = _current(db, docid)
    if live is not None and live.get("branchline_version") == ddoc["branchline_version"]:
        return False
    view = next(iter(ddoc["views"]))
    if live is not None:
        # Stage: build the new index beside the old one, which keeps answering.
        staging = docid + STAGING_SUFFIX
        _put(db, staging, ddoc)
        db.client.json("GET", f"{_doc_url(db, staging)}/_view/{view}", params={"limit": "0"}, timeout=3600)
        _put(db, docid, ddoc)  # swap: same code, so the built index is reused
        _delete(db, staging)
    else:
        _put(db, docid, ddoc)
    return True


def _install_indexes(db: DesignTarget, logical: str) -> list[str]:
    wanted = mango_indexes(logical)
    existing = db.client.json(
        "GET",
        f"{db.path}/_all_docs",
        params={"startkey": encode_param(INDEX_PREFIX), "endkey": encode_param(INDEX_PREFIX + "\ufff0")},
    )
    have = {row["id"] for row in existing["rows"]}
    done = []
    for index in wanted:
        ddoc_id = "_design/" + index["ddoc"]
        if ddoc_id in have:
            continue
        db.client.json("POST", f"{db.path}/_index", body=index)
        # Build it now (a query through the index), before the old one goes.
        db.client.json(
            "POST",
            f"{db.path}/_find",
            body={
                "selector": {f: {"$exists": True} for f in index["index"]["fields"]},
                "use_index": [index["ddoc"], index["name"]],
                "limit": 1,
            },
            timeout=3600,
        )
        done.append(ddoc_id)
    keep = {"_design/" + i["ddoc"] for i in wanted}
    for stale in have - keep:
        _delete(db, stale)
        done.append(f"removed {stale}")
    return done


def install_design_docs(db: DesignTarget, *, validator: bool = True) -> list[str]:
    """Install or upgrade Branchline's design documents in `db`; returns what changed."""
    logical = logical_of(db.name)
    changed: list[str] = []
    if logical is not None and logical != "system":
        if validator:
            if _put(db, VALIDATE_ID, validate_ddoc()):
                changed.append(VALIDATE_ID)
        elif _current(db, VALIDATE_ID) is not None:
            _delete(db, VALIDATE_ID)
            changed.append(f"removed {VALIDATE_ID}")
    if _install_view(db, CONFLICTS_ID, conflicts_ddoc()):
        changed.append(CONFLICTS_ID)
    if logical is not None:
        changed += _install_indexes(db, logical)
    if changed:
        _log.info("design documents of %s: %s", db.name, ", ".join(changed))
    return changed


def conflicts_count(db: DesignTarget, *, validator: bool) -> int:
    """How many documents of `db` have conflicting revisions (the `conflicts` view)."""
    try:
        res = db.client.json(
            "GET", f"{_doc_url(db, CONFLICTS_ID)}/_view/conflicts", params={"reduce": "true"}
        )
    except NotFound:
        install_design_docs(db, validator=validator)
        res = db.client.json(
            "GET", f"{_doc_url(db, CONFLICTS_ID)}/_view/conflicts", params={"reduce": "true"}
        )
    rows = res.get("rows") or []
    return int(rows[0]["value"]) if rows else 0
