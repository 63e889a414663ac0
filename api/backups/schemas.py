"""Answers of the backups routes (they become the OpenAPI text)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class BackupDatabase(BaseModel):
    name: str = Field(description="The workspace's logical database name.", examples=["sessions"])
    bytes: int = Field(description="Size of its copy in the snapshot.", examples=[245760])
    doc_count: int = Field(description="Documents in it (deleted ones not counted).", examples=[812])


class BackupSnapshot(BaseModel):
    id: str = Field(
        description="`{kind}-{time stamp}`: a name, never a server path.",
        examples=["nightly-20261204T023000123456Z"],
    )
    kind: Literal["nightly", "workspace"] = Field(
        description="`nightly`: the instance's scheduled snapshot (this workspace's part of it); "
        "`workspace`: made with Back up now, holding this workspace only."
    )
    created_at: str = Field(examples=["2026-12-04T02:30:00.123Z"])
    ok: bool = Field(description="False when this workspace's part failed.")
    error: str | None = Field(description="Why this workspace's part failed, else null.")
    bytes: int = Field(description="This workspace's databases in the snapshot, together.")
    doc_count: int
    databases: list[BackupDatabase]


class BackupSchedule(BaseModel):
    enabled: bool = Field(description="Whether the nightly backup runs on this instance.")
    cron: str = Field(description="Crontab line, UTC.", examples=["30 2 * * *"])
    description: str = Field(examples=["Every day at 02:30 UTC"])
    next_run: str | None = Field(description="ISO 8601, UTC; null when disabled.")


class BackupStatus(BaseModel):
    backend: Literal["embedded", "couchdb"]
    managed_by: Literal["branchline", "couchdb"] = Field(
        description="`couchdb`: the database server's own tools back up this instance, and "
        "Branchline shows no snapshots of its own."
    )
    how: str = Field(description="How this instance is backed up, in words.")
    schedule: BackupSchedule | None = Field(description="Null on the couchdb backend.")
    retention: int | None = Field(
        description="Snapshots kept: the newest nightly ones, and as many of this workspace's own."
    )
    running: bool = Field(description="A Back up now of this workspace is in progress.")
    can_back_up: bool = Field(description="Whether the caller may use Back up now (owners, embedded).")
    can_download: bool = Field(description="Whether the caller may download the archive (owners).")
    snapshots: list[BackupSnapshot] = Field(description="Newest first.")
