"""A database deleted and created again under the same name (an admin's `DELETE` then `PUT`
through the sync API) starts its seqs afresh. The change notifier (`sync/longpoll.py`) kept
its read cursor and its index of recent changes from the old file: its wake-up reads started
past the new file's writes, so a feed waiting for one reader was never woken, and a page whose
`since` fell in the old index's range was told the old file's ids, skipping the new file's
documents for good (the device checkpoints past them). Store and notifier are real here."""

from __future__ import annotations

import asyncio

from sync.embedded import EmbeddedStore
from sync.longpoll import ChangeNotifier
from tests.conftest import run_async
from tests.sync.test_feed_recheck import _by_reader_notifier


def _notifier(store: EmbeddedStore) -> ChangeNotifier:
    """`_by_reader_notifier`, keeping its index of recent changes whatever is written."""
    notifier = _by_reader_notifier(store)
    notifier.reshapes = lambda _db, _docid: False
    return notifier


async def _until(predicate, what: str) -> None:
    for _ in range(1000):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def _waiting_on_a_database_read_past(store: EmbeddedStore, notifier: ChangeNotifier):
    """A waiter of reader "me" on database "feed", whose changes the notifier read up to
    seq 41 (40 documents, then one more while the waiter waits)."""
    db = store.create_db("feed")
    for i in range(40):
        db.put({"_id": f"other-old{i:02d}"})
    me = notifier.waiter("feed", ["me"], since=db.update_seq).__enter__()  # left with the notifier
    db.put({"_id": "other-moves-the-cursor"})
    await _until(lambda: notifier.stats()["dispatching"] == 0 and notifier.reads, "the first read")
    return me


def test_deleting_a_database_wakes_its_feeds(store):
    async def main() -> bool:
        notifier = _notifier(store)
        me = await _waiting_on_a_database_read_past(store, notifier)
        me.event.clear()
        store.delete_db("feed")
        await _until(me.event.is_set, "the deletion to wake the feed")
        return True

    # As CouchDB ends the feeds of a deleted database: each answers, and its device asks again.
    assert run_async(main()) is True


def test_a_feed_on_a_recreated_database_is_woken_by_its_readers_write(store):
    async def main() -> bool:
        notifier = _notifier(store)
        me = await _waiting_on_a_database_read_past(store, notifier)
        store.delete_db("feed")
        await _until(lambda: notifier.stats()["dispatching"] == 0, "the notifier to settle")
        me.event.clear()  # the deletion's wake-up (made on this loop, at once)
        store.create_db("feed").put({"_id": "me-new", "note": "written after the database came back"})
        await _until(lambda: notifier.stats()["dispatching"] == 0, "the write's wake-up")
        return me.event.is_set()

    assert run_async(main()) is True


def test_the_index_of_recent_changes_does_not_answer_for_a_recreated_database(store):
    async def main() -> tuple[frozenset[str] | None, list[str]]:
        notifier = _notifier(store)
        db = store.create_db("feed")
        db.put({"_id": "other-0"})
        with notifier.waiter("feed", ["other"], since=db.update_seq):
            # The index files the old file's seqs 2..21: "me" wrote 2, 4, 6...
            for i in range(20):
                db.put({"_id": f"{'me' if i % 2 == 0 else 'other'}-old{i:02d}"})
            await _until(lambda: notifier.stats()["dispatching"] == 0 and notifier.reads, "the index")
            assert notifier.candidates("feed", "me", 5) is not None  # the index answers for seq 5
            store.delete_db("feed")
            db = store.create_db("feed")
            for i in range(20):
                db.put({"_id": f"me-new{i:02d}"})
            await _until(lambda: notifier.stats()["dispatching"] == 0, "the new writes' wake-ups")
            new_after_5 = [r["id"] for r in db.changes(since=5)["results"]]
            return notifier.candidates("feed", "me", 5), new_after_5

    found, new_after_5 = run_async(main())
    assert len(new_after_5) == 15
    # Either the page scans (None) or the index knows the new file's documents.
    assert found is None or set(new_after_5) <= found[0]


def test_a_device_checkpoint_from_the_old_file_does_not_hold_the_new_files_wake_ups(store):
    """Nobody waited on the database when it was deleted and created again (after a restart,
    say), so the notifier knew nothing to reset; then the first feed to wait came with a
    device's checkpoint from the old file, past the new file's end, and started the notifier's
    reads there: every feed missed the new file's writes until it grew past that seq (found
    in review)."""

    async def main() -> bool:
        notifier = _notifier(store)
        db = store.create_db("feed")
        for i in range(41):
            db.put({"_id": f"other-old{i:02d}"})
        store.delete_db("feed")
        db = store.create_db("feed")
        with notifier.waiter("feed", ["dev"], since=41):  # the old file's checkpoint
            with notifier.waiter("feed", ["me"], since=db.update_seq) as me:
                db.put({"_id": "me-new"})
                await _until(lambda: notifier.stats()["dispatching"] == 0, "the write's wake-up")
                return me.event.is_set()

    assert run_async(main()) is True
