"""Appends racing without the in-process lock (as two instances on one CouchDB would): the
store's conflict on a taken seq sends the loser to the new head, so the chain never forks."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from api.audit import repository as repo, service
from api.audit.chain import entry_hash, entry_id, entry_signature
from api.core.context import open_store
from api.settings import Settings

SECRET = "x" * 40


@contextlib.contextmanager
def _log_with_one_entry(tmp_path: Path, tenant: str) -> Iterator[tuple[Any, Any, dict]]:
    """An embedded store whose tenant's audit log holds one entry: (store, its database, the
    entry). The store is closed afterwards."""
    store = open_store(Settings(data_dir=tmp_path, secret_key=SECRET))
    try:
        first = service.append(store, tenant, {"type": "system", "id": "a"}, "test.one", {}, secret=SECRET)
        assert first is not None
        db = repo.open_db(store, tenant)
        assert db is not None
        yield store, db, first
    finally:
        store.close()


def test_writers_racing_for_the_same_seq_never_fork_the_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(service, "_lock", lambda tenant_id: threading.Lock())  # a lock nobody shares
    store = open_store(Settings(data_dir=tmp_path, secret_key="x" * 40))
    start = threading.Barrier(8)

    def writer(n: int) -> list[int]:
        start.wait()
        return [
            service.append(
                store,
                "racetenant1",
                {"type": "system", "id": f"w{n}"},
                "test.raced",
                {"type": "test", "id": str(i)},
                secret="x" * 40,
            )["seq"]
            for i in range(10)
        ]

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            seqs = [s for got in pool.map(writer, range(8)) for s in got]
        assert sorted(seqs) == list(range(1, 81)), "every append got its own seq"
        db = repo.open_db(store, "racetenant1")
        assert db is not None
        verdict = service.verify_db(db, "x" * 40)
        assert verdict.ok and verdict.entries == 80, verdict.problem
        assert repo.head(db)["seq"] == 80, "the head names the newest entry"
    finally:
        store.close()


def test_an_action_reported_many_times_at_once_under_one_key_is_filed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A device's export event pushed by several replications (or instances) at the same time."""
    monkeypatch.setattr(service, "_lock", lambda tenant_id: threading.Lock())  # a lock nobody shares
    store = open_store(Settings(data_dir=tmp_path, secret_key="x" * 40))
    start = threading.Barrier(8)

    def writer(n: int) -> list[int | None]:
        start.wait()
        filed = []
        for i in range(5):
            entry = service.append(
                store,
                "racetenant2",
                {"type": "user", "id": "u1"},
                "session.exported",
                {"type": "session", "id": "s1"},
                secret="x" * 40,
                details={"via": "device", "writer": n},
                once=f"device_export:event-{i}",
            )
            filed.append(entry["seq"] if entry else None)
        return filed

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(writer, range(8)))
        seqs = [s for got in results for s in got if s is not None]
        assert sorted(seqs) == [1, 2, 3, 4, 5], "one entry per key, whoever won it"
        db = repo.open_db(store, "racetenant2")
        assert db is not None
        assert service.verify_db(db, "x" * 40).ok
    finally:
        store.close()


class InterleavedBatches:
    """A database whose batches are not transactions, as CouchDB's `_bulk_docs` are not: just
    before the next batch, a rival writer's documents land (its entry and `once` marker,
    but not yet its head)."""

    def __init__(self, db, rival: list[dict]) -> None:
        self.db, self.rival = db, rival

    def __getattr__(self, name: str):
        return getattr(self.db, name)

    def bulk_docs(self, docs: list[dict], **kw):
        rival, self.rival = self.rival, []
        for doc in rival:
            self.db.put(doc)
        return self.db.bulk_docs(docs, **kw)


def test_a_head_written_for_an_entry_a_rival_won_is_pointed_back_at_the_stored_one(tmp_path: Path):
    secret = SECRET
    with _log_with_one_entry(tmp_path, "racetenant3") as (_store, db, first):
        rival = {
            "_id": entry_id(2),
            "type": "audit_entry",
            "schema_version": 2,
            "seq": 2,
            "ts": service.now_iso(),
            "actor": {"type": "user", "id": "rival"},
            "action": "session.exported",
            "target": {"type": "session", "id": "s1"},
            "ip": None,
            "details": {"via": "device"},
            "prev_hash": first["hash"],
        }
        rival["hash"] = entry_hash(rival)
        rival["signature"] = entry_signature(secret, 2, rival["hash"])  # another instance, same key
        racing = InterleavedBatches(db, [rival, {"_id": repo.once_id("device_export:e1"), "seq": 2}])
        filed = service.append_to(
            racing,
            secret,
            "racetenant3",
            {"type": "user", "id": "me"},
            "session.exported",
            {"type": "session", "id": "s1"},
            details={"via": "device"},
            once="device_export:e1",
        )
        assert filed is None, "the rival filed it"
        head = repo.head(db)
        assert (head["seq"], head["hash"]) == (2, rival["hash"])
        assert service.verify_db(db, secret).ok


