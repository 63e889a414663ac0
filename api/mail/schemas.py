"""What the e-mail routes and the answers that send e-mail show (for OpenAPI)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

MailStatus = Literal["pending", "sending", "delivered", "failed"]


class MailAttempt(BaseModel):
    at: str
    ok: bool
    status_code: int | None = Field(description="The SMTP reply code, or null without a connection.")
    response_excerpt: str = Field(description="The server's reply, cut to 500 characters.")
    error: str | None
    duration_ms: int
    by: str | None = Field(default=None, description="The instance that sent it (host:pid:tag).")


class MailMessagePublic(BaseModel):
    id: str
    kind: Literal[
        "invitation", "review_requested", "review_approved", "review_changes_requested", "password_reset"
    ]
    to: str
    subject: str
    about: dict[str, str] | None = Field(description="What it is about: `{type: user or tree_review, id}`.")
    status: MailStatus = Field(
        description="`pending` (waiting for its next attempt), `sending`, `delivered` (the mail "
        "server accepted it) or `failed` (refused for good, or every retry spent)."
    )
    created_at: str
    attempt_count: int
    next_attempt_at: str | None
    last_error: str | None
    delivered_at: str | None
    failed_at: str | None
    attempts: list[MailAttempt] = Field(description="The newest 10 attempts.")


class MailList(BaseModel):
    configured: bool = Field(description="Whether this server sends e-mail (BRANCHLINE_SMTP_URL).")
    sender: str | None = Field(description="The From address (BRANCHLINE_MAIL_FROM), or null.")
    items: list[MailMessagePublic]
    next_cursor: str | None
