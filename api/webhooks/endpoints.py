"""Routes: webhooks (owners and admins).

Deliveries follow the Standard Webhooks specification: a JSON body `{type, timestamp, data}`
with the headers `webhook-id` (the same on every retry: deduplicate on it),
`webhook-timestamp` and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of
`{id}.{timestamp}.{body}`, keyed by the base64-decoded part of the secret after `whsec_`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..audit import service as audit
from ..core.deps import AdminDep, CtxDep, PageDep, client_address
from ..core.openapi import errors
from . import service
from .schemas import WebhookCreate, WebhookUpdate

router = APIRouter(prefix="/api/v1", tags=["webhooks"])

_REFUSED = (
    "The URL is not an http(s) URL, or it resolves to a loopback, private, link-local or metadata address."
)


@router.get("/webhooks")
def list_webhooks(who: AdminDep, ctx: CtxDep, page: PageDep) -> dict:
    """The tenant's webhook subscriptions (never their secrets), with their `status`: `active`,
    `failing` (a message spent its retries; deliveries pause until it is enabled again) or
    `disabled`."""
    subs = service.list_subscriptions(ctx, who.tenant_id)
    after = page.after()
    if after:
        subs = [s for s in subs if s["id"] > after]
    return page.answer(subs[: page.limit + 1], lambda s: s["id"])


@router.post("/webhooks", status_code=201, responses=errors({400: _REFUSED}))
def create_webhook(body: WebhookCreate, who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Subscribe `url` to `events`. The answer's `secret` (`whsec_` + base64) is shown only
    here: keep it to verify signatures. Events of sessions recorded offline are sent when
    they reach the server, once.

    Each delivery is a POST of JSON `{type, timestamp, data}` (Standard Webhooks) with the
    headers `webhook-id` (the same on every retry: deduplicate on it), `webhook-timestamp`
    (Unix seconds of this attempt) and `webhook-signature`: `v1,` + base64 of HMAC-SHA256 over
    `{webhook-id}.{webhook-timestamp}.{body}`, keyed by the base64-decoded part of the secret
    after `whsec_`. Any 2xx answer within the timeout is a success; anything else is retried
    after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, then the subscription is `failing`.
    Redirects are not followed. `preset: slack` or `teams` posts a readable chat message
    instead of the JSON event."""
    sub = service.create(
        ctx,
        who,
        url=body.url,
        event_types=list(body.events),
        description=body.description,
        preset=body.preset,
    )
    audit.record(
        ctx,
        who,
        "webhook.created",
        "webhook",
        sub["id"],
        ip=client_address(request),
        details={"url": sub["url"], "events": sub["events"], "preset": sub["preset"]},
    )
    return sub


@router.get("/webhooks/{webhook_id}")
def get_webhook(webhook_id: str, who: AdminDep, ctx: CtxDep) -> dict:
    """One subscription, with its status and last error."""
    return service.get(ctx, who.tenant_id, webhook_id)


@router.patch(
    "/webhooks/{webhook_id}",
    responses=errors({400: _REFUSED, 409: "The subscription changed at the same moment; repeat."}),
)
def update_webhook(
    webhook_id: str, body: WebhookUpdate, who: AdminDep, ctx: CtxDep, request: Request
) -> dict:
    """Change the fields given. `enabled: true` on a `failing` subscription makes it active and
    sends what queued meanwhile."""
    given = body.model_dump(exclude_unset=True)
    given = {k: v for k, v in given.items() if v is not None or k == "description"}
    sub, changed = service.update(ctx, who, webhook_id, given)
    if changed:
        audit.record(
            ctx, who, "webhook.updated", "webhook", webhook_id, ip=client_address(request), details=changed
        )
    return sub


@router.delete("/webhooks/{webhook_id}")
def delete_webhook(webhook_id: str, who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Delete a subscription; nothing more is sent to it."""
    sub = service.delete(ctx, who, webhook_id)
    audit.record(
        ctx,
        who,
        "webhook.deleted",
        "webhook",
        webhook_id,
        ip=client_address(request),
        details={"url": sub["url"]},
    )
    return sub


@router.get("/webhooks/{webhook_id}/deliveries")
def list_deliveries(webhook_id: str, who: AdminDep, ctx: CtxDep, page: PageDep) -> dict:
    """The delivery log, newest first: each message with its `status` (`pending`, `sending`,
    `delivered`, `failed`), the request sent, the receiver's status code and a body excerpt
    of its latest attempt, and the earlier attempts."""
    before = page.after()
    if before is not None and not isinstance(before, str):
        before = None
    items = service.deliveries(ctx, who.tenant_id, webhook_id, before=before, limit=page.limit + 1)
    return page.answer(items, lambda d: d["id"])


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
    status_code=202,
    responses=errors({409: "The message is being delivered right now."}),
)
def retry_delivery(webhook_id: str, delivery_id: str, who: AdminDep, ctx: CtxDep) -> dict:
    """Send one message again now, as one attempt (the same `webhook-id`); its log shows the
    result in a moment."""
    return service.retry(ctx, who, webhook_id, delivery_id)


@router.post("/webhooks/{webhook_id}/test")
def test_webhook(webhook_id: str, who: AdminDep, ctx: CtxDep) -> dict:
    """Send a signed `webhook.test` message now and answer its delivery record, with the
    receiver's status code and answer (sent whatever the subscription's events or status)."""
    return service.send_test(ctx, who, webhook_id)
