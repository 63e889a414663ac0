"""Request bodies of the PSA routes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ConnectWiseConfig(BaseModel):
    """The whole configuration; `private_key` may be left out to keep the stored one."""

    model_config = ConfigDict(extra="forbid")
    site_url: str = Field(max_length=500, examples=["https://na.myconnectwise.net"])
    company_id: str = Field(max_length=200, description="The company id you sign in to ConnectWise with.")
    public_key: str = Field(max_length=200)
    private_key: str | None = Field(default=None, max_length=500, description="Write-only; never answered.")
    client_id: str = Field(
        max_length=200, description="Your integration's clientId from ConnectWise's developer site."
    )
    board: str | None = Field(default=None, max_length=200, description="Service board of created tickets.")
    status: str | None = Field(default=None, max_length=200, description="Status of created tickets.")
    member: str | None = Field(
        default=None,
        max_length=200,
        description="Member identifier for time entries of engineers whose e-mail matches no member's.",
    )
    work_type: str | None = Field(default=None, max_length=200)
    company: str | None = Field(
        default=None, max_length=200, description="Default company identifier of created tickets."
    )
    note_type: Literal["internal", "discussion"] = "internal"
    note_format: Literal["text", "markdown"] = "text"
    time_entry: bool = True
    auto_push: bool = Field(
        default=False, description="Push every session when it completes (offline ones when they sync)."
    )


class AutotaskConfig(BaseModel):
    """The whole configuration; `secret` may be left out to keep the stored one. Ids are the
    numbers Autotask shows (companies, queues, resources, roles, picklist values)."""

    model_config = ConfigDict(extra="forbid")
    api_user: str = Field(max_length=200, description="The API-only user's user name (UserName header).")
    secret: str | None = Field(default=None, max_length=500, description="Write-only; never answered.")
    integration_code: str = Field(
        max_length=200, description="The API user's API tracking identifier (ApiIntegrationcode header)."
    )
    company: int | None = Field(default=None, description="Default companyID of created tickets.")
    queue_id: int | None = Field(default=None, description="queueID of created tickets (required to create).")
    ticket_status: int = Field(default=1, description="Status picklist value of created tickets (1: New).")
    priority: int = Field(default=2, description="Priority picklist value of created tickets.")
    due_hours: int = Field(default=24, description="dueDateTime of created tickets: this many hours ahead.")
    resource_id: int | None = Field(
        default=None, description="Resource of time entries of engineers whose e-mail matches no resource's."
    )
    role_id: int | None = Field(
        default=None,
        description="roleID of time entries; the resource's default service desk role when left out.",
    )
    note_type_id: int = Field(default=1, description="noteType picklist value of ticket notes.")
    note_publish: Literal["internal", "all"] = Field(
        default="internal",
        description="internal: Internal Only (publish 2); all: All Autotask Users (publish 1).",
    )
    note_format: Literal["text", "markdown"] = "text"
    time_entry: bool = True
    auto_push: bool = Field(
        default=False, description="Push every session when it completes (offline ones when they sync)."
    )


class NewTicketFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    summary: str | None = Field(default=None, max_length=100)
    company: str | None = Field(
        default=None, max_length=200, description="ConnectWise company identifier, or Autotask companyID."
    )
    board: str | None = Field(
        default=None, max_length=200, description="ConnectWise board, or Autotask queueID."
    )


class PsaPush(BaseModel):
    """What to push. Without `create_ticket` or `ticket_id`, the session's own ticket field is
    used when it is a ticket number, else a ticket is created."""

    model_config = ConfigDict(extra="forbid")
    system: Literal["connectwise", "autotask"]
    create_ticket: bool | NewTicketFields | None = None
    ticket_id: int | None = Field(default=None, ge=1, description="Attach to this existing ticket number.")
    ticket_number: str | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="Attach to the ticket the PSA knows by this number (Autotask: T20261203.0042).",
    )
    time_entry: bool | None = Field(
        default=None, description="Add a time entry (the connector's setting when left out)."
    )
