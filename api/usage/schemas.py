"""The usage answer (`GET /api/v1/tenant/usage`): what the OpenAPI document shows clients."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class DatabaseUsage(BaseModel):
    name: str = Field(description="The database: `trees`, `sessions`, `clients`, or a server-only one.")
    label: str = Field(description="What it holds, in words.")
    bytes: int = Field(description="Bytes on disk (the embedded backend) or CouchDB's file size.")
    documents: int = Field(description="Documents in it (deleted ones left out).")


class AttachmentUsage(BaseModel):
    files: int = Field(description="Attachment files stored for the team.")
    bytes: int = Field(description="Their size, as stored (after any image re-encoding).")
    storage: str = Field(description="Where files live: `folder` (a folder on the server) or `s3`.")
    counts_toward_quota: bool = Field(
        description="Whether these bytes count toward the storage quota (they do not: attachments "
        "have their own size limit per file)."
    )


class StorageUsage(BaseModel):
    databases: list[DatabaseUsage]
    used_bytes: int = Field(description="The databases' bytes summed: what the quota is compared with.")
    quota_bytes: int | None = Field(description="The storage quota in bytes; null: no quota.")
    quota_source: Literal["default", "operator"] = Field(
        description="`default`: the instance's quota for every team (BRANCHLINE_TENANT_QUOTA_BYTES); "
        "`operator`: set for this team by the instance operator (`branchline tenant quota`)."
    )
    percent: float | None = Field(description="used_bytes as a percentage of quota_bytes, one decimal.")
    attachments: AttachmentUsage
    measured_at: str = Field(description="When the databases were measured (ISO 8601).")
    age_seconds: float = Field(description="Seconds since then.")
    refresh_seconds: float = Field(
        description="Measurements are reused for this long (the quota check on writes uses the same one)."
    )
    quota_managed_by: str = Field(description="Who can change the quota, and how.")


class MemberUsage(BaseModel):
    active: dict[str, int] = Field(description="Active members per role (`owner`, `admin`, ...).")
    active_total: int
    invited: int = Field(description="Invitations not yet accepted (expired ones included).")
    deactivated: int
    seats: int | None = Field(description="The most members the team may have; null: no limit.")


class TreeUsage(BaseModel):
    published: int = Field(description="Trees with a published version, not archived.")
    never_published: int = Field(description="Drafts never published, not archived.")
    archived: int


class SessionUsage(BaseModel):
    total: int
    this_month: int = Field(description="Started since the first of this month (UTC).")
    last_30_days: int
    completed: int
    abandoned: int
    in_progress: int


class ContentUsage(BaseModel):
    trees: TreeUsage
    sessions: SessionUsage
    clients: int = Field(description="Client contexts.")


class Deliveries(BaseModel):
    delivered: int
    failed: int
    pending: int = Field(description="Waiting for their first or a next attempt.")
    capped: bool = Field(
        description="True when more messages than were counted exist (figures are at least)."
    )


class IntegrationUsage(BaseModel):
    api_keys_active: int
    api_keys_revoked: int
    webhooks: int
    webhooks_failing: int
    deliveries_last_24h: Deliveries = Field(description="Webhook messages of events in the last 24 hours.")


class Limit(BaseModel):
    key: str = Field(description="A stable name, e.g. `storage_quota`, `rate_user`.")
    label: str = Field(description="A short human label.")
    value: int | None = Field(description="The limit; null: no limit (or limits are off).")
    unit: Literal["bytes", "requests_per_minute", "requests_per_hour", "items", "failures"]
    applies_to: str = Field(description="What is counted against it, e.g. `each signed-in user`.")
    explanation: str = Field(description="What happens past it, in words.")


class UsageWarning(BaseModel):
    code: Literal["storage_high", "storage_full"]
    level: Literal["warning", "critical"]
    message: str


_EXAMPLE: dict[str, Any] = {
    "tenant_id": "k3j2h1g0f9",
    "storage": {
        "databases": [
            {"name": "sessions", "label": "Sessions and their events", "bytes": 4718592, "documents": 1840},
            {
                "name": "trees",
                "label": "Trees, drafts and published versions",
                "bytes": 1572864,
                "documents": 96,
            },
            {"name": "clients", "label": "Client contexts", "bytes": 65536, "documents": 12},
        ],
        "used_bytes": 6356992,
        "quota_bytes": 5368709120,
        "quota_source": "default",
        "percent": 0.1,
        "attachments": {"files": 42, "bytes": 18874368, "storage": "folder", "counts_toward_quota": False},
        "measured_at": "2026-12-04T16:20:00Z",
        "age_seconds": 12.4,
        "refresh_seconds": 30.0,
        "quota_managed_by": "Only the operator of this Branchline server changes it, on the server: "
        "branchline tenant quota k3j2h1g0f9 --storage SIZE",
    },
    "members": {
        "active": {"owner": 1, "admin": 1, "author": 2, "engineer": 9, "viewer": 0},
        "active_total": 13,
        "invited": 2,
        "deactivated": 1,
        "seats": None,
    },
    "content": {
        "trees": {"published": 18, "never_published": 3, "archived": 2},
        "sessions": {
            "total": 420,
            "this_month": 37,
            "last_30_days": 88,
            "completed": 371,
            "abandoned": 21,
            "in_progress": 28,
        },
        "clients": 12,
    },
    "integrations": {
        "api_keys_active": 2,
        "api_keys_revoked": 1,
        "webhooks": 1,
        "webhooks_failing": 0,
        "deliveries_last_24h": {"delivered": 14, "failed": 0, "pending": 0, "capped": False},
    },
    "limits": [
        {
            "key": "storage_quota",
            "label": "Storage quota",
            "value": 5368709120,
            "unit": "bytes",
            "applies_to": "the team's databases",
            "explanation": "Past it, new documents are refused (413 quota_exceeded); deleting still works.",
        }
    ],
    "warnings": [],
}


class UsagePublic(BaseModel):
    """The team's usage and limits, for owners and admins."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    tenant_id: str
    storage: StorageUsage
    members: MemberUsage
    content: ContentUsage
    integrations: IntegrationUsage
    limits: list[Limit]
    warnings: list[UsageWarning] = Field(
        description="Storage past 80% of the quota (`storage_high`) or full."
    )


class UsageWarnings(BaseModel):
    """Only the warnings of the usage answer: what every admin page asks, cheaply."""

    warnings: list[UsageWarning] = Field(
        description="Storage past 80% of the quota (`storage_high`) or full (`storage_full`)."
    )
