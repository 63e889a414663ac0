"""Scripts: drafts edited with `_rev`, immutable published versions, archive, import/export.

Storage: the tenant's own `scripts` database, made on first use (see DOCUMENTS.md), not the
`trees` database, because the two differ in who may read. Every role reads every document
of `trees`; here engineers and viewers must receive only what was published (a draft may be
half-written and unreviewed, and a high-risk script must not reach a device before an author
published it), while they still need the published copies on their device to copy a script
offline. The `scripts` sync rules (`sync_rules.py`) give them exactly that. Nobody writes the
database over sync: every change goes through the API, which validates it and audits it.

- `script:{slug}`: the draft (authors, admins and owners read it).
- `scriptver:{slug}:{n}`: published version n, an immutable copy (every role reads it).
- `scriptmeta:{slug}`: the server's sidecar (latest version, archived, timestamps, starter
  origin; every role reads it, so a device knows which version is current).

No secret value is ever stored: a `secret` parameter has no default, and rendered text is
answered, never kept.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sync.access import Principal, Role
from sync.errors import BadRequest, Conflict, NotFound

from ..core.context import AppContext
from ..core.docs import by_prefix, check_write_limits, ensure_tenant_db, get_or_none, retry_on_conflict, save
from ..core.timeutil import iso
from .models import SCRIPT_ID_RE, check_script
from .render import render

DATABASE = "scripts"
WRITERS: tuple[Role, ...] = ("owner", "admin", "author")
EXPORT_FORMAT = "branchline.script"


def scripts_db(ctx: AppContext, tenant_id: str):
    return ensure_tenant_db(ctx.store, tenant_id, DATABASE)


def slug_of(script_id: str) -> str:
    return script_id.split(":", 1)[1]


def normalize_id(raw: str) -> str:
    script_id = raw if raw.startswith("script:") else "script:" + raw
    if not SCRIPT_ID_RE.match(script_id):
        raise NotFound(f"No script {raw!r}: script ids look like script:restart-citrix-services.")
    return script_id


def version_id(script_id: str, version: int) -> str:
    return f"scriptver:{slug_of(script_id)}:{version}"


def meta_id(script_id: str) -> str:
    return "scriptmeta:" + slug_of(script_id)


def slugify(name: str) -> str:
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:56].strip("-") or "script"


def is_writer(who: Principal) -> bool:
    return who.role in WRITERS


def get_meta(db, script_id: str) -> dict[str, Any]:
    return get_or_none(db, meta_id(script_id)) or {
        "_id": meta_id(script_id),
        "type": "script_meta",
        "schema_version": 1,
        "script_id": script_id,
        "latest_version": None,
    }


def touch_meta(db, script_id: str, **fields: Any) -> dict[str, Any]:
    return retry_on_conflict(
        lambda: save(db, {**get_meta(db, script_id), **fields}),
        busy="The script's metadata is being changed by another request; try again.",
    )


def _stored(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_") or k in ("_id", "_rev")}


def create_script(ctx: AppContext, who: Principal, body: Any) -> dict[str, Any]:
    doc = check_script(body)
    doc.pop("_rev", None)
    db = scripts_db(ctx, who.tenant_id)
    explicit = doc.get("_id")
    base = slugify(doc["name"])
    candidates = [explicit] if explicit else [f"script:{base}"] + [f"script:{base}-{n}" for n in range(2, 50)]
    for script_id in candidates:
        doc["_id"] = script_id
        try:
            check_write_limits(ctx, db, doc)
            saved = save(db, dict(doc))
            break
        except Conflict:
            if explicit:
                raise Conflict(
                    f"A script with the id {script_id} already exists; choose another id or edit that script."
                ) from None
    else:
        raise Conflict("Could not find a free id for this name; give the script an explicit _id.")
    now = iso()
    touch_meta(db, saved["_id"], created_at=now, updated_at=now, updated_by=who.user_id)
    return saved


def _draft(db, script_id: str) -> dict[str, Any]:
    doc = get_or_none(db, script_id)
    if doc is None:
        raise NotFound(f"No script {script_id} in this tenant.")
    return doc


def get_script(ctx: AppContext, who: Principal, script_id: str) -> dict[str, Any]:
    """Authors get the draft with its `_rev`; engineers and viewers the latest published copy."""
    script_id = normalize_id(script_id)
    db = scripts_db(ctx, who.tenant_id)
    meta = get_meta(db, script_id)
    if is_writer(who):
        doc = _draft(db, script_id)
        return {**doc, "latest_version": meta.get("latest_version")}
    published = get_version(ctx, who, script_id, None)
    return {**published["script"], "version": published["version"], "latest_version": published["version"]}


# What GET adds to a draft: a client may send the draft back as it loaded it.
READ_ONLY_FIELDS = ("latest_version",)


def update_script(ctx: AppContext, who: Principal, script_id: str, body: Any) -> dict[str, Any]:
    script_id = normalize_id(script_id)
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in READ_ONLY_FIELDS}
    doc = check_script(body)
    if doc.get("_id", script_id) != script_id:
        raise BadRequest(f"The body's _id {doc.get('_id')!r} does not match the URL's {script_id}.")
    if not doc.get("_rev"):
        raise BadRequest("Send the draft's _rev (from GET) so a newer edit is never overwritten.")
    doc["_id"] = script_id
    db = scripts_db(ctx, who.tenant_id)
    _draft(db, script_id)
    try:
        check_write_limits(ctx, db, doc)
        saved = save(db, doc)
    except Conflict:
        raise Conflict(
            f"The draft of {script_id} was changed since you loaded it (your _rev is stale). "
            "Load it again, re-apply your change, and save."
        ) from None
    touch_meta(db, script_id, updated_at=iso(), updated_by=who.user_id, archived=saved.get("archived", False))
    return saved


def archive_script(ctx: AppContext, who: Principal, script_id: str) -> dict[str, Any]:
    """Take a script out of the library; its published versions stay readable."""
    script_id = normalize_id(script_id)
    db = scripts_db(ctx, who.tenant_id)

    def attempt() -> dict[str, Any]:
        doc = _draft(db, script_id)
        return doc if doc.get("archived") else save(db, {**doc, "archived": True})

    saved = retry_on_conflict(attempt, busy="The script is being edited right now; try archiving again.")
    touch_meta(db, script_id, updated_at=iso(), updated_by=who.user_id, archived=True)
    return saved


def publish(
    ctx: AppContext, who: Principal, script_id: str, *, change_note: str = "", rev: str | None = None
) -> dict[str, Any]:
    """Freeze the draft as the next immutable version."""
    script_id = normalize_id(script_id)
    db = scripts_db(ctx, who.tenant_id)
    draft = _draft(db, script_id)
    if rev and draft["_rev"] != rev:
        raise Conflict("The draft changed since you loaded it; reload it and publish again.")
    frozen = check_script({k: v for k, v in draft.items() if k != "_rev"})
    frozen.pop("archived", None)

    def attempt() -> dict[str, Any]:
        version = (get_meta(db, script_id).get("latest_version") or 0) + 1
        return save(
            db,
            {
                "_id": version_id(script_id, version),
                "type": "script_version",
                "schema_version": 1,
                "script_id": script_id,
                "version": version,
                "published_at": iso(),
                "published_by": who.user_id,
                "change_note": (change_note or "").strip()[:2000],
                "script": frozen,
            },
        )

    saved = retry_on_conflict(attempt, busy="Several publishes of this script are racing; try again.")
    touch_meta(
        db,
        script_id,
        latest_version=saved["version"],
        published_at=saved["published_at"],
        published_rev=draft["_rev"],
        risk=frozen["risk"],
        archived=bool(draft.get("archived")),
    )
    return saved


def list_versions(ctx: AppContext, who: Principal, script_id: str) -> list[dict[str, Any]]:
    script_id = normalize_id(script_id)
    db = scripts_db(ctx, who.tenant_id)
    docs = [d for d in by_prefix(db, f"scriptver:{slug_of(script_id)}:") if d.get("script_id") == script_id]
    if not docs and (not is_writer(who) or get_or_none(db, script_id) is None):
        raise NotFound(f"No published script {script_id} in this tenant.")
    docs.sort(key=lambda d: d["version"], reverse=True)
    return [
        {
            "version": d["version"],
            "published_at": d["published_at"],
            "published_by": d["published_by"],
            "change_note": d.get("change_note", ""),
            "risk": d["script"]["risk"],
            "id": d["_id"],
        }
        for d in docs
    ]


def get_version(ctx: AppContext, who: Principal, script_id: str, version: int | None) -> dict[str, Any]:
    """A published version (the latest when `version` is None)."""
    script_id = normalize_id(script_id)
    db = scripts_db(ctx, who.tenant_id)
    if version is None:
        version = get_meta(db, script_id).get("latest_version")
        if not version:
            raise NotFound(
                f"{script_id} has no published version in this tenant; an author publishes it first."
            )
    doc = get_or_none(db, version_id(script_id, version))
    if doc is None:
        raise NotFound(f"{script_id} has no version {version}.")
    return {k: v for k, v in doc.items() if not k.startswith("_") or k == "_id"}


def _matches(doc: dict[str, Any], q: str | None, risk: str | None, tag: str | None) -> bool:
    if risk and doc.get("risk") != risk:
        return False
    if tag and tag.casefold() not in {t.casefold() for t in doc.get("tags", [])}:
        return False
    if q:
        hay = " ".join([doc.get("name", ""), doc.get("description", ""), *doc.get("tags", [])]).casefold()
        return all(word in hay for word in q.casefold().split())
    return True


def _summary(doc: dict[str, Any], meta: dict[str, Any], version: int | None) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        "name": doc["name"],
        "description": doc.get("description", ""),
        "risk": doc["risk"],
        "tags": doc.get("tags", []),
        "parameters": [{"name": p["name"], "type": p["type"]} for p in doc.get("parameters", [])],
        "archived": bool(meta.get("archived") or doc.get("archived")),
        "latest_version": meta.get("latest_version"),
        "version": version,
        "updated_at": meta.get("updated_at"),
        "starter": bool(meta.get("starter")),
    }


def list_scripts(
    ctx: AppContext,
    who: Principal,
    *,
    q: str | None = None,
    risk: str | None = None,
    tag: str | None = None,
    include_archived: bool = False,
) -> list[dict[str, Any]]:
    """The library sorted by name: drafts for authors, the latest published copies for others."""
    db = scripts_db(ctx, who.tenant_id)
    metas = {d["script_id"]: d for d in by_prefix(db, "scriptmeta:") if d.get("script_id")}
    rows = []
    if is_writer(who):
        for doc in by_prefix(db, "script:"):
            meta = metas.get(doc["_id"], {})
            rows.append(_summary(doc, meta, None))
    else:
        for script_id, meta in metas.items():
            if not meta.get("latest_version"):
                continue
            ver = get_or_none(db, version_id(script_id, meta["latest_version"]))
            if ver is not None:
                rows.append(_summary({**ver["script"], "_id": script_id}, meta, ver["version"]))
    rows = [r for r in rows if (include_archived or not r["archived"]) and _matches(r, q, risk, tag)]
    rows.sort(key=lambda r: (r["name"].casefold(), r["id"]))
    return rows


def render_script(
    ctx: AppContext,
    who: Principal,
    script_id: str,
    values: dict[str, Any],
    *,
    version: int | None = None,
    draft: bool = False,
) -> dict[str, Any]:
    """Render a published version (the latest by default), or the draft for authors."""
    script_id = normalize_id(script_id)
    if draft:
        if not is_writer(who):
            raise NotFound(f"No draft of {script_id} for the {who.role} role; render a published version.")
        doc = check_script(
            {k: v for k, v in _draft(scripts_db(ctx, who.tenant_id), script_id).items() if k != "_rev"}
        )
        return {"script": render(doc, values), "script_id": script_id, "version": None, "risk": doc["risk"]}
    published = get_version(ctx, who, script_id, version)
    script = {**published["script"], "version": published["version"]}
    return {
        "script": render(script, values),
        "script_id": script_id,
        "version": published["version"],
        "risk": script["risk"],
    }


def export_script(ctx: AppContext, who: Principal, script_id: str) -> dict[str, Any]:
    """The draft as a portable file: the script without revision metadata."""
    script_id = normalize_id(script_id)
    doc = _draft(scripts_db(ctx, who.tenant_id), script_id)
    return {"format": EXPORT_FORMAT, **{k: v for k, v in doc.items() if k != "_rev"}}


def import_script(ctx: AppContext, who: Principal, body: Any, *, replace: bool = False) -> dict[str, Any]:
    """Import an exported script as a draft (an existing id is a 409 unless `replace`)."""
    if isinstance(body, dict):
        if body.get("format", EXPORT_FORMAT) != EXPORT_FORMAT:
            raise BadRequest(f"format: this is not a script export (expected {EXPORT_FORMAT!r}).")
        body = {k: v for k, v in body.items() if k not in ("format", "_rev")}
    doc = check_script(body)
    if not doc.get("_id"):
        return create_script(ctx, who, doc)
    db = scripts_db(ctx, who.tenant_id)
    current = get_or_none(db, doc["_id"])
    if current is None:
        return create_script(ctx, who, doc)
    if not replace:
        raise Conflict(
            f"A script with the id {doc['_id']} already exists; import with ?replace=true to "
            "overwrite its draft, or change the _id in the file."
        )
    doc["_rev"] = current["_rev"]
    check_write_limits(ctx, db, doc)
    saved = save(db, doc)
    touch_meta(
        db, doc["_id"], updated_at=iso(), updated_by=who.user_id, archived=saved.get("archived", False)
    )
    return saved


def published_library(ctx: AppContext, tenant_id: str) -> dict[str, dict[str, Any]]:
    """Every published, non-archived script of the tenant at its latest version, keyed by id:
    what a tree's action steps may name (`api.trees.script_refs`)."""
    db = scripts_db(ctx, tenant_id)
    out: dict[str, dict[str, Any]] = {}
    for meta in by_prefix(db, "scriptmeta:"):
        script_id, latest = meta.get("script_id"), meta.get("latest_version")
        if not script_id or not latest or meta.get("archived"):
            continue
        ver = get_or_none(db, version_id(script_id, latest))
        if ver is not None and isinstance(ver.get("script"), dict):
            out[script_id] = {**ver["script"], "version": latest}
    return out
