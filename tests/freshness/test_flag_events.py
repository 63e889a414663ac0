"""Freshness flags as webhook events: one event per flag (not per nightly update), and a
subscription made before the `freshness` feed existed still follows it."""

from __future__ import annotations

from api.freshness import repository as flags
from api.webhooks import events, outbox, repository as hooks
from sync.embedded import EmbeddedStore


def flag(
    raised_at: str, reason: str = "Review was due on 2026-11-30 (the review date set on the tree)."
) -> dict:
    return {
        "_id": flags.flag_id("tree:printer", "review_due"),
        "type": "tree_flag",
        "tree_id": "tree:printer",
        "title": "Printer offline",
        "kind": "review_due",
        "reason": reason,
        "due": "2026-11-30",
        "figures": None,
        "raised_at": raised_at,
    }


def test_a_flag_keeps_its_event_key_while_it_holds_and_a_new_flag_gets_a_new_one():
    first = events.from_flag_doc(flag("2026-12-01T03:00:00.000Z"))
    updated = events.from_flag_doc(flag("2026-12-01T03:00:00.000Z", reason="new figures"))
    again = events.from_flag_doc(flag("2027-02-01T03:00:00.000Z"))
    assert first and updated and again
    assert first.type == "tree.needs_review" and first.data["tree_id"] == "tree:printer"
    assert first.key == updated.key != again.key
    assert first.key.endswith("-review") and first.timestamp == "2026-12-01T03:00:00.000Z"
    assert events.from_flag_doc({**flag("x"), "_deleted": True}) is None


def test_a_subscription_older_than_the_freshness_feed_follows_it_from_its_start(tmp_path):
    store = EmbeddedStore(tmp_path)
    try:
        db = hooks.ensure_db(store, "tenant1")
        sub = {"_id": hooks.sub_doc_id("w1"), "id": "w1", "type": "webhook", "events": ["tree.needs_review"]}
        db.put(sub)
        for feed in ("sessions", "trees"):  # what a subscription made before this feed has
            db.put({"_id": hooks.feed_doc_id(feed), "type": "webhook_feed", "feed": feed, "since": 0})
        flags.ensure_db(store, "tenant1").put(flag("2026-12-01T03:00:00.000Z"))
        assert outbox.feed_tenant(store, "tenant1", [sub]) == 1
        assert outbox.feed_tenant(store, "tenant1", [sub]) == 0  # followed: nothing twice
        msgs = [r["id"] for r in db.all_docs(startkey="whmsg:", endkey="whmsg:\ufff0")["rows"]]
        assert len(msgs) == 1 and msgs[0].endswith("-review")
    finally:
        store.close()
