"""Attachments: evidence files at a step of a session, checked by content, stored once.

Two ways in, the same checks:

- direct (`upload`): the bytes come to the server (the embedded default, and API clients
  on any backend); checked, optionally re-encoded, then written to storage.
- pre-signed (`presign` then `confirm`, S3 only): the device PUTs the file straight to the
  bucket's incoming area; `confirm` reads it back and runs the same checks before the file
  reaches its final key. A refused file is deleted.

Either way a refused upload says why and leaves nothing behind, and the metadata answered is
exactly the body of the `attachment_added` event the client writes next (or the server
writes, with `record_event`). Retrying with the same `attachment_id` and the same bytes
answers the stored attachment again instead of storing a second one.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from typing import Any
from urllib.parse import quote

from sync.access import Principal
from sync.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    NotImplementedHere,
    PayloadTooLarge,
    UnsupportedMediaType,
)

from ..core.context import AppContext
from ..core.timeutil import iso, now_ms
from . import images, repository as repo
from .sniff import EXTENSIONS, IMAGE_TYPES, KNOWN_TYPES, Sniffed, sniff
from .storage import ATTACHMENT_ID_RE, AttachmentStorage, S3Storage, open_storage

log = logging.getLogger("branchline.attachments")

DEFAULT_MAX_SIZE_MB = 25
MAX_SIZE_MB_CAP = 100  # the server holds a file in memory while checking it
PUT_URL_SECONDS = 300  # a pre-signed upload URL lives this long
GET_URL_SECONDS = 60  # a pre-signed download URL lives this long
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_MAX_NAME = 200
_MAX_CAPTION = 2000
_ULID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


# --- storage and the readers other features use ------------------------------------------------


def storage_of(ctx: AppContext) -> AttachmentStorage:
    """The one storage object of this process (chosen by settings, made on first use)."""
    store = ctx.attachment_storage
    if store is None:
        store = ctx.attachment_storage = open_storage(ctx.settings)
    return store


def fetch_attachment(
    ctx: AppContext, tenant_id: str, attachment_id: str, session_id: str | None = None
) -> bytes | None:
    """The stored bytes of a tenant's attachment, or None when it is not (yet) stored.

    With `session_id`, only an attachment stored for that session is answered, so an event
    naming another session's attachment id cannot pull that file into an export.
    """
    if not isinstance(attachment_id, str) or not ATTACHMENT_ID_RE.match(attachment_id):
        return None
    meta = repo.get_meta(ctx.system, tenant_id, attachment_id)
    if not meta or meta.get("status") != "stored":
        return None
    if session_id is not None and meta.get("session_id") != _sid_or_none(session_id):
        return None
    try:
        return storage_of(ctx).get(tenant_id, attachment_id)
    except Exception:
        log.exception("reading attachment %s of tenant %s failed", attachment_id, tenant_id)
        return None


def install(ctx: AppContext) -> None:
    """Register the reader the exports feature embeds images with."""
    ctx.attachment_reader = fetch_attachment


# --- tenant limits -------------------------------------------------------------------------------


def default_settings() -> dict[str, Any]:
    return {
        "max_size_mb": DEFAULT_MAX_SIZE_MB,
        "allowed_types": list(KNOWN_TYPES),
        "strip_image_metadata": False,
    }


def tenant_settings(ctx: AppContext, tenant_id: str) -> dict[str, Any]:
    doc = repo.get_settings_doc(ctx.system, tenant_id) or {}
    out = default_settings()
    for key in out:
        if key in doc:
            out[key] = doc[key]
    return out


def public_settings(ctx: AppContext, tenant_id: str) -> dict[str, Any]:
    values = tenant_settings(ctx, tenant_id)
    return {
        **values,
        "max_size_bytes": _max_bytes(values),
        "storage": storage_of(ctx).kind,
        "presigned_uploads": storage_of(ctx).presigns,
        "known_types": [{"content_type": k, "label": v} for k, v in KNOWN_TYPES.items()],
    }


def save_settings(ctx: AppContext, who: Principal, values: dict[str, Any]) -> dict[str, Any]:
    if "max_size_mb" in values and values["max_size_mb"] is not None:
        size = values["max_size_mb"]
        if not isinstance(size, (int, float)) or isinstance(size, bool) or not 0 < size <= MAX_SIZE_MB_CAP:
            raise BadRequest(f"max_size_mb must be a number above 0 and at most {MAX_SIZE_MB_CAP}.")
    if "allowed_types" in values and values["allowed_types"] is not None:
        types = values["allowed_types"]
        unknown = [t for t in types if t not in KNOWN_TYPES]
        if unknown:
            raise BadRequest(
                f"Unknown type(s) {', '.join(map(str, unknown))}; allowed_types takes "
                f"{', '.join(KNOWN_TYPES)}."
            )
        values["allowed_types"] = list(dict.fromkeys(types))
    clean = {k: v for k, v in values.items() if v is not None and k in default_settings()}
    repo.put_settings(ctx.system, who.tenant_id, clean, who.user_id, iso())
    return public_settings(ctx, who.tenant_id)


def _max_bytes(values: dict[str, Any]) -> int:
    return int(float(values["max_size_mb"]) * 1024 * 1024)


# --- checks shared by both ways in -------------------------------------------------------------


def _sid_or_none(session_id: str) -> str | None:
    value = session_id[len("session:") :] if session_id.startswith("session:") else session_id
    value = value.upper()
    return value if _ULID_RE.match(value) else None


def _session_for_write(ctx: AppContext, who: Principal, session_id: str) -> tuple[str, dict, dict]:
    """(sid, header, tree) of a session the caller may write; NotFound or Forbidden otherwise."""
    from ..sessions import access  # noqa: PLC0415  (sessions import this feature's callers)
    from ..sessions.service import get_session_bundle  # noqa: PLC0415

    if who.role == "viewer":
        raise Forbidden("Viewers cannot attach files to sessions; ask an admin for the engineer role.")
    bundle = get_session_bundle(ctx, who, session_id)
    access.require_write(who, bundle["header"])
    sid = bundle["header"]["_id"][len("session:") :]
    return sid, bundle["header"], bundle["tree"]


def _session_for_read(ctx: AppContext, who: Principal, session_id: str) -> str:
    from ..sessions import access  # noqa: PLC0415
    from ..sessions.repository import get_header, normalize_sid, sessions_db  # noqa: PLC0415

    sid = normalize_sid(session_id)
    header = get_header(sessions_db(ctx, who.tenant_id), sid)
    access.require_open(who, header)
    return sid


def check_attachment_id(value: Any) -> str:
    if not isinstance(value, str) or not ATTACHMENT_ID_RE.match(value):
        raise BadRequest(
            "attachment_id must be a ULID made by the device (or 1 to 64 letters, digits, - and _); "
            "leave it out to have one made."
        )
    return value


def _new_id() -> str:
    from ..sessions.ids import ulid  # noqa: PLC0415

    return ulid()


def _check_node(tree: dict[str, Any], node_id: Any) -> str:
    nodes = tree.get("nodes")
    if not isinstance(nodes, dict):
        nodes = {}
    if not isinstance(node_id, str) or node_id not in nodes:
        raise BadRequest(
            f"node_id {node_id!r} is not a step of this session's tree version; attach the file "
            f"to one of its nodes ({', '.join(sorted(nodes)[:30])})."
        )
    return node_id


def clean_name(name: Any, content_type: str | None = None) -> str:
    """A file name safe to show and to send back: no folders, no control characters."""
    text = name if isinstance(name, str) else ""
    text = unicodedata.normalize("NFC", text).replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if not text:
        text = "attachment" + (EXTENSIONS.get(content_type or "", "") if content_type else "")
    return text[:_MAX_NAME]


def _check_caption(caption: Any) -> str | None:
    if caption is None or caption == "":
        return None
    if not isinstance(caption, str) or len(caption) > _MAX_CAPTION:
        raise BadRequest(f"caption must be text of at most {_MAX_CAPTION} characters.")
    return caption


def _check_sha(value: Any, *, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise BadRequest(
                "sha256 is required: the file's SHA-256 as 64 hex digits, computed on the device."
            )
        return None
    if not isinstance(value, str) or not _SHA_RE.match(value.lower()):
        raise BadRequest("sha256 must be the file's SHA-256 as 64 hexadecimal digits.")
    return value.lower()


def _too_large(size: int, limits: dict[str, Any]) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The file is {size:,} bytes; this team's limit is {limits['max_size_mb']} MB "
        f"({_max_bytes(limits):,} bytes). Attach a smaller file, or ask an admin to raise "
        "the limit in the attachment settings."
    )


def _check_content(data: bytes, limits: dict[str, Any], sha256: str | None) -> tuple[Sniffed, str]:
    """Size, integrity and type of `data`: (sniffed type, its SHA-256), or the refusal."""
    if len(data) > _max_bytes(limits):
        raise _too_large(len(data), limits)
    digest = hashlib.sha256(data).hexdigest()
    if sha256 is not None and digest != sha256:
        raise BadRequest(
            f"The file's SHA-256 is {digest}, not the {sha256} sent with it: it was damaged on the "
            "way. Upload it again.",
            error="checksum_mismatch",
        )
    kind = sniff(data)
    if kind.content_type not in limits["allowed_types"]:
        raise UnsupportedMediaType(
            f"The file is a {kind.label}, which this team does not accept as an "
            f"attachment (accepted: {', '.join(KNOWN_TYPES[t] for t in limits['allowed_types'])}"
            "). Ask an admin to allow it in the attachment settings."
        )
    if kind.is_image:
        images.check_image(data)
    return kind, digest


def _final_bytes(data: bytes, kind: Sniffed, limits: dict[str, Any]) -> tuple[bytes, bool]:
    if kind.is_image and limits["strip_image_metadata"]:
        return images.strip_metadata(data, kind.content_type), True
    return data, False


def public_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """The stored attachment as the API answers it; `event` is the `attachment_added` body."""
    event = {
        "type": "attachment_added",
        "node_id": meta["node_id"],
        "attachment_id": meta["attachment_id"],
        "name": meta["name"],
        "content_type": meta["content_type"],
        "size": meta["size"],
        "sha256": meta["sha256"],
    }
    if meta.get("caption"):
        event["caption"] = meta["caption"]
    return {
        "attachment_id": meta["attachment_id"],
        "session_id": meta["session_id"],
        "node_id": meta["node_id"],
        "name": meta["name"],
        "content_type": meta["content_type"],
        "size": meta["size"],
        "sha256": meta["sha256"],
        "original_sha256": meta.get("original_sha256"),
        "caption": meta.get("caption"),
        "metadata_stripped": bool(meta.get("stripped")),
        "uploaded_by": meta.get("uploaded_by"),
        "uploaded_at": meta.get("uploaded_at"),
        "status": meta.get("status"),
        "event": event,
    }


def _same_upload(meta: dict[str, Any], sid: str, digest: str) -> bool:
    return meta.get("session_id") == sid and digest in (meta.get("original_sha256"), meta.get("sha256"))


def _existing_answer(meta: dict[str, Any], sid: str, digest: str | None) -> dict[str, Any]:
    """A stored attachment asked for again: the same file answers it; anything else conflicts."""
    if meta.get("session_id") != sid:
        raise Conflict(
            f"Attachment id {meta['attachment_id']} already belongs to another session; "
            "make a new id for this file."
        )
    if digest is not None and not _same_upload(meta, sid, digest):
        raise Conflict(
            f"Attachment {meta['attachment_id']} is already stored with other content "
            f"(SHA-256 {meta.get('original_sha256') or meta.get('sha256')}); an attachment is "
            "written once. Make a new id for a new file."
        )
    return {**public_meta(meta), "created": False}


def _claim(
    ctx: AppContext, tenant_id: str, attachment_id: str, doc: dict[str, Any], sid: str, digest: str | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Claim `attachment_id` with a pending record: (record, None), or (the stored record, its answer).

    A pending record left by an interrupted upload of the same file (or an expired one) is
    taken over; a live claim on other content is a conflict.
    """
    for _ in range(3):
        current = repo.get_meta(ctx.system, tenant_id, attachment_id)
        if current is None:
            created = repo.create_meta(ctx.system, doc)
            if created is not None:
                return created, None
            continue  # another request claimed it meanwhile: look again
        if current.get("status") == "stored":
            return current, _existing_answer(current, sid, digest)
        live = current.get("expires_ms", 0) > now_ms()
        if live and (
            current.get("session_id") != sid
            or (digest is not None and current.get("expected_sha256") not in (None, digest))
        ):
            raise Conflict(
                f"Attachment id {attachment_id} is being uploaded with other content; make a new id "
                "for this file, or wait a few minutes and retry."
            )
        doc["_rev"] = current["_rev"]
        try:
            return repo.update_meta(ctx.system, doc), None
        except Conflict:
            doc.pop("_rev", None)
            continue
    raise Conflict(f"Attachment {attachment_id} is being written by another request right now; retry.")


