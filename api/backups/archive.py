"""A workspace's portable archive: download it (`GET /api/v1/backups/archive`) and recreate
the workspace from it on any instance and either backend (`branchline tenant import`).

The archive is a zip file:

- `manifest.json`: `format` (`branchline-workspace-archive`), `version` (1), `created_at`,
  `source` (`tenant_id`, `name`, `backend`), `databases` (per logical name: `file`,
  `revisions`, `revs_limit`, `security`), `system` (`file`, `documents`), `attachments`
  (`count`, `bytes`) and `left_out` (what was deliberately not put in, below). Written last,
  as the counts are only known at the end.
- `databases/{name}.ndjson`: one line per leaf revision of every document (deleted ones and
  conflicts included), each as CouchDB's `_bulk_docs` with `new_edits=false` takes it:
  `_id`, `_rev`, `_revisions`, the body and `_attachments` with their data inline.
- `system.ndjson`: the workspace's own documents of the system database, without `_rev`:
  the `tenant:` document, users, teams, export settings and templates, attachment settings
  and records, the brand's logo, deleted sessions' access records.
- `attachments/{attachment_id}`: the bytes of every stored attachment (object storage on
  S3, a folder on the embedded default).

The archive is built while it is sent: one batch of 200 revisions or one attachment is in
memory at a time, never the whole archive.

What does not travel, and why (per kind):

- Password hashes, sign-in state (`token_epoch`, ended sign-ins), pending invitations' and
  password reset links' hashes and lock-out records of users: a copy of the archive (mailed, left in a
  downloads folder) must not be an offline dictionary attack on the team's passwords, nor
  carry anything that opens a session. Imported users get a random password nobody knows;
  the import prints a new one for each owner, who resets the others' (Team admin).
- Refresh tokens and sign-in families, API keys (their hashes), share links (their token
  hashes), SSO flows, codes and claims, login throttles: credentials and instance-wide
  claims. Keys and links are made again after a move.
- The `webhooks` and `integrations` databases: their secrets are sealed with a key derived
  from this instance's secret, useless elsewhere, and their outboxes would deliver or push
  again from the new instance. Webhooks, PSA/RMM connectors and SSO are configured again.
- The `mail` database (api/mail): queued messages are sealed with this instance's key (an
  invitation or reset link signs its holder in) and would be sent again; the sent-mail log
  stays with the instance that sent it.
- A verified custom domain (`brand.custom_domain`): a domain is claimed per instance and
  verified by its operator (`branchline domain verify`).

The `audit` database travels (it is the workspace's record) but is not loaded by the
import: its head is signed with the old instance's key, so the new instance would report
it as tampered. The new workspace's log starts with `tenant.imported`, which names the
archive's date and how many entries the archived log held.
"""

from __future__ import annotations

import hashlib
import logging
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from sync.errors import BadRequest, BranchlineError, Conflict
from sync.naming import is_tenant_id, physical_name

from ..attachments.service import MAX_SIZE_MB_CAP, storage_of
from ..auth.passwords import hash_password
from ..core.context import AppContext
from ..core.docs import by_prefix, get_or_none
from ..tenants import repository as tenants
from ..users import repository as users
from ..users.service import generate_password
from .service import SECURITY_DOC, leaf_revisions, write_revisions

log = logging.getLogger("branchline.backups")

ARCHIVE_FORMAT = "branchline-workspace-archive"
ARCHIVE_VERSION = 1
BATCH = 200

# Databases left out of the archive (module docstring: sealed secrets, outboxes).
EXCLUDED_DATABASES = frozenset({"webhooks", "integrations", "mail"})
# In the archive, not loaded by the import (its head is signed by the old instance).
NOT_IMPORTED = frozenset({"audit"})

