"""Routes: what the workspace's e-mail outbox holds (owners and admins)."""

from __future__ import annotations

from fastapi import APIRouter

from ..core.deps import AdminDep, CtxDep, PageDep
from . import repository as repo, service
from .schemas import MailList

router = APIRouter(prefix="/api/v1", tags=["mail"])


@router.get("/mail", response_model=MailList)
def list_mail(who: AdminDep, ctx: CtxDep, page: PageDep) -> dict:
    """The e-mail this workspace sent or is sending, newest first: invitations and review
    notices, each with its `status` (`pending`, `sending`, `delivered`, `failed`), attempts and
    the mail server's last answer. Never a message's body (an invitation's link signs its holder
    in). `configured: false` when this server sends no e-mail (BRANCHLINE_SMTP_URL unset)."""
    after = page.after()
    if after is not None and not isinstance(after, str):
        from sync.errors import BadRequest  # noqa: PLC0415

        raise BadRequest("The cursor is not valid: pass back next_cursor exactly as a list returned it.")
    db = repo.open_db(ctx.store, who.tenant_id)
    docs = repo.messages(db, before=after, limit=page.limit + 1) if db is not None else []
    answer = page.answer([service.public(d) for d in docs], lambda m: m["id"])
    sender = ctx.settings.mail_from if service.configured(ctx) else None
    return {"configured": service.configured(ctx), "sender": sender, **answer}