def _record_event(
    ctx: AppContext, who: Principal, sid: str, meta: dict[str, Any], device_id: str | None
) -> dict[str, Any]:
    """Write the `attachment_added` event for API clients; one event per attachment, even on retries."""
    from ..sessions import posting  # noqa: PLC0415

    body = {**public_meta(meta)["event"], "ts": meta["uploaded_ms"]}
    if re.match(r"^[0-9A-Za-z_-]{1,64}$", meta["attachment_id"]):
        body["_id"] = f"session:{sid}:ev:{meta['attachment_id']}"
    if device_id:
        body["device_id"] = device_id
    return posting.post_event(ctx, who, sid, body)["event"]


# --- direct upload ---------------------------------------------------------------------------------


def upload(
    ctx: AppContext,
    who: Principal,
    session_id: str,
    data: bytes,
    *,
    name: Any,
    node_id: Any,
    attachment_id: Any = None,
    sha256: Any = None,
    caption: Any = None,
    record_event: bool = False,
    device_id: str | None = None,
) -> dict[str, Any]:
    """Check and store one file sent to the server; answer its metadata (and `created`)."""
    sid, _header, tree = _session_for_write(ctx, who, session_id)
    node = _check_node(tree, node_id)
    att_id = check_attachment_id(attachment_id) if attachment_id is not None else _new_id()
    expected = _check_sha(sha256)
    caption = _check_caption(caption)
    limits = tenant_settings(ctx, who.tenant_id)

    existing = repo.get_meta(ctx.system, who.tenant_id, att_id)
    if existing and existing.get("status") == "stored":
        # A retry: answered from the record, whatever the limits say now.
        retried = _existing_answer(existing, sid, hashlib.sha256(data).hexdigest())
        return _with_event(ctx, who, sid, existing, retried, record_event, device_id)

    kind, digest = _check_content(data, limits, expected)
    final, stripped = _final_bytes(data, kind, limits)
    ms = now_ms()
    doc = {
        "_id": repo.meta_id(who.tenant_id, att_id),
        "type": "attachment",
        "schema_version": 1,
        "tenant_id": who.tenant_id,
        "attachment_id": att_id,
        "session_id": sid,
        "node_id": node,
        "status": "pending",
        "expected_sha256": digest,
        "expires_ms": ms + 120_000,
    }
    claimed, answer = _claim(ctx, who.tenant_id, att_id, doc, sid, digest)
    if answer is not None:
        return _with_event(ctx, who, sid, claimed, answer, record_event, device_id)
    storage = storage_of(ctx)
    try:
        storage.put(who.tenant_id, att_id, final, kind.content_type)
    except Exception:
        repo.delete_meta(ctx.system, claimed)
        log.exception("storing attachment %s failed", att_id)
        raise
    meta = _stored(
        ctx,
        claimed,
        who,
        node=node,
        name=clean_name(name, kind.content_type),
        kind=kind,
        final=final,
        digest=digest,
        stripped=stripped,
        caption=caption,
        ms=ms,
    )
    _warm_pdf_image(final)
    return _with_event(ctx, who, sid, meta, {**public_meta(meta), "created": True}, record_event, device_id)


