"""A longpoll feed reads its first page before its waiter is registered, so a write landing
in between would wake nobody. The feed used to read the page again after registering, every
time; now it does so only when the store announced a commit of the database between the
count it took before the first page and the registration (issue 22: with a team syncing, that
second read was a twentieth of the server's work). These tests hold the store and the
notifier real, and the write between the two moments is made by hand."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sync.embedded import EmbeddedStore
from sync.http_changes import ChangesFeed, ChangesRequest, PendingChanges
from sync.longpoll import ChangeNotifier
from tests.conftest import run_async


class _Host:
    """The parts of SyncApi a feed page reads: no per-reader rules."""

    filters_reads = False

    def __init__(self, notifier: ChangeNotifier) -> None:
        self.notifier = notifier
        self.policy = self

    def read_prefilter(self, principal: Any, db: str) -> None:
        return None

    def readable(self, ctx: Any, db: str, doc: Any) -> bool:
        return True

    def extra_changes_ids(self, principal: Any, db: str, since: Any) -> set[str]:
        return set()


class _Guard:
    """The caller's access, still granted."""

    def verify(self) -> bool:
        return True


class _CountingDb:
    """The database, counting the changes reads made through it."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.reads = 0

    def changes(self, **kw: Any) -> Any:
        self.reads += 1
        return self.db.changes(**kw)


def _request(since: Any) -> ChangesRequest:
    return ChangesRequest(
        db="feed",
        since=since,
        limit=None,
        descending=False,
        style="main_only",
        include_docs=False,
        conflicts=False,
        attachments=False,
        doc_ids=None,
        selector=None,
        id_filter=None,
        feed="longpoll",
        timeout_ms=None,
        heartbeat_ms=None,
    )


def _first_page(store: EmbeddedStore) -> tuple[ChangesFeed, PendingChanges, _CountingDb]:
    """What `ChangesFeed.start` hands to the waiting side: a feed at the database's end with
    nothing to answer yet, and the notifier's count taken before that page was read."""
    notifier = ChangeNotifier()
    notifier.attach(store)
    db = store.create_db("feed")
    db.put({"_id": "old"})
    feed = ChangesFeed(_Host(notifier))  # type: ignore[arg-type]
    counting = _CountingDb(db)
    req = _request(db.changes()["last_seq"])
    ctx = SimpleNamespace(principal=None)
    announced = notifier.announced("feed")
    page = feed.page(ctx, counting, req)  # type: ignore[arg-type]
    assert page["results"] == []
    req.since = page["last_seq"]  # as the waiting side sets it before checking again
    return feed, PendingChanges(ctx, counting, req, page, "feed", announced), counting  # type: ignore[arg-type]


def _register(feed: ChangesFeed, pending: PendingChanges) -> None:
    """What `ChangesFeed.wait` notes when it registers the feed's waiter."""
    pending.registered = feed.api.notifier.announced(pending.physical)


def test_a_write_between_the_first_page_and_the_waiter_is_answered(store):
    feed, pending, _ = _first_page(store)
    # No feed waits on this database yet: the commit must still be counted.
    store.db("feed").put({"_id": "landed-in-between", "note": "written while the feed registered"})
    _register(feed, pending)

    page = feed._recheck_and_page(pending, _Guard())  # type: ignore[arg-type]

    assert [r["id"] for r in page["results"]] == ["landed-in-between"]


def test_with_no_write_in_between_the_page_is_not_read_again(store):
    feed, pending, counting = _first_page(store)
    _register(feed, pending)
    reads = counting.reads

    page = feed._recheck_and_page(pending, _Guard())  # type: ignore[arg-type]

    assert page == {"results": [], "last_seq": pending.req.since, "pending": 0}
    assert counting.reads == reads


def test_a_caller_whose_access_ended_in_between_gets_an_empty_answer(store):
    feed, pending, _ = _first_page(store)
    store.db("feed").put({"_id": "not-for-them"})
    _register(feed, pending)

    page = feed._recheck_and_page(pending, SimpleNamespace(verify=lambda: False))  # type: ignore[arg-type]

    assert page["results"] == []


