"""The sessions' ACLs kept between requests (api/sessions/acl_cache.py).

What a user would notice if the cache went wrong: a teammate still reading a session after
its owner unshared it. So the end-to-end tests warm the cache first (the teammate reads the
session's events over sync), unshare (through the API, and over sync as the PWA does), and
check the very next requests; the unit tests pin the rules that make that hold (a header
written while a lookup read it is not remembered, entries expire, the size is bounded).
"""

from __future__ import annotations

import threading

from api.sessions.acl_cache import HeaderAcls
from api.sessions.ids import ulid
from tests.sessions.test_sessions_api import event, publish_tree, start

TENANT = "abcdef123456"
SESSIONS = f"t_{TENANT}_sessions"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_lookup_is_answered_from_memory_until_its_header_is_written():
    acls = HeaderAcls()
    reads = []

    def read():
        reads.append(1)
        return ("alice", frozenset({"bob"}))

    assert acls.get(TENANT, "S1", read) == ("alice", frozenset({"bob"}))
    assert acls.get(TENANT, "S1", read) == ("alice", frozenset({"bob"}))
    assert len(reads) == 1
    # An event of the session, another tenant's header, another database: nothing changes.
    acls.written(SESSIONS, ["session:S1:ev:01ABC"])
    acls.written("t_zzzzzz999999_sessions", ["session:S1"])
    acls.written(f"t_{TENANT}_clients", ["session:S1"])
    acls.get(TENANT, "S1", read)
    assert len(reads) == 1
    acls.written(SESSIONS, ["session:S1"])
    acls.get(TENANT, "S1", lambda: ("alice", frozenset()))
    assert acls.get(TENANT, "S1", read) == ("alice", frozenset())


def test_a_header_written_while_it_was_read_is_not_remembered():
    acls = HeaderAcls()

    def read_then_unshared():
        # The owner's unshare commits while this lookup still holds the old header.
        acls.written(SESSIONS, ["session:S1"])
        return ("alice", frozenset({"bob"}))

    assert acls.get(TENANT, "S1", read_then_unshared) == ("alice", frozenset({"bob"}))
    assert acls.get(TENANT, "S1", lambda: ("alice", frozenset())) == ("alice", frozenset())


def test_a_deleted_or_recreated_database_forgets_its_tenant_only():
    acls = HeaderAcls()
    acls.get(TENANT, "S1", lambda: ("alice", frozenset()))
    acls.get("zzzzzz999999", "S1", lambda: ("carol", frozenset()))
    acls.written(SESSIONS, None)
    assert acls.get(TENANT, "S1", lambda: None) is None
    assert acls.get("zzzzzz999999", "S1", lambda: None) == ("carol", frozenset())


def test_entries_expire_and_the_oldest_go_first_when_full():
    clock = Clock()
    acls = HeaderAcls(max_entries=3, ttl_s=60, clock=clock)
    for sid in ("S1", "S2", "S3"):
        acls.get(TENANT, sid, lambda: ("alice", frozenset()))
    acls.get(TENANT, "S1", lambda: None)  # S1 used again: S2 is now the oldest
    acls.get(TENANT, "S4", lambda: ("alice", frozenset()))
    assert len(acls) == 3
    assert acls.get(TENANT, "S2", lambda: None) is None  # evicted, read again
    assert acls.get(TENANT, "S1", lambda: None) == ("alice", frozenset())
    clock.now += 61  # a write the store never saw (another process) is forgotten in time
    assert acls.get(TENANT, "S1", lambda: None) is None


def test_concurrent_lookups_and_writes_never_leave_an_old_answer():
    """Readers race an owner who flips the sharing; after the last write, the answer is the last ACL."""
    acls = HeaderAcls()
    state = {"acl": ("alice", frozenset({"bob"}))}
    lock = threading.Lock()
    stop = threading.Event()

    def read():
        with lock:
            return state["acl"]

    def reader():
        while not stop.is_set():
            acls.get(TENANT, "S1", read)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for n in range(2000):
        with lock:
            state["acl"] = ("alice", frozenset({"bob"}) if n % 2 else frozenset())
        acls.written(SESSIONS, ["session:S1"])  # as the store does: after the commit
    stop.set()
    for t in threads:
        t.join()
    assert state["acl"] == ("alice", frozenset({"bob"}))  # the last write (n = 1999)
    assert acls.get(TENANT, "S1", lambda: ("never", frozenset())) == state["acl"]


def _changes_text(http, who, tenant, since) -> str:
    """Bob's changes after `since`: a feed page that begins with an event judges it by its
    session's ACL before any header row of the page could tell (the cache answers)."""
    r = http.get(
        f"/sync/{tenant.id}/sessions/_changes",
        headers=who.headers,
        params={"include_docs": "true", "since": since},
    )
    assert r.status_code == 200, r.text
    return r.text


def _update_seq(http, who, tenant):
    return http.get(f"/sync/{tenant.id}/sessions", headers=who.headers).json()["update_seq"]


def _shared_and_read(http, tenant):
    """Alice's session shared with Bob, one note in it, and Bob's read of it (which fills the
    cache): (alice, bob, sid, the seq before the note)."""
    tree_id = publish_tree(http, tenant)
    alice, bob = tenant.add_user("engineer"), tenant.add_user("engineer")
    sid = start(http, alice, tree_id, shared_with=[bob.id])["session_id"]
    since = _update_seq(http, alice, tenant)
    event(http, alice, sid, {"type": "note", "node_id": "scope", "text": "first"})
    assert "first" in _changes_text(http, bob, tenant, since)
    return alice, bob, sid, since


def test_an_unshare_through_the_api_ends_the_teammates_reads_at_once(http, tenant):
    alice, bob, sid, since = _shared_and_read(http, tenant)
    head = http.get(f"/api/v1/sessions/{sid}", headers=alice.headers).json()["header"]
    r = http.patch(
        f"/api/v1/sessions/{sid}", headers=alice.headers, json={"_rev": head["_rev"], "shared_with": []}
    )
    assert r.status_code == 200, r.text
    event(http, alice, sid, {"type": "note", "node_id": "scope", "text": "after the unshare"})
    assert sid not in _changes_text(http, bob, tenant, since)
    # Nor can Bob write into it any more.
    ev = {
        "_id": f"session:{sid}:ev:{ulid()}",
        "type": "note",
        "node_id": "scope",
        "text": "sneaked in",
        "user_id": bob.id,
        "session_id": sid,
        "ts": 1,
    }
    r = http.post(f"/sync/{tenant.id}/sessions/_bulk_docs", headers=bob.headers, json={"docs": [ev]})
    assert r.status_code == 201 and r.json()[0].get("error") == "forbidden", r.text


def test_an_unshare_over_sync_ends_the_teammates_reads_at_once(http, tenant):
    alice, bob, sid, since = _shared_and_read(http, tenant)
    url = f"/sync/{tenant.id}/sessions/session:{sid}"
    header = http.get(url, headers=alice.headers).json()
    header["shared_with"] = []
    header.setdefault("edited", {})["shared_with"] = header["edited"].get("shared_with", 0) + 1
    r = http.put(url, headers=alice.headers, json=header)
    assert r.status_code == 201, r.text
    assert sid not in _changes_text(http, bob, tenant, since)
    # Shared again: Bob reads it again at once, the old events included.
    header = http.get(url, headers=alice.headers).json()
    header["shared_with"] = [bob.id]
    header["edited"]["shared_with"] += 1
    assert http.put(url, headers=alice.headers, json=header).status_code == 201
    assert "first" in _changes_text(http, bob, tenant, since)
