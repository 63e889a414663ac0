"""Limits on expensive work, as FastAPI dependencies: registrations per address, and per
tenant: exports, PDF renders and attachment uploads; and views of one read-only share link.
Shared by every instance on couchdb, and by every process of an embedded installation
served by several (see `storage`)."""

from __future__ import annotations

import time

from fastapi import Depends, Request

from sync.errors import TooManyRequests

from ..core.context import AppContext
from ..core.deps import AdminDep, CtxDep, PrincipalDep, client_address
from .gate import RequestGate
from .rules import Policy, headers, refusal_reason
from .storage import DocumentWindows, MemoryWindows, Windows


def build_windows(ctx: AppContext) -> Windows:
    if ctx.settings.several_instances:
        return DocumentWindows(ctx.system, ctx.secret)
    return MemoryWindows()


def expensive_policies(ctx: AppContext) -> dict[str, Policy]:
    s = ctx.settings
    return {
        "registrations": Policy("registrations", s.rate_limit_registrations_per_hour, 3600),
        "exports": Policy("exports", s.rate_limit_exports_per_minute, 60),
        "pdf": Policy("pdf", s.rate_limit_pdf_per_minute, 60),
        "uploads": Policy("uploads", s.rate_limit_uploads_per_minute, 60),
        "share_views": Policy("share_views", s.rate_limit_share_views_per_minute, 60),
        "backups": Policy("backups", s.rate_limit_backups_per_hour, 3600),
        "usage_refreshes": Policy("usage_refreshes", s.rate_limit_usage_refreshes_per_minute, 60),
        "password_resets": Policy("password_resets", s.rate_limit_password_resets_per_hour, 3600),
        "password_reset_mails": Policy(
            "password_reset_mails", s.rate_limit_password_reset_mails_per_hour, 3600
        ),
        "invitation_mails": Policy("invitation_mails", s.rate_limit_invitation_mails_per_hour, 3600),
    }


def charge(ctx: AppContext, kind: str, key: str, what: str) -> None:
    """Count one `kind` of work against `key`; raise 429 past the limit."""
    if not ctx.settings.rate_limits_enabled:
        return
    windows = ctx.rate_windows
    assert windows is not None, "api.ratelimit.deps.install sets the windows up at start-up"
    policy = ctx.rate_policies[kind]
    verdict = windows.count(f"{kind}:{key}", time.time(), policy)
    if not verdict.allowed:
        raise TooManyRequests(refusal_reason(policy, verdict, what), headers=headers(policy, verdict))


def limit_registrations(request: Request, ctx: CtxDep) -> None:
    charge(ctx, "registrations", client_address(request) or "unknown", "registering teams from one address")


def limit_password_resets(request: Request, ctx: CtxDep) -> None:
    charge(
        ctx,
        "password_resets",
        client_address(request) or "unknown",
        "asking for password resets from one address",
    )


def limit_invitation_mails(ctx: CtxDep, who: AdminDep) -> None:
    """Counted only when the server sends e-mail: without it an invitation is a link the admin
    passes on, and reaches nobody the team did not choose to tell."""
    from ..mail.service import configured  # noqa: PLC0415

    if configured(ctx):
        charge(ctx, "invitation_mails", who.tenant_id, "e-mailing invitations, for your team,")


def limit_exports(request: Request, ctx: CtxDep, who: PrincipalDep) -> None:
    charge(ctx, "exports", who.tenant_id, "exporting, for your team,")
    if request.query_params.get("format") == "pdf":
        charge(ctx, "pdf", who.tenant_id, "rendering PDFs, for your team,")


def limit_uploads(ctx: CtxDep, who: PrincipalDep) -> None:
    charge(ctx, "uploads", who.tenant_id, "uploading attachments, for your team,")


def install(ctx: AppContext) -> None:
    """Set up the counters of expensive work from the settings."""
    ctx.rate_windows = build_windows(ctx)
    ctx.rate_policies = expensive_policies(ctx)


def request_gate(ctx: AppContext) -> RequestGate | None:
    """The general limits every request passes (`gate.py`), or None when limits are off."""
    s = ctx.settings
    if not s.rate_limits_enabled:
        return None
    from ..auth.service import token_subject  # noqa: PLC0415

    return RequestGate(
        lambda token: token_subject(ctx, token),
        per_user=Policy("user", s.rate_limit_user_per_minute, 60),
        per_key=Policy("api-key", s.rate_limit_api_key_per_minute, 60),
        per_address=Policy("address", s.rate_limit_address_per_minute, 60),
    )


def limit_backups(ctx: CtxDep, who: PrincipalDep) -> None:
    charge(ctx, "backups", who.tenant_id, "backing up or downloading your workspace,")


RegistrationLimit = Depends(limit_registrations)
PasswordResetLimit = Depends(limit_password_resets)
InvitationMailLimit = Depends(limit_invitation_mails)
ExportLimit = Depends(limit_exports)
UploadLimit = Depends(limit_uploads)
