"""Request bodies of the audit routes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .service import MAX_RETENTION_DAYS


class AuditSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    retention_days: int | None = Field(
        ge=1,
        le=MAX_RETENTION_DAYS,
        examples=[365],
        description="Entries older than this many days are removed by a daily job; null keeps them all.",
    )
