"""Several processes on one data folder (sync/embedded/peers.py): each learns of the others'
writes, and no cache answers for a write it has not learned of yet.

Two `EmbeddedStore(shared=True)` on the same folder stand for two server processes: each
has its own mailbox and counters' view, exactly as separate processes have.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.sessions.state_cache import SessionStates
from sync.embedded import EmbeddedStore
from sync.embedded.peers import SLOTS, Applied, WriteGenerations, slot_of, slots_written
from sync.naming import physical_name
from sync.observed_cache import ObservedCache, partition
from tests.conftest import wait_until

DB = "t_peers"


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[EmbeddedStore, EmbeddedStore]]:
    a = EmbeddedStore(tmp_path, shared=True)
    b = EmbeddedStore(tmp_path, shared=True)
    a.create_db(DB)
    try:
        yield a, b
    finally:
        for store in (a, b):
            store.close_peers()
            store.close()


def user_cache(store: EmbeddedStore) -> ObservedCache[Any]:
    cache = ObservedCache[Any](
        lambda db: db if db == DB else None,
        lambda docid: (docid,),
        source=lambda scope, key: (str(scope), str(key)),
    ).attach(store)
    assert cache is not None
    return cache


def read_name(store: EmbeddedStore, docid: str) -> str:
    return str(store.db(DB).get(docid)["name"])


def test_a_write_in_one_process_wakes_the_others_feeds_and_drops_their_cache(pair):
    a, b = pair
    woken: list[str] = []
    b.add_listener(lambda name, seq=None: woken.append(name))
    cache = user_cache(b)
    a.db(DB).put({"_id": "user:1", "name": "Ada"})
    wait_until(lambda: b.coherence(DB, "user:1") is not None, timeout=5)
    assert cache.get(DB, "user:1", lambda: read_name(b, "user:1")) == "Ada"
    assert cache.get(DB, "user:1", lambda: "read again") == "Ada"  # answered from memory

    woken.clear()
    doc = a.db(DB).get("user:1")
    a.db(DB).put({**doc, "name": "Grace"})
    wait_until(lambda: DB in woken, timeout=5, message="the other process's feed was not woken")
    assert cache.get(DB, "user:1", lambda: read_name(b, "user:1")) == "Grace"


def test_a_cache_never_answers_for_a_write_whose_message_is_still_on_its_way(pair):
    a, b = pair
    cache = user_cache(b)
    a.db(DB).put({"_id": "user:1", "name": "Ada"})
    wait_until(lambda: b.coherence(DB, "user:1") is not None, timeout=5)
    assert cache.get(DB, "user:1", lambda: read_name(b, "user:1")) == "Ada"

    # Hold B's receiver: A's next message waits, as under a busy machine.
    release = threading.Event()
    deliver = b._bus._on_message  # type: ignore[union-attr]
    b._bus._on_message = lambda message: (release.wait(10), deliver(message))  # type: ignore[union-attr]
    try:
        doc = a.db(DB).get("user:1")
        a.db(DB).put({**doc, "name": "Grace"})  # answered: A's caller may now ask B
        assert b.coherence(DB, "user:1") is None
        assert cache.get(DB, "user:1", lambda: read_name(b, "user:1")) == "Grace"
        assert cache.peek(DB, "user:1") == (False, None)
        # Other groups of the same database are not held up.
        assert b.coherence(DB, "user:2") is not None
    finally:
        release.set()
    wait_until(lambda: b.coherence(DB, "user:1") is not None, timeout=5)
    assert cache.get(DB, "user:1", lambda: read_name(b, "user:1")) == "Grace"
    assert cache.get(DB, "user:1", lambda: "read again") == "Grace"


def test_a_read_raced_by_another_process_is_not_kept(pair):
    a, b = pair
    cache = user_cache(b)
    a.db(DB).put({"_id": "user:1", "name": "Ada"})
    wait_until(lambda: b.coherence(DB, "user:1") is not None, timeout=5)

    def read_then_raced() -> str:
        name = read_name(b, "user:1")
        doc = a.db(DB).get("user:1")
        a.db(DB).put({**doc, "name": "Grace"})
        return name

    assert cache.get(DB, "user:1", read_then_raced) == "Ada"
    wait_until(lambda: b.coherence(DB, "user:1") is not None, timeout=5)
    assert cache.get(DB, "user:1", lambda: read_name(b, "user:1")) == "Grace"


def test_a_lost_message_empties_the_caches_after_the_stall_time(pair):
    a, b = pair
    cache = user_cache(b)
    other = ObservedCache[Any](
        lambda db: db if db == DB else None, lambda docid: (docid,), source=lambda s, k: (str(s), str(k))
    ).attach(b)
    assert other is not None
    a.db(DB).put({"_id": "user:1", "name": "Ada"})
    wait_until(lambda: b.coherence(DB, "user:1") is not None, timeout=5)
    other.get(DB, "user:9", lambda: "kept")
    assert len(other) == 1

    bus = b._bus
    assert bus is not None
    deliver, received = bus._on_message, bus.received
    bus._on_message = lambda message: None  # lost
    doc = a.db(DB).get("user:1")
    a.db(DB).put({**doc, "name": "Grace"})
    assert b.coherence(DB, "user:1") is None
    wait_until(lambda: bus.received > received, timeout=5, message="the message never arrived")
    bus._on_message = deliver
    # The counter stays ahead with no message: B forgets everything and trusts memory again.
    wait_until(lambda: b.coherence(DB, "user:1") is not None, timeout=10, message="no stall recovery")
    assert len(other) == 0
    assert cache.get(DB, "user:1", lambda: read_name(b, "user:1")) == "Grace"


def test_a_process_alone_shares_nothing(tmp_path):
    store = EmbeddedStore(tmp_path)
    assert not store.shared
    assert store.coherence(DB, "user:1") == (0, 0)
    assert not (tmp_path / "dbs" / ".peers").exists()


def test_writes_move_only_their_groups_counters():
    assert partition("session:01ABC:ev:01XYZ") == partition("session:01ABC") == "session:01ABC"
    assert partition("user:7") == "user:7"
    assert partition("_design/app") == "_design/"
    assert slots_written(DB, ["session:1:ev:a", "session:1"]) == [slot_of(DB, "session:1")]
    assert slots_written(DB, None) == [slot_of(DB, None)]


def test_applied_counts_messages_that_arrive_out_of_order(tmp_path):
    gens = WriteGenerations(tmp_path / "gens")
    applied = Applied(gens)
    slot = 5
    assert applied.current(slot) == 0
    pairs = gens.bump([slot]) + gens.bump([slot]) + gens.bump([slot])  # 1, 2, 3
    assert applied.current(slot) is None
    applied.record([pairs[2]])
    applied.record([pairs[0]])
    assert applied.current(slot) is None  # 2 is still missing
    applied.record([pairs[1]])
    assert applied.current(slot) == 3
    assert all(applied.current(s) == 0 for s in (0, SLOTS - 1))
    gens.close()


def test_stalled_slots_are_reported_once_the_stall_time_passed(tmp_path):
    now = [100.0]
    gens = WriteGenerations(tmp_path / "gens")
    applied = Applied(gens, clock=lambda: now[0])
    pairs = gens.bump([3, 70_00])
    assert applied.stalled() == []  # first seen behind
    now[0] += 0.5
    assert applied.stalled() == []
    now[0] += 0.6
    assert sorted(applied.stalled()) == sorted(pairs)
    applied.take_as_applied(pairs)
    assert applied.current(3) == 1 and applied.current(70_00) == 1
    assert applied.stalled() == []
    gens.close()


def test_a_session_state_is_neither_answered_nor_kept_across_another_processs_write(tmp_path):
    tenant, sid = "abcdef123456", "01JD3Z8Q6V9R1W0K2M4N5P7S8T"
    sessions = physical_name(tenant, "sessions")
    a = EmbeddedStore(tmp_path, shared=True)
    b = EmbeddedStore(tmp_path, shared=True)
    try:
        a.create_db(sessions)
        states = SessionStates().attach(b)
        assert states is not None
        header = {"_id": f"session:{sid}", "type": "session"}
        b.db(sessions).put(header)
        wait_until(lambda: b.coherence(sessions, f"session:{sid}") is not None, timeout=5)

        # B records a step and keeps the state (its own write only).
        with states.watch(tenant, sid) as w:
            assert w.hit is None
            b.db(sessions).put({"_id": f"session:{sid}:ev:1", "type": "note"})
            assert states.keep(w, header, [{"_id": "1"}], own_writes=1)
        with states.watch(tenant, sid) as w:
            assert w.hit is not None

        # A records the next step; B's receiver is held, so B has not heard of it.
        release = threading.Event()
        deliver = b._bus._on_message  # type: ignore[union-attr]
        b._bus._on_message = lambda message: (release.wait(10), deliver(message))  # type: ignore[union-attr]
        try:
            with states.watch(tenant, sid) as w:
                a.db(sessions).put({"_id": f"session:{sid}:ev:2", "type": "note"})
                b.db(sessions).put({"_id": f"session:{sid}:ev:3", "type": "note"})
                # Only B's own write reached B's observer, yet A's was counted: not kept.
                assert not states.keep(w, header, [{"_id": "1"}, {"_id": "3"}], own_writes=1)
        finally:
            release.set()
        wait_until(lambda: b.coherence(sessions, f"session:{sid}") is not None, timeout=5)
        with states.watch(tenant, sid) as w:
            b.db(sessions).put({"_id": f"session:{sid}:ev:4", "type": "note"})
            assert states.keep(w, header, [{"_id": str(i)} for i in range(1, 5)], own_writes=1)

        # A writes again, unheard of by B: B's kept state must not be answered.
        release.clear()
        b._bus._on_message = lambda message: (release.wait(10), deliver(message))  # type: ignore[union-attr]
        try:
            a.db(sessions).put({"_id": f"session:{sid}:ev:5", "type": "note"})
            with states.watch(tenant, sid) as w:
                assert w.hit is None  # read the store
        finally:
            release.set()
    finally:
        for store in (a, b):
            store.close_peers()
            store.close()


def test_the_shared_files_are_private_to_the_servers_user(pair, tmp_path):
    folder = tmp_path / "dbs" / ".peers"
    assert folder.stat().st_mode & 0o777 == 0o700
    socks = list(folder.iterdir())
    assert len(socks) == 2 and all(p.stat().st_mode & 0o777 == 0o600 for p in socks)
    assert (tmp_path / "dbs" / ".write-generations").stat().st_mode & 0o777 == 0o600


def test_a_deep_data_folder_still_gets_its_mailboxes(tmp_path):
    deep = tmp_path / ("a-rather-long-folder-name-" * 4) / "branchline-data"
    assert len(str(deep / "dbs" / ".peers" / "1234567-abcdef01.sock")) > 108  # too long to bind
    a = EmbeddedStore(deep, shared=True)
    b = EmbeddedStore(deep, shared=True)
    try:
        woken: list[str] = []
        b.add_listener(lambda name, seq=None: woken.append(name))
        a.create_db(DB)
        a.db(DB).put({"_id": "user:1", "name": "Ada"})
        wait_until(lambda: DB in woken, timeout=5, message="the write's message")
    finally:
        for store in (a, b):
            store.close_peers()
            store.close()
    assert not list((deep / "dbs" / ".peers").iterdir())


def test_a_burst_of_writes_queues_for_a_busy_process_instead_of_being_lost(pair):
    a, b = pair
    cache = user_cache(b)
    a.db(DB).put({"_id": "user:0", "name": "first"})
    wait_until(lambda: b.coherence(DB, "user:0") is not None, timeout=5)
    bus = b._bus
    assert bus is not None and a._bus is not None
    release = threading.Event()
    deliver = bus._on_message
    bus._on_message = lambda message: (release.wait(10), deliver(message))
    try:
        for i in range(300):  # a datagram mailbox held 10 (Linux's default queue length)
            a.db(DB).put({"_id": f"user:{i + 1}", "name": f"n{i}"})
    finally:
        release.set()
    wait_until(lambda: all(b.coherence(DB, f"user:{i}") is not None for i in range(301)), timeout=10)
    assert a._bus.dropped == 0 and b.stalls == 0
    assert cache.get(DB, "user:300", lambda: read_name(b, "user:300")) == "n299"


def test_a_database_deleted_and_made_again_elsewhere_is_the_new_one_here(pair):
    a, b = pair
    a.db(DB).put({"_id": "user:1", "name": "old"})
    assert read_name(b, "user:1") == "old"  # B has the file open
    received = b._bus.received  # type: ignore[union-attr]
    a.delete_db(DB)
    a.create_db(DB)
    a.db(DB).put({"_id": "user:2", "name": "new"})
    wait_until(lambda: b._bus.received >= received + 3, timeout=5)  # type: ignore[union-attr]
    assert read_name(b, "user:2") == "new"
    b.db(DB).put({"_id": "user:3", "name": "through B"})
    assert read_name(a, "user:3") == "through B"  # not written to the deleted file


def test_a_process_that_leaves_makes_the_others_forget_their_caches(tmp_path):
    a = EmbeddedStore(tmp_path, shared=True)
    b = EmbeddedStore(tmp_path, shared=True)
    try:
        a.create_db(DB)
        wait_until(lambda: b._bus.received >= 1, timeout=5)  # type: ignore[union-attr]
        cache = user_cache(b)
        cache.get(DB, "user:9", lambda: "kept")
        forgets = b.forgets
        # A commit whose count never came (the process ended between them) would never
        # reach B's caches: B cannot tell, so it forgets them all when A's connection ends.
        a.close_peers()
        wait_until(lambda: b.forgets > forgets, timeout=5, message="B forgetting its caches")
        assert len(cache) == 0
    finally:
        for store in (a, b):
            store.close_peers()
            store.close()
