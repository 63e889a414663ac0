"""The outbox: messages made from the tenant's changes feeds, one document per event and subscription.

`feed_tenant` follows the `sessions` and `trees` feeds from the checkpoints kept in the
webhooks database (`whfeed:` documents, shared by every instance and surviving restarts),
turns each document into its event (`events.py`) and creates `whmsg:{webhook}:{key}` for
every subscription that wants it. Two instances following the same feed create the same ids:
the store accepts the first and answers the other `conflict`, so each event is queued once
however many instances, restarts or replays see it. A checkpoint is saved with its `_rev`;
losing that race only means reading a stretch of the feed again, which creates nothing new.

A feed's checkpoint starts at the feed's present when the tenant's first subscription is
made (`reset_checkpoints`): subscribing never replays the tenant's history.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sync.errors import Conflict, NotFound
from sync.naming import physical_name
from sync.store import Database, Store

from ..core.docs import get_or_none, retry_on_conflict, save
from ..core.timeutil import now_ms
from . import events, repository as repo

log = logging.getLogger("branchline.webhooks")

FEEDS = ("sessions", "trees", "freshness")
# Feeds added after tenants had subscribed: a subscription made before has no checkpoint for
# them, and follows them from their beginning (they hold only what happened since the upgrade).
_LATER_FEEDS = ("freshness",)
_BATCH = 500


def message_doc(sub: dict[str, Any], event: events.Event, created_ms: int) -> dict[str, Any]:
    payload = {"type": event.type, "timestamp": event.timestamp, "data": event.data}
    return {
        "_id": repo.msg_doc_id(sub["id"], event.key),
        "type": "webhook_message",
        "schema_version": repo.SCHEMA_VERSION,
        "webhook_id": sub["id"],
        "msg_id": f"msg_{event.key}",
        "event_type": event.type,
        "payload": payload,
        "created_ms": created_ms,
        "status": "pending",
        "attempt_count": 0,
        "next_attempt_ms": created_ms,
        "claim": None,
        "attempts": [],
    }


def _keep(feed: str) -> Callable[[str], bool] | None:
    return {"trees": events.is_tree_version_id, "freshness": events.is_flag_id}.get(feed)


def _source(store: Store, tenant_id: str, feed: str) -> Database | None:
    try:
        return store.db(physical_name(tenant_id, feed))
    except NotFound:
        return None


def reset_checkpoints(store: Store, tenant_id: str) -> None:
    """Start following every feed from its present (a first subscription, or the first again)."""
    hooks = repo.ensure_db(store, tenant_id)
    for feed in FEEDS:
        source = _source(store, tenant_id, feed)
        since = source.update_seq if source is not None else 0

        def write(feed: str = feed, since: Any = since) -> None:
            doc = get_or_none(hooks, repo.feed_doc_id(feed)) or {
                "_id": repo.feed_doc_id(feed),
                "type": "webhook_feed",
                "schema_version": repo.SCHEMA_VERSION,
                "feed": feed,
            }
            doc["since"] = since
            save(hooks, doc)

        retry_on_conflict(write, busy="The webhook feed checkpoint kept changing; try again.")


def _wants(sub: dict[str, Any], event: events.Event, doc: dict[str, Any]) -> bool:
    if event.type not in sub.get("events", ()):
        return False
    if event.type == "session.started":
        # A header shows up again with every edit: an old session edited now did not start now.
        # Its first revision, or one made after the subscription, did.
        first = str(doc.get("_rev", "")).startswith("1-")
        return first or int(doc.get("created_at") or 0) >= int(sub.get("created_ms") or 0)
    return True


def _with_header(source: Database, event: events.Event, cache: dict[str, Any]) -> events.Event:
    sid = event.data.get("session_id")
    if event.type in ("session.started", "tree.published", "tree.needs_review") or not sid:
        return event
    if sid not in cache:
        try:
            cache[sid] = source.get(f"session:{sid}")
        except NotFound:
            cache[sid] = None
    extra = events.header_fields(cache[sid])
    if not extra:
        return event
    return events.Event(event.type, event.key, event.timestamp, {**event.data, **extra})


def _event_of(feed: str, doc: dict[str, Any]) -> events.Event | None:
    if feed == "sessions":
        return events.from_session_doc(doc)
    return events.from_tree_doc(doc) if feed == "trees" else events.from_flag_doc(doc)


def feed_tenant(store: Store, tenant_id: str, subs: list[dict[str, Any]]) -> int:
    """Follow the tenant's feeds up to their present, queueing messages for `subs` (every
    subscription, paused ones too); the number of messages this call created."""
    hooks = repo.open_db(store, tenant_id)
    if hooks is None or not subs:
        return 0
    created = 0
    for feed in FEEDS:
        source = _source(store, tenant_id, feed)
        checkpoint = get_or_none(hooks, repo.feed_doc_id(feed))
        if checkpoint is None and feed in _LATER_FEEDS:
            checkpoint = _first_checkpoint(hooks, feed)
        if source is None or checkpoint is None:
            continue
        created += _follow(hooks, source, feed, checkpoint, subs)
    return created


def _first_checkpoint(hooks: Database, feed: str) -> dict[str, Any] | None:
    doc = {
        "_id": repo.feed_doc_id(feed),
        "type": "webhook_feed",
        "schema_version": repo.SCHEMA_VERSION,
        "feed": feed,
        "since": 0,
    }
    try:
        return save(hooks, doc)
    except Conflict:
        return get_or_none(hooks, repo.feed_doc_id(feed))  # another instance made it first


def _follow(
    hooks: Database, source: Database, feed: str, checkpoint: dict[str, Any], subs: list[dict[str, Any]]
) -> int:
    created = 0
    since = checkpoint.get("since", 0)
    while True:
        res = source.changes(since=since, limit=_BATCH, include_docs=True, keep=_keep(feed), pending=False)
        rows = res["results"]
        if not rows and res["last_seq"] == since:
            return created
        headers: dict[str, Any] = {}
        now = now_ms()
        docs = []
        for row in rows:
            doc = row.get("doc")
            if not doc or row.get("deleted"):
                continue
            if doc.get("type") == "session":
                headers[doc["_id"][len("session:") :]] = doc
            event = _event_of(feed, doc)
            if event is None:
                continue
            wanting = [s for s in subs if _wants(s, event, doc)]
            if wanting:
                event = _with_header(source, event, headers)
                docs += [message_doc(s, event, now) for s in wanting]
        if docs:
            results = hooks.bulk_docs(docs)
            created += sum(1 for r in results if "rev" in r and not r.get("error"))
        since = res["last_seq"]
        checkpoint["since"] = since
        try:
            save(hooks, checkpoint)
        except Conflict:
            return created  # another instance moved it; the next round starts from there
        if len(rows) < _BATCH:
            return created
