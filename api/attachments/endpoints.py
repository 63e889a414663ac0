"""Routes: attachments of a session (upload, pre-signed upload, download) and tenant limits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from sync.errors import BadRequest, PayloadTooLarge
from sync.http_params import read_capped

from ..audit import service as audit
from ..core.deps import AdminDep, CtxDep, PrincipalDep, client_address
from ..core.responses import JSONAnswer
from ..ratelimit.deps import UploadLimit
from . import service

router = APIRouter(prefix="/api/v1", tags=["attachments"])

_SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
    "Cache-Control": "private, max-age=86400",
}

NameQ = Annotated[str | None, Query(max_length=500, description="The file's name as the user sees it.")]
NodeQ = Annotated[
    str | None, Query(max_length=200, description="The step (tree node id) the file belongs to.")
]
IdQ = Annotated[
    str | None,
    Query(
        max_length=64,
        description="A ULID made by the device; makes retries idempotent. Left out: the server makes one.",
    ),
]
ShaQ = Annotated[
    str | None,
    Query(
        max_length=64, description="SHA-256 of the file (hex) as the device computed it; checked on arrival."
    ),
]
CaptionQ = Annotated[str | None, Query(max_length=2000)]
RecordQ = Annotated[
    bool,
    Query(
        description="Also write the `attachment_added` event (for API clients; devices "
        "write it themselves once the upload is confirmed)."
    ),
]
DeviceQ = Annotated[str | None, Query(max_length=100, description="device_id of the recorded event.")]


async def _read_capped(request: Request, limit: int) -> bytes:
    """The raw body, refusing (without reading on) anything above `limit` bytes."""

    def reason(declared: int | None) -> str:
        size = (
            f"The file is {declared:,} bytes; this team's limit is {limit:,} bytes."
            if declared is not None
            else f"The file is larger than this team's limit of {limit:,} bytes."
        )
        return size + " Attach a smaller file, or ask an admin to raise the limit."

    return await read_capped(request, limit, reason)


async def _read_multipart(request: Request, limit: int) -> tuple[bytes, dict[str, str]]:
    """The `file` part and the text fields of a multipart/form-data body."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise PayloadTooLarge(f"The upload is {int(declared):,} bytes; this team's limit is {limit:,} bytes.")
    form = await request.form(max_files=1, max_fields=20)
    try:
        fields: dict[str, str] = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise BadRequest("A multipart upload needs the file in a part named `file`.")
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise PayloadTooLarge(
                f"The file is larger than this team's limit of {limit:,} bytes. "
                "Attach a smaller file, or ask an admin to raise the limit."
            )
        if upload.filename and "name" not in fields:
            fields["name"] = upload.filename
        return data, fields
    finally:
        await form.close()


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "node_id": {"type": "string"},
                        "name": {"type": "string"},
                        "attachment_id": {"type": "string"},
                        "sha256": {"type": "string"},
                        "caption": {"type": "string"},
                        "record_event": {"type": "boolean"},
                    },
                }
            },
        },
    }
}


@router.post(
    "/sessions/{session_id}/attachments",
    status_code=201,
    openapi_extra=_UPLOAD_BODY,
    dependencies=[UploadLimit],
    responses={
        200: {"description": "Already stored (a retry with the same id and bytes)"},
        201: {"description": "Stored"},
        403: {"description": "Not your session"},
        413: {"description": "Over the team's size limit"},
        415: {"description": "A type the team does not accept (read from the bytes)"},
    },
)
async def upload_attachment(
    session_id: str,
    request: Request,
    who: PrincipalDep,
    ctx: CtxDep,
    name: NameQ = None,
    node_id: NodeQ = None,
    attachment_id: IdQ = None,
    sha256: ShaQ = None,
    caption: CaptionQ = None,
    record_event: RecordQ = False,
    device_id: DeviceQ = None,
) -> Response:
    """Upload a file to a step of a session: the body is the file itself (any Content-Type),
    with `name`, `node_id` and ideally `attachment_id` and `sha256` as query parameters, or
    `multipart/form-data` with the file in a part named `file` and the same names as fields.

    The caller must be allowed to write the session. The type is read from the bytes (PNG,
    JPEG, GIF, WebP, PDF, text, .docx/.xlsx/.pptx; executables are refused whatever their
    name), checked against the team's accepted types and size limit, and images are
    re-encoded without metadata when the team asks for it. A refused upload stores nothing
    and says why (413, 415, 400 `checksum_mismatch`).

    Answers the stored attachment; its `event` is the body of the `attachment_added` event
    to write next (`record_event=true` makes the server write it). Sending the same
    `attachment_id` with the same bytes again answers 200 with the stored attachment: retries
    never store twice. Works on every storage backend.
    """
    await run_in_threadpool(service._session_for_write, ctx, who, session_id)
    limits = await run_in_threadpool(service.tenant_settings, ctx, who.tenant_id)
    limit = service._max_bytes(limits)
    fields: dict[str, Any] = {
        "name": name,
        "node_id": node_id,
        "attachment_id": attachment_id,
        "sha256": sha256,
        "caption": caption,
    }
    if (request.headers.get("content-type") or "").lower().startswith("multipart/form-data"):
        data, form_fields = await _read_multipart(request, limit)
        for key in fields:
            if form_fields.get(key) not in (None, ""):
                fields[key] = form_fields[key]
        if form_fields.get("record_event") in ("true", "1", "yes"):
            record_event = True
        device_id = form_fields.get("device_id") or device_id
    else:
        data = await _read_capped(request, limit)
    answer = await run_in_threadpool(
        lambda: service.upload(
            ctx, who, session_id, data, record_event=record_event, device_id=device_id, **fields
        )
    )
    return JSONAnswer(answer, status_code=201 if answer.get("created") else 200)


class PresignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    node_id: str = Field(max_length=200, description="The step (tree node id) the file belongs to.")
    name: str | None = Field(default=None, max_length=500)
    size: int = Field(description="The file's size in bytes; the URL is signed for exactly this length.")
    sha256: str = Field(max_length=64, description="The file's SHA-256 (hex), checked at confirm.")
    content_type: str | None = Field(
        default=None,
        max_length=200,
        description="The type to PUT with (informational: the real type is read from the bytes at confirm).",
    )
    attachment_id: str | None = Field(default=None, max_length=64)
    caption: str | None = Field(default=None, max_length=2000)


@router.post("/sessions/{session_id}/attachments/presign", status_code=201, dependencies=[UploadLimit])
def presign_attachment(session_id: str, body: PresignRequest, who: PrincipalDep, ctx: CtxDep) -> dict:
    """Ask for a pre-signed URL to PUT a file straight to S3 storage (S3 only; the embedded
    folder store answers 501: upload directly instead).

    The caller must be allowed to write the session; the announced size is checked against
    the team's limit now, and everything else when the upload is confirmed. The URL lives
    five minutes and accepts exactly the announced length and content type. Then POST
    `confirm_url`: only a confirmed file exists. For an id already stored with the same
    SHA-256 the answer is that attachment, with `upload: null`.
    """
    return service.presign(ctx, who, session_id, body.model_dump())


@router.post("/sessions/{session_id}/attachments/{attachment_id}/confirm")
def confirm_attachment(
    session_id: str,
    attachment_id: str,
    who: PrincipalDep,
    ctx: CtxDep,
    record_event: RecordQ = False,
    device_id: DeviceQ = None,
) -> dict:
    """Check a file uploaded through a pre-signed URL: it must be in storage, within the
    team's size limit, of the announced size and SHA-256, and of an accepted type read from
    its bytes. A refused file is deleted from storage and the reason answered (413, 415,
    400); an accepted one is stored (re-encoded without metadata when the team asks) and
    answered like a direct upload. Confirming again answers the stored attachment."""
    return service.confirm(
        ctx, who, session_id, attachment_id, record_event=record_event, device_id=device_id
    )


@router.get(
    "/sessions/{session_id}/attachments/{attachment_id}",
    response_class=Response,
    responses={200: {"description": "The file"}, 307: {"description": "A short-lived S3 URL"}},
)
def download_attachment(
    session_id: str,
    attachment_id: str,
    who: PrincipalDep,
    ctx: CtxDep,
    redirect: Annotated[
        bool, Query(description="On S3: false answers `{url, expires_in}` as JSON instead of redirecting.")
    ] = True,
    proxy: Annotated[
        bool,
        Query(
            description="On S3: serve the bytes through this server "
            "(for devices that cannot reach the bucket)."
        ),
    ] = False,
) -> Response:
    """Download an attachment of a session the caller may read. On S3 storage this is a 307
    to a pre-signed URL valid for one minute (or that URL as JSON with `redirect=false`);
    otherwise (or with `proxy=true`) the bytes, with their checked type, `nosniff`, and an
    ETag of their SHA-256. Images display inline; other files download."""
    meta = service.stored_meta_for_read(ctx, who, session_id, attachment_id)
    link = None if proxy else service.download_url(ctx, who, meta)
    if link is not None:
        if not redirect:
            return JSONAnswer({**link, "attachment": service.public_meta(meta)})
        return RedirectResponse(link["url"], status_code=307, headers={"Cache-Control": "no-store"})
    data = service.read_bytes(ctx, who, meta)
    return Response(
        data,
        media_type=meta["content_type"],
        headers={
            **_SAFE_HEADERS,
            "Content-Disposition": service.disposition(meta),
            "ETag": f'"{meta["sha256"]}"',
        },
    )


# The schema names the accepted values, so a client learns them from the document; the
# service checks them, with a reason that names the unknown ones.
KnownType = Annotated[str, WithJsonSchema({"type": "string", "enum": list(service.KNOWN_TYPES)})]


class AttachmentSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # `0` is not `false`
    max_size_mb: float | None = Field(
        default=None, gt=0, le=service.MAX_SIZE_MB_CAP, description="Largest file accepted, in MB."
    )
    allowed_types: list[KnownType] | None = Field(
        default=None, description="Accepted content types (see known_types)."
    )
    strip_image_metadata: bool | None = Field(default=None, description="Re-encode images to drop EXIF/GPS.")


@router.get("/attachment-settings")
def get_attachment_settings(who: PrincipalDep, ctx: CtxDep) -> dict:
    """The team's attachment limits (every member reads them, so devices can check a file
    before queueing it): `max_size_mb`, `allowed_types`, `strip_image_metadata`, plus the
    storage in use and whether uploads go through pre-signed URLs."""
    return service.public_settings(ctx, who.tenant_id)


@router.put("/attachment-settings")
def put_attachment_settings(
    body: AttachmentSettingsUpdate, who: AdminDep, ctx: CtxDep, request: Request
) -> dict:
    """Change the team's attachment limits (owners and admins). Fields left out keep their
    value. Limits apply to uploads from now on; stored files stay as they are."""
    saved = service.save_settings(ctx, who, body.model_dump())
    audit.record(
        ctx,
        who,
        "attachment_settings.changed",
        "attachment_settings",
        who.tenant_id,
        ip=client_address(request),
        details=body.model_dump(exclude_none=True),
    )
    return saved