def test_a_head_left_behind_by_a_crash_between_entry_and_head_catches_up_on_the_next_append(tmp_path: Path):
    """On CouchDB an entry can be stored without its head (the two are not one transaction)."""
    secret = SECRET
    with _log_with_one_entry(tmp_path, "lagtenant1") as (store, db, first):
        orphan = {k: v for k, v in first.items() if k not in ("_id", "_rev", "hash")}
        orphan.update(_id=entry_id(2), seq=2, action="test.two", prev_hash=first["hash"])
        orphan["hash"] = entry_hash(orphan)
        orphan["signature"] = entry_signature(secret, 2, orphan["hash"])  # this server wrote it
        db.put(orphan)
        assert service.verify_db(db, secret).ok, "a head behind the entries is not tampering"

        third = service.append(
            store, "lagtenant1", {"type": "system", "id": "a"}, "test.three", {}, secret=secret
        )
        assert third is not None and third["seq"] == 3 and third["prev_hash"] == orphan["hash"]
        assert repo.head(db)["seq"] == 3
        verdict = service.verify_db(db, secret)
        assert verdict.ok and verdict.entries == 3, verdict.problem


def test_an_entry_added_after_the_head_without_the_key_is_named_and_never_signed_into_the_head(
    tmp_path: Path,
):
    """The chain's hashes are plain SHA-256: someone who can write the store but lacks the key
    can extend it with a well-formed entry (say, making themselves owner). It carries no valid
    signature: verify names it, and the head is never brought forward over it."""
    secret = SECRET
    with _log_with_one_entry(tmp_path, "forgetenant") as (_store, db, first):
        forged = {k: v for k, v in first.items() if k not in ("_id", "_rev", "hash", "signature")}
        forged.update(_id=entry_id(2), seq=2, action="user.role_changed", prev_hash=first["hash"])
        forged["hash"] = entry_hash(forged)
        forged["signature"] = "0" * 64
        db.put(forged)
        verdict = service.verify_db(db, secret)
        assert not verdict.ok and verdict.seq == 2 and "no valid signature" in (verdict.problem or "")
        service._repair_head(db, secret)
        assert repo.head(db)["seq"] == 1  # still naming the last entry this server wrote


def test_an_append_never_chains_to_an_entry_the_head_names_but_nobody_stored(tmp_path: Path):
    """A writer whose entry lost its seq to a rival can still get its head write through (the
    head it replaced was behind). Until that writer repairs it, the head names an entry that was
    never stored; a third writer chaining to it forked the log (found by the racing test above
    on a busy machine, one run in three)."""
    secret = SECRET
    with _log_with_one_entry(tmp_path, "phantomtenant") as (store, db, first):
        phantom = {k: v for k, v in first.items() if k not in ("_id", "_rev", "hash")}
        phantom.update(seq=2, action="test.lost", prev_hash=first["hash"])
        phantom["hash"] = entry_hash(phantom)
        db.put(service.head_doc(secret, phantom, repo.head(db)))  # the losing writer's head

        second = service.append(
            store, "phantomtenant", {"type": "system", "id": "b"}, "test.two", {}, secret=secret
        )
        assert second is not None
        assert (second["seq"], second["prev_hash"]) == (2, first["hash"]), "follows the stored entry"
        assert (repo.head(db)["seq"], repo.head(db)["hash"]) == (2, second["hash"])
        verdict = service.verify_db(db, secret)
        assert verdict.ok and verdict.entries == 2, verdict.problem


def test_a_repair_of_a_head_naming_a_lost_entry_names_the_newest_stored_one(tmp_path: Path):
    secret = SECRET
    with _log_with_one_entry(tmp_path, "phantomtenant2") as (_store, db, first):
        phantom = {k: v for k, v in first.items() if k not in ("_id", "_rev", "hash")}
        phantom.update(seq=2, action="test.lost", prev_hash=first["hash"])
        phantom["hash"] = entry_hash(phantom)
        db.put(service.head_doc(secret, phantom, repo.head(db)))

        service._repair_head(db, secret)
        assert (repo.head(db)["seq"], repo.head(db)["hash"]) == (1, first["hash"])
        assert service.verify_db(db, secret).ok


def test_an_action_filed_once_is_not_lost_when_another_action_takes_its_seq(tmp_path: Path):
    """The entry and its `once` marker are written together, but each write succeeds or fails
    by itself: the marker could be stored while the entry lost its seq to another action, and
    the retry then took the action as filed. An export reported by a device vanished."""
    secret = SECRET
    with _log_with_one_entry(tmp_path, "oncetenant1") as (_store, db, first):
        rival = {k: v for k, v in first.items() if k not in ("_id", "_rev", "hash", "signature")}
        rival.update(_id=entry_id(2), seq=2, action="user.invited", prev_hash=first["hash"])
        rival["hash"] = entry_hash(rival)
        rival["signature"] = entry_signature(secret, 2, rival["hash"])  # another instance, same key
        racing = InterleavedBatches(db, [rival])

        def report():
            return service.append_to(
                racing,
                secret,
                "oncetenant1",
                {"type": "user", "id": "me"},
                "session.exported",
                {"type": "session", "id": "s1"},
                details={"via": "device"},
                once="device_export:e9",
            )

        filed = report()
        assert filed is not None and filed["seq"] == 3, "the export is in the log"
        assert report() is None, "and filed once: the same report again changes nothing"
        verdict = service.verify_db(db, secret)
        assert verdict.ok and verdict.entries == 3, verdict.problem