# The workspace's documents of the system database: one document each, and families by prefix.
_SINGLE = ("tenant", "exportcfg", "attsettings", "brandlogo")
_FAMILIES = ("user", "team", "exporttpl", "attmeta", "sessdel")
# Each kind's `type`: the import takes only these, so a hand-made archive cannot bring the
# operator's quota override, an API key or a sign-in of its maker's (design_docs/DOCUMENTS.md).
_KIND_TYPES = {
    "tenant": "tenant",
    "exportcfg": "export_settings",
    "attsettings": "attachment_settings",
    "brandlogo": "brand_logo",
    "user": "user",
    "team": "team",
    "exporttpl": "export_template",
    "attmeta": "attachment",
    "sessdel": "session_deleted",
}
_USER_FIELDS_LEFT_OUT = (
    "password_hash",
    "token_epoch",
    "ended_families",
    "invite",
    "password_reset",  # the hash of an e-mailed link that sets a password and signs in
    "security_events",
)

LEFT_OUT = {
    "databases": sorted(EXCLUDED_DATABASES),
    "user_fields": list(_USER_FIELDS_LEFT_OUT),
    "documents": [
        "refresh tokens and sign-in families",
        "API keys",
        "share links",
        "single sign-on settings, flows and claims",
        "login throttles",
    ],
    "not_imported": sorted(NOT_IMPORTED),
}


# --- export ------------------------------------------------------------------------------------


class _Chunks:
    """A write-only, unseekable file for `zipfile`: it keeps what was written until the
    response takes it, so the archive leaves as it is made."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.pos = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self.pos

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


def system_documents(ctx: AppContext, tenant_id: str) -> list[dict[str, Any]]:
    """The workspace's own system documents as they travel: no `_rev`, no secrets."""
    docs: list[dict[str, Any]] = []
    for kind in _SINGLE:
        doc = get_or_none(ctx.system, f"{kind}:{tenant_id}")
        if doc is not None:
            docs.append(doc)
    for kind in _FAMILIES:
        docs.extend(by_prefix(ctx.system, f"{kind}:{tenant_id}:"))
    out = []
    for doc in docs:
        body = {k: v for k, v in doc.items() if k not in ("_rev", "_conflicts")}
        if body.get("type") == "user":
            for name in _USER_FIELDS_LEFT_OUT:
                body.pop(name, None)
        if body.get("type") == "attachment" and body.get("status") != "stored":
            continue  # an upload in progress: nothing to restore
        out.append(body)
    return out


def archive_databases(ctx: AppContext, tenant_id: str) -> list[str]:
    return [n for n in tenants.list_tenant_databases(ctx.store, tenant_id) if n not in EXCLUDED_DATABASES]