def _by_reader_notifier(store: EmbeddedStore) -> ChangeNotifier:
    """A notifier told of `store`'s commits, whose readers are the ids' prefixes (`me-2`: me)."""
    notifier = ChangeNotifier()
    notifier.attach(store)
    notifier.resolver = lambda _db: lambda ids: frozenset(i.split("-")[0] for i in ids)
    return notifier


def _put_announced_late(store: EmbeddedStore, db: Any, doc: dict[str, Any]) -> None:
    """Commit `doc` without the store's announcement, which the test then makes itself."""
    listeners = list(store._listeners)
    store._listeners.clear()
    db.put(doc)
    store._listeners.extend(listeners)


async def _settled(notifier: ChangeNotifier) -> None:
    """Until the notifier's wake-ups have run (polling a condition: they run on this loop)."""
    import asyncio

    for _ in range(500):
        if notifier.stats()["dispatching"] == 0 and notifier.reads:
            return
        await asyncio.sleep(0.01)


async def _answer_after_late_announcement(
    store: EmbeddedStore, notifier: ChangeNotifier, feed: ChangesFeed, pending: PendingChanges
) -> list[str]:
    """This feed registers, checks again, then the late announcement comes: the ids its
    second read found, or ["woken"] if only its waiter was woken, or [] if neither."""
    with notifier.waiter("feed", ["me"], since=pending.req.since) as me:
        _register(feed, pending)
        again = feed._recheck_and_page(pending, _Guard())  # type: ignore[arg-type]
        notifier.notify("feed", pending.dbobj.update_seq, store)  # the late announcement
        await _settled(notifier)
        rows = [r["id"] for r in again["results"]]
        return rows if rows else (["woken"] if me.event.is_set() else [])


def test_a_write_another_feeds_wake_up_read_before_this_feed_registered_is_answered(store):
    """The store announces a commit after making it. Another feed's wake-up may read past a
    commit whose announcement is still on its way, before this feed registers; the late
    announcement then reads nothing new and wakes nobody. This feed's first page was read
    before that commit: it must read again (found by review of the change)."""

    async def main() -> list[str]:
        notifier = _by_reader_notifier(store)
        db = store.create_db("feed")
        db.put({"_id": "me-0"})
        with notifier.waiter("feed", ["other"], since=db.update_seq):
            feed = ChangesFeed(_Host(notifier))  # type: ignore[arg-type]
            db.put({"_id": "other-1"})  # announced: the other feed's wake-up is on its way
            req = _request(db.update_seq)
            ctx = SimpleNamespace(principal=None)
            announced = notifier.announced("feed")
            page = feed.page(ctx, db, req)  # type: ignore[arg-type]
            req.since = page["last_seq"]
            _put_announced_late(store, db, {"_id": "me-2"})
            await _settled(notifier)  # the other feed's wake-up reads past both writes
            pending = PendingChanges(ctx, db, req, page, "feed", announced)  # type: ignore[arg-type]
            return await _answer_after_late_announcement(store, notifier, feed, pending)

    assert run_async(main()) == ["me-2"]


def test_a_write_before_another_feed_started_the_databases_cursor_is_answered(store):
    """The first feed to wait on a database starts the notifier's cursor at its own page's
    end. If that page saw a commit whose announcement is still on its way, the late
    announcement reads nothing past the cursor; a feed whose first page came before the
    commit, registering after, must read again (found in the second review)."""

    async def main() -> list[str]:
        notifier = _by_reader_notifier(store)
        db = store.create_db("feed")
        db.put({"_id": "me-0"})  # nobody waits yet: the notifier has no cursor for it
        feed = ChangesFeed(_Host(notifier))  # type: ignore[arg-type]
        req = _request(db.update_seq)
        ctx = SimpleNamespace(principal=None)
        announced = notifier.announced("feed")
        page = feed.page(ctx, db, req)  # type: ignore[arg-type]  # on a worker thread, say
        req.since = page["last_seq"]
        _put_announced_late(store, db, {"_id": "me-2"})
        with notifier.waiter("feed", ["other"], since=db.update_seq):  # starts the cursor past it
            pending = PendingChanges(ctx, db, req, page, "feed", announced)  # type: ignore[arg-type]
            return await _answer_after_late_announcement(store, notifier, feed, pending)

    assert run_async(main()) == ["me-2"]