def _stored(
    ctx: AppContext,
    doc: dict[str, Any],
    who: Principal,
    *,
    node: str,
    name: str,
    kind: Sniffed,
    final: bytes,
    digest: str,
    stripped: bool,
    caption: str | None,
    ms: int,
) -> dict[str, Any]:
    doc.update(
        {
            "status": "stored",
            "node_id": node,
            "name": name,
            "content_type": kind.content_type,
            "size": len(final),
            "sha256": hashlib.sha256(final).hexdigest(),
            "original_sha256": digest,
            "stripped": stripped,
            "caption": caption,
            "uploaded_by": who.user_id,
            "uploaded_at": iso(ms),
            "uploaded_ms": ms,
            "storage": storage_of(ctx).kind,
        }
    )
    for key in ("expected_sha256", "expected_size", "expires_ms", "declared_type"):
        doc.pop(key, None)
    return repo.update_meta(ctx.system, doc)


def _with_event(
    ctx: AppContext,
    who: Principal,
    sid: str,
    meta: dict[str, Any],
    answer: dict[str, Any],
    record_event: bool,
    device_id: str | None,
) -> dict[str, Any]:
    if record_event:
        answer["recorded_event"] = _record_event(ctx, who, sid, meta, device_id)
    return answer


# --- pre-signed upload (S3) ------------------------------------------------------------------------


