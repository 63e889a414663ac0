"""Routes: the workspace's backups (status for owners and admins; Back up now and the
archive download for owners only, as both copy all of the workspace's data).

Admins read the status because they run the workspace day to day and should know whether
it is backed up; taking the data out (a download) or writing snapshots on the operator's disk
is an owner's decision, as it is for the workspace's sign-in settings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from sync.access import Principal
from sync.errors import Conflict

from ..audit import service as audit
from ..core.context import AppContext
from ..core.deps import AdminDep, CtxDep, client_address, require_roles
from ..core.openapi import errors
from ..ratelimit.deps import limit_backups
from ..tenants import repository as tenants
from . import archive, workspace
from .schemas import BackupSchedule, BackupSnapshot, BackupStatus

router = APIRouter(prefix="/api/v1", tags=["backups"])

OwnerDep = Annotated[Principal, Depends(require_roles("owner"))]


def owner_within_limit(ctx: CtxDep, who: OwnerDep) -> Principal:
    """An owner, counted against the workspace's backups limit only once the role is checked:
    refused callers (an engineer pressing on) never spend the owners' allowance."""
    limit_backups(ctx, who)
    return who


LimitedOwnerDep = Annotated[Principal, Depends(owner_within_limit)]

COUCHDB_HOW = (
    "This instance keeps its data in CouchDB, which is backed up with CouchDB's own tools: "
    "continuous replication to a second CouchDB server, or Cloudant's backups. Branchline keeps "
    "no other state here, so it takes no snapshots of its own. Ask your operator how often "
    "they run. Download this workspace's data below for a copy of your own."
)


def _schedule(ctx: AppContext) -> BackupSchedule:
    from apscheduler.triggers.cron import CronTrigger  # noqa: PLC0415

    s = ctx.settings
    next_run = None
    if s.backup_enabled:
        trigger = CronTrigger.from_crontab(s.backup_cron, timezone="UTC")
        moment = trigger.get_next_fire_time(None, datetime.now(UTC))
        if moment is not None:
            next_run = moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return BackupSchedule(
        enabled=s.backup_enabled,
        cron=s.backup_cron,
        description=workspace.describe_cron(s.backup_cron) if s.backup_enabled else "Not scheduled",
        next_run=next_run,
    )


@router.get("/backups", response_model=BackupStatus)
def backup_status(who: AdminDep, ctx: CtxDep) -> BackupStatus:
    """How this workspace is backed up (owners and admins): the schedule in words and its next
    run, how many snapshots are kept, and the recent snapshots that hold this workspace, each
    with this workspace's databases (size, documents) and whether its part succeeded.

    Nothing of another workspace is shown, nor any server path. On the couchdb backend the
    answer says how CouchDB backs it up and lists no snapshots."""
    s = ctx.settings
    owner = who.role == "owner"
    if s.backend != "embedded":
        return BackupStatus(
            backend="couchdb",
            managed_by="couchdb",
            how=COUCHDB_HOW,
            schedule=None,
            retention=None,
            running=False,
            can_back_up=False,
            can_download=owner,
            snapshots=[],
        )
    backup_dir = s.resolved_backup_dir()
    schedule = _schedule(ctx)
    how = (
        f"Branchline copies every database of this instance: {schedule.description[0].lower()}"
        f"{schedule.description[1:]}, keeping the newest {s.backup_keep}. Owners can also back up "
        "this workspace now, and download its data."
        if s.backup_enabled
        else "The nightly backup is turned off on this instance; owners can back up this workspace "
        "now, and download its data."
    )
    return BackupStatus(
        backend="embedded",
        managed_by="branchline",
        how=how,
        schedule=schedule,
        retention=s.backup_keep,
        running=workspace.is_running(backup_dir, who.tenant_id),
        can_back_up=owner,
        can_download=owner,
        snapshots=[BackupSnapshot(**p) for p in workspace.tenant_snapshots(backup_dir, who.tenant_id)],
    )


@router.post(
    "/backups",
    status_code=201,
    response_model=BackupSnapshot,
    responses=errors(
        {
            409: "A backup of this workspace is already running, or this instance runs on CouchDB "
            "(backed up by CouchDB's own tools).",
            500: "The snapshot failed; it is listed as failed with the reason.",
        }
    ),
)
def back_up_now(who: LimitedOwnerDep, ctx: CtxDep, request: Request) -> BackupSnapshot:
    """Snapshot this workspace's databases now (owners, embedded backend): a tenant-scoped
    snapshot beside the nightly ones, with SQLite's online backup (consistent while people
    keep working). Answers the snapshot as the status lists it. One at a time per workspace
    (409 while one runs); the newest `retention` of them are kept. Recorded in the audit log
    as `backup.created`."""
    s = ctx.settings
    if s.backend != "embedded":
        raise Conflict(
            "This instance runs on CouchDB, which is backed up with its own tools; there is no "
            "Branchline snapshot to take. Download the workspace's data for a copy of your own.",
            error="not_available",
        )
    manifest = workspace.backup_tenant(s.data_dir, s.resolved_backup_dir(), who.tenant_id, keep=s.backup_keep)
    part = workspace.tenant_part(manifest, who.tenant_id, "workspace")
    assert part is not None  # a successful snapshot holds the tenant's databases
    audit.record(
        ctx,
        who,
        "backup.created",
        "backup",
        part["id"],
        ip=client_address(request),
        details={"databases": len(part["databases"]), "bytes": part["bytes"], "doc_count": part["doc_count"]},
    )
    return BackupSnapshot(**part)


_ZIP: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/zip": {}},
        "description": "A zip: `manifest.json`, `databases/{name}.ndjson` (one revision per line, as "
        "`_bulk_docs` with `new_edits=false` takes it), `system.ndjson`, `attachments/{id}`.",
    }
}


@router.get("/backups/archive", responses=_ZIP, response_class=StreamingResponse)
def download_archive(who: LimitedOwnerDep, ctx: CtxDep, request: Request) -> StreamingResponse:
    """Download all of this workspace's data as a portable archive (owners; either backend):
    every revision of every document with attachments, the accounts without their passwords,
    the attachment files. `branchline tenant import ARCHIVE --slug ID` recreates the workspace
    from it on any instance. Webhooks, PSA/RMM connectors, SSO, API keys and share links do
    not travel (their secrets are bound to this instance). Sent as it is made, so its size is
    not known up front. Recorded in the audit log as `backup.downloaded`."""
    name = tenants.get_tenant(ctx.system, who.tenant_id).get("name") or "workspace"
    filename = archive.archive_filename(name)
    audit.record(
        ctx,
        who,
        "backup.downloaded",
        "tenant",
        who.tenant_id,
        ip=client_address(request),
        details={"file": filename},
    )
    return StreamingResponse(
        archive.archive_chunks(ctx, who.tenant_id),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
