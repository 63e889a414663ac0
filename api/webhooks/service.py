"""Webhook subscriptions, their delivery log, manual retries and test messages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sync.access import Principal
from sync.errors import BadRequest, Conflict, NotFound

from ..core.context import AppContext
from ..core.docs import save
from ..core.ids import new_id
from ..core.timeutil import now_ms
from ..sessions.ids import ulid
from . import delivery, events, outbox, repository as repo, signing
from .presets import PRESETS
from .ssrf import TargetRefused, resolve_target
from .worker import WebhookWorker, record_attempt

MAX_DESCRIPTION = 500


def worker(ctx: AppContext) -> WebhookWorker:
    if ctx.webhooks is None:
        raise RuntimeError("The webhooks feature is not installed (api/features.py install_hooks).")
    return ctx.webhooks


def _iso_ms(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def public_subscription(doc: dict[str, Any]) -> dict[str, Any]:
    enabled = doc.get("enabled", True)
    return {
        "id": doc["id"],
        "url": doc["url"],
        "events": doc["events"],
        "description": doc.get("description", ""),
        "preset": doc.get("preset", "standard"),
        "enabled": enabled,
        "status": "disabled" if not enabled else doc.get("status", "active"),
        "failing_since": doc.get("failing_since"),
        "last_error": doc.get("last_error"),
        "created_at": doc["created_at"],
        "created_by": doc.get("created_by"),
        "updated_at": doc.get("updated_at"),
    }


def public_delivery(doc: dict[str, Any]) -> dict[str, Any]:
    attempts = doc.get("attempts", [])
    last = attempts[-1] if attempts else None
    return {
        "id": repo.split_msg_id(doc["_id"])[1],
        "webhook_id": doc["webhook_id"],
        "msg_id": doc["msg_id"],
        "event_type": doc["event_type"],
        "status": doc["status"],
        "created_at": _iso_ms(doc.get("created_ms")),
        "attempt_count": doc.get("attempt_count", 0),
        "next_attempt_at": _iso_ms(doc.get("next_attempt_ms")) if doc["status"] == "pending" else None,
        "delivered_at": doc.get("delivered_at"),
        "failed_at": doc.get("failed_at") if doc["status"] == "failed" else None,
        "last_error": doc.get("last_error"),
        "payload": doc["payload"],
        "request": last["request"] if last else None,
        "response": {"status_code": last["status_code"], "body_excerpt": last["response_excerpt"]}
        if last
        else None,
        "attempts": [{k: v for k, v in a.items() if k != "request"} for a in attempts],
    }


def _check_events(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise BadRequest(f"events must list at least one of: {', '.join(events.EVENT_TYPES)}.")
    unknown = [e for e in value if e not in events.EVENT_TYPES]
    if unknown:
        raise BadRequest(f"Unknown event {unknown[0]!r}; use any of: {', '.join(events.EVENT_TYPES)}.")
    return sorted(set(value), key=events.EVENT_TYPES.index)


def _check_url(ctx: AppContext, url: Any) -> str:
    hooks = worker(ctx)
    try:
        resolve_target(str(url or ""), allow_private=hooks.allow_private, resolver=hooks.resolver)
    except TargetRefused as exc:
        raise BadRequest(str(exc)) from None
    return str(url).strip()


def _check_description(value: Any) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None or len(text) > MAX_DESCRIPTION:
        raise BadRequest(f"description must be text of at most {MAX_DESCRIPTION} characters.")
    return text


def _check_preset(value: Any) -> str:
    if value not in PRESETS:
        raise BadRequest(f"preset must be one of: {', '.join(PRESETS)}.")
    return str(value)


def _get(ctx: AppContext, tenant_id: str, webhook_id: str) -> dict[str, Any]:
    doc = repo.subscription(repo.open_db(ctx.store, tenant_id), webhook_id)
    if doc is None:
        raise NotFound(f"No webhook {webhook_id} in this tenant; GET /api/v1/webhooks lists them.")
    return doc


def _start_following_if_first(ctx: AppContext, tenant_id: str) -> None:
    db = repo.ensure_db(ctx.store, tenant_id)
    if not repo.subscriptions(db):
        outbox.reset_checkpoints(ctx.store, tenant_id)


def create(
    ctx: AppContext, who: Principal, *, url: str, event_types: list[str], description: str | None, preset: str
) -> dict[str, Any]:
    doc_url = _check_url(ctx, url)
    chosen = _check_events(event_types)
    text = _check_description(description)
    preset = _check_preset(preset)
    webhook_id = new_id()
    secret = signing.new_secret()
    now = now_ms()
    _start_following_if_first(ctx, who.tenant_id)
    doc = save(
        repo.ensure_db(ctx.store, who.tenant_id),
        {
            "_id": repo.sub_doc_id(webhook_id),
            "type": "webhook",
            "schema_version": repo.SCHEMA_VERSION,
            "id": webhook_id,
            "url": doc_url,
            "events": chosen,
            "description": text,
            "preset": preset,
            "enabled": True,
            "status": "active",
            "secret_sealed": signing.seal(ctx.secret, who.tenant_id, webhook_id, secret),
            "created_at": _iso_ms(now),
            "created_ms": now,
            "created_by": who.user_id,
            "updated_at": _iso_ms(now),
        },
    )
    worker(ctx).nudge(who.tenant_id)
    return {**public_subscription(doc), "secret": secret}


def list_subscriptions(ctx: AppContext, tenant_id: str) -> list[dict[str, Any]]:
    db = repo.open_db(ctx.store, tenant_id)
    subs = repo.subscriptions(db) if db is not None else []
    return [public_subscription(d) for d in sorted(subs, key=lambda d: d["id"])]


def get(ctx: AppContext, tenant_id: str, webhook_id: str) -> dict[str, Any]:
    return public_subscription(_get(ctx, tenant_id, webhook_id))


def update(
    ctx: AppContext, who: Principal, webhook_id: str, changes: dict[str, Any]
) -> tuple[dict[str, Any], dict]:
    """Apply `changes` (only the fields given); the subscription and what changed ({field: {from, to}})."""
    doc = _get(ctx, who.tenant_id, webhook_id)
    checks = {
        "url": lambda v: _check_url(ctx, v),
        "events": _check_events,
        "description": _check_description,
        "preset": _check_preset,
    }
    changed: dict[str, Any] = {}
    for name, value in changes.items():
        new: Any
        if name == "enabled":
            if not isinstance(value, bool):
                raise BadRequest("enabled must be true or false.")
            new = value
        else:
            new = checks[name](value)
        if doc.get(name) != new:
            changed[name] = {"from": doc.get(name), "to": new}
            doc[name] = new
    if changes.get("enabled") is True and doc.get("status") == "failing":
        # Enabling a failing subscription is how an admin says the receiver is fixed.
        doc.update(status="active", failing_since=None)
        changed["status"] = {"from": "failing", "to": "active"}
    if changed:
        doc["updated_at"] = _iso_ms(now_ms())
        try:
            save(repo.ensure_db(ctx.store, who.tenant_id), doc)
        except Conflict:
            raise Conflict(
                "The webhook changed at the same moment; read it again and repeat the change."
            ) from None
        worker(ctx).nudge(who.tenant_id)
    return public_subscription(doc), changed


def delete(ctx: AppContext, who: Principal, webhook_id: str) -> dict[str, Any]:
    doc = _get(ctx, who.tenant_id, webhook_id)
    repo.ensure_db(ctx.store, who.tenant_id).delete(doc["_id"], doc["_rev"])
    return public_subscription(doc)


def deliveries(
    ctx: AppContext, tenant_id: str, webhook_id: str, *, before: str | None, limit: int
) -> list[dict[str, Any]]:
    _get(ctx, tenant_id, webhook_id)
    db = repo.ensure_db(ctx.store, tenant_id)
    return [public_delivery(d) for d in repo.messages(db, webhook_id, before=before, limit=limit)]


def retry(ctx: AppContext, who: Principal, webhook_id: str, delivery_id: str) -> dict[str, Any]:
    """Send one message again now (one attempt; a failure leaves it `failed`)."""
    _get(ctx, who.tenant_id, webhook_id)
    db = repo.ensure_db(ctx.store, who.tenant_id)
    doc = repo.message(db, webhook_id, delivery_id)
    if doc is None:
        raise NotFound(
            f"No delivery {delivery_id} of webhook {webhook_id}; list them with GET .../deliveries."
        )
    if doc["status"] == "sending":
        raise Conflict("This message is being delivered right now; look at its log again in a few seconds.")
    doc.update(status="pending", next_attempt_ms=now_ms(), claim=None, manual=True)
    try:
        save(db, doc)
    except Conflict:
        raise Conflict("The delivery changed at the same moment; try the retry again.") from None
    worker(ctx).nudge(who.tenant_id)
    return public_delivery(doc)


def send_test(ctx: AppContext, who: Principal, webhook_id: str) -> dict[str, Any]:
    """Send a `webhook.test` message now, whatever the subscription's events and status, and
    answer its delivery record (the receiver's answer included)."""
    sub = _get(ctx, who.tenant_id, webhook_id)
    hooks = worker(ctx)
    now = now_ms()
    key = events.event_key(ulid(now), events.TEST_EVENT)
    event = events.Event(
        events.TEST_EVENT,
        key,
        _iso_ms(now) or "",
        {"webhook_id": webhook_id, "message": "A test message from Branchline; no action is needed."},
    )
    msg = outbox.message_doc(sub, event, now)
    holder = f"test:{who.user_id}"
    msg.update(status="sending", manual=True, claim={"by": holder, "until_ms": now + hooks.claim_ms})
    db = repo.ensure_db(ctx.store, who.tenant_id)
    save(db, msg)

    secret = signing.unseal(ctx.secret, who.tenant_id, webhook_id, sub["secret_sealed"])
    result = delivery.attempt(
        hooks.client, sub, secret, msg, allow_private=hooks.allow_private, resolver=hooks.resolver
    )
    saved = record_attempt(ctx, who.tenant_id, msg, result, hooks.delays, holder=holder)
    return public_delivery(saved or msg)