def _s3(ctx: AppContext) -> S3Storage:
    storage = storage_of(ctx)
    if not isinstance(storage, S3Storage):
        raise NotImplementedHere(
            "This server keeps attachments in its own folder, so there is no pre-signed "
            "upload: POST the file to /api/v1/sessions/{session_id}/attachments instead."
        )
    return storage


def presign(ctx: AppContext, who: Principal, session_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Claim an attachment id and answer a short-lived URL to PUT the file to (S3 only)."""
    sid, _header, tree = _session_for_write(ctx, who, session_id)  # who may, before what this server offers
    storage = _s3(ctx)
    node = _check_node(tree, body.get("node_id"))
    att_id = (
        check_attachment_id(body["attachment_id"]) if body.get("attachment_id") is not None else _new_id()
    )
    digest = _check_sha(body.get("sha256"), required=True)
    size = body.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise BadRequest("size must be the file's size in bytes (a whole number above 0).")
    limits = tenant_settings(ctx, who.tenant_id)
    if size > _max_bytes(limits):
        raise _too_large(size, limits)
    caption = _check_caption(body.get("caption"))
    declared = body.get("content_type")
    if not isinstance(declared, str):
        declared = ""
    # The URL is signed for this content type; the real type is read from the bytes at confirm.
    put_type = declared if re.match(r"^[\w.+-]+/[\w.+-]+$", declared) else "application/octet-stream"
    ms = now_ms()
    doc = {
        "_id": repo.meta_id(who.tenant_id, att_id),
        "type": "attachment",
        "schema_version": 1,
        "tenant_id": who.tenant_id,
        "attachment_id": att_id,
        "session_id": sid,
        "node_id": node,
        "status": "pending",
        "name": clean_name(body.get("name")),
        "caption": caption,
        "expected_sha256": digest,
        "expected_size": size,
        "declared_type": put_type,
        "presigned_by": who.user_id,
        "expires_ms": ms + PUT_URL_SECONDS * 1000,
    }
    claimed, answer = _claim(ctx, who.tenant_id, att_id, doc, sid, digest)
    if answer is not None:
        return {**answer, "upload": None}
    url = storage.presign_put(who.tenant_id, att_id, put_type, size, PUT_URL_SECONDS)
    return {
        "attachment_id": att_id,
        "session_id": sid,
        "status": "pending",
        "upload": {
            "method": "PUT",
            "url": url,
            "headers": {"Content-Type": put_type},
            "expires_in": PUT_URL_SECONDS,
            "expires_at": iso(claimed["expires_ms"]),
        },
        "confirm_url": f"/api/v1/sessions/{sid}/attachments/{att_id}/confirm",
    }


def confirm(
    ctx: AppContext,
    who: Principal,
    session_id: str,
    attachment_id: str,
    *,
    record_event: bool = False,
    device_id: str | None = None,
) -> dict[str, Any]:
    """Check the file PUT through a pre-signed URL; store it, or delete it and say why."""
    sid, _header, _tree = _session_for_write(ctx, who, session_id)
    storage = _s3(ctx)
    att_id = check_attachment_id(attachment_id)
    meta = repo.get_meta(ctx.system, who.tenant_id, att_id)
    if meta is None or meta.get("session_id") != sid:
        raise NotFound(
            f"No upload {att_id} was started for session {sid}; ask for an upload URL first "
            "(POST .../attachments/presign)."
        )
    if meta.get("status") == "stored":
        return _with_event(ctx, who, sid, meta, _existing_answer(meta, sid, None), record_event, device_id)
    limits = tenant_settings(ctx, who.tenant_id)
    size = storage.incoming_size(who.tenant_id, att_id)
    if size is None:
        hint = (
            "the upload URL has expired: ask for a new one"
            if meta.get("expires_ms", 0) < now_ms()
            else "PUT the file to the upload URL first"
        )
        raise Conflict(f"The file for attachment {att_id} has not arrived in storage; {hint}.")

    def refuse(exc: Exception):
        storage.delete_incoming(who.tenant_id, att_id)
        repo.delete_meta(ctx.system, meta)
        return exc

    if size > _max_bytes(limits):
        raise refuse(_too_large(size, limits))
    if size != meta.get("expected_size"):
        raise refuse(
            BadRequest(
                f"The stored file is {size:,} bytes, not the {meta.get('expected_size'):,} "
                "announced; upload it again.",
                error="checksum_mismatch",
            )
        )
    data = storage.get_incoming(who.tenant_id, att_id, size) if size else b""
    if data is None:
        raise Conflict(
            f"The file for attachment {att_id} vanished from storage while being checked; upload it again."
        )
    try:
        kind, digest = _check_content(data, limits, meta.get("expected_sha256"))
        final, stripped = _final_bytes(data, kind, limits)
    except (BadRequest, PayloadTooLarge, UnsupportedMediaType) as exc:
        raise refuse(exc) from None
    storage.put(who.tenant_id, att_id, final, kind.content_type)
    name = meta.get("name") or clean_name(None, kind.content_type)
    stored = _stored(
        ctx,
        meta,
        who,
        node=meta["node_id"],
        name=name,
        kind=kind,
        final=final,
        digest=digest,
        stripped=stripped,
        caption=meta.get("caption"),
        ms=now_ms(),
    )
    storage.delete_incoming(who.tenant_id, att_id)
    _warm_pdf_image(final)
    return _with_event(
        ctx, who, sid, stored, {**public_meta(stored), "created": True}, record_event, device_id
    )


# --- download ------------------------------------------------------------------------------------------


def disposition(meta: dict[str, Any]) -> str:
    """Images show inline; everything else downloads. The name is RFC 6266-encoded."""
    kind = "inline" if meta.get("content_type") in IMAGE_TYPES else "attachment"
    name = meta.get("name") or "attachment"
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def stored_meta_for_read(
    ctx: AppContext, who: Principal, session_id: str, attachment_id: str
) -> dict[str, Any]:
    """The record of a stored attachment of a session the caller may read."""
    sid = _session_for_read(ctx, who, session_id)
    if not isinstance(attachment_id, str) or not ATTACHMENT_ID_RE.match(attachment_id):
        raise NotFound(f"No attachment {attachment_id!r} in session {sid}.")
    meta = repo.get_meta(ctx.system, who.tenant_id, attachment_id)
    if not meta or meta.get("session_id") != sid:
        raise NotFound(f"No attachment {attachment_id} in session {sid}.")
    if meta.get("status") != "stored":
        raise NotFound(
            f"Attachment {attachment_id} is still being uploaded; it can be read once its upload "
            "is confirmed."
        )
    return meta


def download_url(ctx: AppContext, who: Principal, meta: dict[str, Any]) -> dict[str, Any] | None:
    """A short-lived pre-signed GET on S3, or None when the server serves the bytes itself."""
    storage = storage_of(ctx)
    if not isinstance(storage, S3Storage):
        return None
    url = storage.presign_get(
        who.tenant_id, meta["attachment_id"], meta["content_type"], disposition(meta), GET_URL_SECONDS
    )
    return {"url": url, "expires_in": GET_URL_SECONDS, "expires_at": iso(now_ms() + GET_URL_SECONDS * 1000)}


def read_bytes(ctx: AppContext, who: Principal, meta: dict[str, Any]) -> bytes:
    data = storage_of(ctx).get(who.tenant_id, meta["attachment_id"])
    if data is None:
        raise NotFound(
            f"Attachment {meta['attachment_id']} is recorded but its file is missing from storage; "
            "restore the attachments folder or bucket from a backup."
        )
    return data


def _warm_pdf_image(data: bytes) -> None:
    """Prepare an image for PDF exports now, in the background, so exports only embed."""
    from ..exports.formats import warm_image  # noqa: PLC0415  (exports build on attachments' reader)

    warm_image(data)