def archive_chunks(ctx: AppContext, tenant_id: str) -> Iterator[bytes]:
    """The workspace's archive as a stream of bytes (a zip file, see the module docstring)."""
    sink = _Chunks()
    manifest: dict[str, Any] = {
        "format": ARCHIVE_FORMAT,
        "version": ARCHIVE_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "source": {
            "tenant_id": tenant_id,
            "name": tenants.get_tenant(ctx.system, tenant_id).get("name"),
            "backend": ctx.settings.backend,
        },
        "databases": {},
        "left_out": LEFT_OUT,
    }
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in archive_databases(ctx, tenant_id):
            db = ctx.store.db(physical_name(tenant_id, name))
            entry: dict[str, Any] = {"file": f"databases/{name}.ndjson", "revisions": 0}
            with zf.open(entry["file"], "w", force_zip64=True) as fh:
                for docs in leaf_revisions(db, batch=BATCH):
                    for doc in docs:
                        fh.write(orjson.dumps(doc) + b"\n")
                    entry["revisions"] += len(docs)
                    yield sink.take()
            try:
                entry["revs_limit"] = db.get_revs_limit()
            except BranchlineError:
                entry["revs_limit"] = None
            try:
                security = db.get_local(SECURITY_DOC)
                entry["security"] = {k: v for k, v in security.items() if not k.startswith("_")}
            except BranchlineError:
                entry["security"] = None
            manifest["databases"][name] = entry
        system = system_documents(ctx, tenant_id)
        with zf.open("system.ndjson", "w", force_zip64=True) as fh:
            for doc in system:
                fh.write(orjson.dumps(doc) + b"\n")
        manifest["system"] = {"file": "system.ndjson", "documents": len(system)}
        yield sink.take()
        storage = storage_of(ctx)
        count = size = 0
        for meta in system:
            if meta.get("type") != "attachment":
                continue
            data = storage.get(tenant_id, meta["attachment_id"])
            if data is None:
                log.warning("archive of %s: attachment %s is missing from storage", tenant_id, meta["_id"])
                continue
            # Images and PDFs are compressed already: stored as they are.
            zf.writestr(f"attachments/{meta['attachment_id']}", data, compress_type=zipfile.ZIP_STORED)
            count += 1
            size += len(data)
            yield sink.take()
        manifest["attachments"] = {"count": count, "bytes": size}
        zf.writestr("manifest.json", orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    yield sink.take()


def archive_filename(tenant_name: str, now: datetime | None = None) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", (tenant_name or "workspace").lower()).strip("-")[:40] or "workspace"
    return f"branchline-{slug}-{(now or datetime.now(UTC)).strftime('%Y%m%d-%H%M%S')}.zip"


# --- import ------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    tenant_id: str
    name: str
    databases: dict[str, int] = field(default_factory=dict)
    attachments: int = 0
    users: int = 0
    owners: list[tuple[str, str]] = field(default_factory=list)  # (e-mail, new password)


def read_manifest(zf: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = orjson.loads(zf.read("manifest.json"))
    except (KeyError, ValueError):
        raise BadRequest(
            "This file is not a Branchline workspace archive: manifest.json is missing or unreadable."
        ) from None
    if manifest.get("format") != ARCHIVE_FORMAT:
        raise BadRequest(
            "This file is not a Branchline workspace archive (its manifest names another format)."
        )
    if manifest.get("version") != ARCHIVE_VERSION:
        raise BadRequest(
            f"This archive is version {manifest.get('version')}; this Branchline reads version "
            f"{ARCHIVE_VERSION}. Import it with the Branchline version that wrote it, or a newer one."
        )
    return manifest


def _lines(fh: IO[bytes]) -> Iterator[dict[str, Any]]:
    for line in fh:
        if line.strip():
            yield orjson.loads(line)


def _rekey(doc: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """A system document moved to another tenant id: `{kind}:{old}[:rest]` becomes
    `{kind}:{new}[:rest]`, and its `tenant_id` field follows. Only the kinds an archive is
    made of, each with its own `type`, are taken (400 otherwise)."""
    docid = doc.get("_id") if isinstance(doc, dict) else None
    if not isinstance(docid, str):
        raise BadRequest("The archive's system.ndjson holds a line that is not a document with an _id.")
    kind, _, rest = docid.partition(":")
    tid, sep, tail = rest.partition(":")
    if tid != old:
        raise BadRequest(f"The archive's system document {docid} belongs to another workspace.")
    if (
        _KIND_TYPES.get(kind) is None
        or doc.get("type") != _KIND_TYPES[kind]
        or bool(tail) != (kind in _FAMILIES)
    ):
        raise BadRequest(
            f"The archive's system document {docid} (type {doc.get('type')!r}) is not one a workspace "
            "archive holds; nothing was imported. Download the archive again from the workspace."
        )
    out = {**doc, "_id": f"{kind}:{new}{sep}{tail}"}
    if "tenant_id" in out:
        out["tenant_id"] = new
    return out


def _check_complete(system: list[dict[str, Any]]) -> None:
    """The archive makes a workspace someone can run: one `tenant:` document, an active owner
    (who gets the printed password), each document once. Checked before anything is written."""
    refuse = "; nothing was imported. Download the archive again from the workspace."
    ids = [d["_id"] for d in system]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise BadRequest(f"The archive's system file holds {', '.join(twice)} more than once{refuse}")
    if sum(d.get("type") == "tenant" for d in system) != 1:
        raise BadRequest(f"The archive's system file has no workspace (tenant) document{refuse}")
    users_ = [d for d in system if d.get("type") == "user"]
    if not any(d.get("role") == "owner" and d.get("active", True) for d in users_):
        raise BadRequest(
            f"The archive has no active owner, so nobody could sign in to manage the workspace{refuse}"
        )


def _check_target(ctx: AppContext, tenant_id: str) -> None:
    if not is_tenant_id(tenant_id):
        raise BadRequest(
            f"{tenant_id!r} cannot be a workspace id: use 6 to 32 lower-case letters and digits."
        )
    if get_or_none(ctx.system, tenants.tenant_doc_id(tenant_id)) is not None:
        raise Conflict(f"A workspace {tenant_id} already exists here; choose another --slug.")
    if tenants.list_tenant_databases(ctx.store, tenant_id):
        raise Conflict(
            f"Databases of a workspace {tenant_id} already exist here (left from an earlier one); "
            "choose another --slug."
        )


def import_archive(ctx: AppContext, path: Path, tenant_id: str) -> ImportReport:
    """Recreate a workspace from its archive under the new id `tenant_id`, on this store and
    storage. Refuses, before writing anything, an id in use or an e-mail that already has an
    account here; a failure part-way removes everything it wrote."""
    from ..audit.service import record  # noqa: PLC0415  (audit imports much of the app)

    try:
        report, manifest = _import_archive(ctx, path, tenant_id)
    except (KeyError, TypeError, ValueError, AttributeError, zipfile.BadZipFile) as exc:
        # A manifest or line not shaped as Branchline writes them (what was written is removed
        # already): said in words, not as a traceback.
        raise BadRequest(
            f"The archive is damaged or was not made by Branchline ({type(exc).__name__}: {exc}); "
            "nothing was imported. Download the archive again from the workspace."
        ) from None
    audit = manifest["databases"].get("audit")
    audit_entries = audit.get("revisions", 0) if isinstance(audit, dict) else 0
    record(
        ctx,
        None,
        "tenant.imported",
        "tenant",
        tenant_id,
        tenant_id=tenant_id,
        details={
            "archive_created_at": manifest.get("created_at"),
            "source_backend": manifest["source"].get("backend"),
            "databases": report.databases,
            "attachments": report.attachments,
            "users": report.users,
            "archived_audit_entries": audit_entries,
        },
    )
    return report


def _import_archive(ctx: AppContext, path: Path, tenant_id: str) -> tuple[ImportReport, dict[str, Any]]:
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise BadRequest(f"{path} is not a readable zip file ({exc}); download the archive again.") from None
    with zf:
        manifest = read_manifest(zf)
        old = manifest["source"]["tenant_id"]
        _check_target(ctx, tenant_id)
        with zf.open(manifest["system"]["file"]) as fh:
            system = [_rekey(doc, old, tenant_id) for doc in _lines(fh)]
        _check_complete(system)
        taken = sorted(
            d["email"]
            for d in system
            if d.get("type") == "user" and users.find_by_email(ctx.system, d["email"])
        )
        if taken:
            raise Conflict(
                "These e-mails already have an account on this instance, and an e-mail belongs to one "
                f"account: {', '.join(taken)}. Import into an instance without them, "
                "or remove those accounts first."
            )
        report = ImportReport(tenant_id, str(manifest["source"].get("name") or tenant_id))
        undo = _Undo(ctx, tenant_id)
        try:
            _import_databases(ctx, zf, manifest, tenant_id, report, undo)
            _import_attachments(ctx, zf, system, tenant_id, report, undo)
            _import_system(ctx, system, report, undo)
        except BaseException:
            undo.run()
            raise
    return report, manifest


class _Undo:
    """What an import wrote, to remove it again if a later step fails."""

    def __init__(self, ctx: AppContext, tenant_id: str) -> None:
        self.ctx, self.tenant_id = ctx, tenant_id
        self.databases: list[str] = []
        self.attachments: list[str] = []
        self.docs: list[str] = []
        self.emails: list[str] = []

    def run(self) -> None:
        for docid in reversed(self.docs):
            doc = get_or_none(self.ctx.system, docid)
            if doc is not None:
                self.ctx.system.delete(docid, doc["_rev"])
        for email in self.emails:
            users.release_email(self.ctx.system, email)
        storage = storage_of(self.ctx)
        for att in self.attachments:
            storage.delete(self.tenant_id, att)
        for name in self.databases:
            try:
                self.ctx.store.delete_db(name)
            except BranchlineError:
                pass


def _import_databases(
    ctx: AppContext,
    zf: zipfile.ZipFile,
    manifest: dict[str, Any],
    tenant_id: str,
    report: ImportReport,
    undo: _Undo,
) -> None:
    for name, entry in manifest["databases"].items():
        if name in NOT_IMPORTED or name in EXCLUDED_DATABASES:
            continue
        physical = physical_name(tenant_id, name)  # checks the logical name too
        db = ctx.store.create_db(physical)
        undo.databases.append(physical)
        count = 0
        batch: list[dict[str, Any]] = []
        with zf.open(entry["file"]) as fh:
            for doc in _lines(fh):
                batch.append(doc)
                if len(batch) >= BATCH:
                    write_revisions(db, batch)
                    count += len(batch)
                    batch = []
        if batch:
            write_revisions(db, batch)
            count += len(batch)
        try:
            if entry.get("revs_limit") and int(entry["revs_limit"]) != db.get_revs_limit():
                db.set_revs_limit(int(entry["revs_limit"]))
        except BranchlineError:
            pass  # a tuning, as in copy_database: some CouchDB-compatible servers refuse it
        if entry.get("security"):
            db.put_local({"_id": SECURITY_DOC, **entry["security"]})
        report.databases[name] = count


def _import_attachments(
    ctx: AppContext,
    zf: zipfile.ZipFile,
    system: list[dict[str, Any]],
    tenant_id: str,
    report: ImportReport,
    undo: _Undo,
) -> None:
    storage = storage_of(ctx)
    entries = {info.filename: info for info in zf.infolist()}
    largest = MAX_SIZE_MB_CAP * 1024 * 1024
    for meta in system:
        if meta.get("type") != "attachment":
            continue
        member = f"attachments/{meta.get('attachment_id')}"
        if member not in entries:
            continue  # it was already missing from storage when the archive was made
        # Read whole below, so its size is checked first (zipfile never inflates an entry past
        # the size its header declares): a small deflated entry must not take the memory.
        if entries[member].file_size > largest:
            raise BadRequest(
                f"The archive's attachment {meta.get('attachment_id')} is {entries[member].file_size:,} "
                f"bytes, larger than any upload can be ({MAX_SIZE_MB_CAP} MB); this is not an archive "
                "Branchline made. Download the archive again from the workspace."
            )
        data = zf.read(member)
        if meta.get("sha256") and hashlib.sha256(data).hexdigest() != meta["sha256"]:
            raise BadRequest(
                f"The archive's copy of attachment {meta['attachment_id']} is damaged (checksum mismatch)."
            )
        storage.put(
            tenant_id, meta["attachment_id"], data, meta.get("content_type") or "application/octet-stream"
        )
        undo.attachments.append(meta["attachment_id"])
        report.attachments += 1


def _import_system(ctx: AppContext, system: list[dict[str, Any]], report: ImportReport, undo: _Undo) -> None:
    # The tenant document last: until it exists nobody can sign in to a half-made workspace.
    ordered = sorted(system, key=lambda d: d.get("type") == "tenant")
    for doc in ordered:
        doc = dict(doc)
        if doc.get("type") == "tenant":
            brand = (doc.get("settings") or {}).get("brand")
            if isinstance(brand, dict) and brand.get("custom_domain"):
                doc["settings"] = {**doc["settings"], "brand": {**brand, "custom_domain": None}}
        if doc.get("type") == "user":
            for name in _USER_FIELDS_LEFT_OUT:
                doc.pop(name, None)  # never taken from an archive, even a hand-made one
            password = generate_password()
            doc["password_hash"] = hash_password(password)
            doc["token_epoch"] = 0
            users.claim_email(ctx.system, doc["email"], doc["tenant_id"], doc["user_id"])
            undo.emails.append(doc["email"])
            report.users += 1
            if doc.get("role") == "owner" and doc.get("active", True):
                report.owners.append((doc["email"], password))
        ctx.system.put(doc)
        undo.docs.append(doc["_id"])
