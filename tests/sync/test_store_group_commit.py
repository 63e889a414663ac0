"""Group commit in the embedded store: concurrent writers queue in memory and are committed
together, each getting exactly the outcome it would have had writing alone, in order.

Each test has its own data folder and freshly named databases.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from sync.embedded import EmbeddedStore
from sync.errors import BranchlineError


def _name() -> str:
    return f"t_{secrets.token_hex(4)}_gc"


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.001)


def _outcome(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except BranchlineError as exc:
        return ("error", exc.error)
    except TypeError as exc:  # a writer's own failure, reported to that writer alone
        return ("failed", type(exc).__name__)


def _in_one_group(db, writes: list[Callable[[], Any]]) -> list[Any]:
    """Run `writes` on threads so that all of them land in one group commit, in list order.

    The test holds the database's writer, so the first writer (a no-op put on a document of
    its own) becomes the leader and waits; the others queue one by one behind it; releasing
    the writer lets the leader commit alone and hands the whole queue to the next leader.
    """
    results: list[Any] = [None] * len(writes)
    threads = []
    handle_writes = None
    with db._writing() as (handle, _):
        handle_writes = handle.writes
        groups_before = handle_writes.groups
        leader = threading.Thread(target=lambda: db.put({"_id": "_local/leader"}))
        leader.start()
        _wait_until(handle_writes.busy, "the leader to start")
        for i, write in enumerate(writes):

            def run(i: int = i, write: Callable[[], Any] = write) -> None:
                results[i] = _outcome(write)

            t = threading.Thread(target=run)
            t.start()
            threads.append(t)
            _wait_until(lambda i=i: handle_writes.queued() == i + 1, f"writer {i} to queue")
    leader.join(10)
    for t in threads:
        t.join(10)
    assert handle_writes.groups == groups_before + 2, "the queued writers were not one group"
    return results


def test_concurrent_writers_every_acknowledged_write_is_there_after_reopening(tmp_path):
    store = EmbeddedStore(tmp_path)
    name = _name()
    db = store.create_db(name)
    db.put({"_id": "counter", "n": 0})
    acknowledged: dict[str, str] = {}
    increments = [0]
    lock = threading.Lock()

    def writer(w: int) -> None:
        for i in range(30):
            result = db.put({"_id": f"w{w}-{i}", "w": w, "i": i})
            with lock:
                acknowledged[result["id"]] = result["rev"]
            while True:  # a shared document: retry on conflict, as a client would
                current = db.get("counter")
                try:
                    db.put({**current, "n": current["n"] + 1})
                except BranchlineError as exc:
                    assert exc.error == "conflict"
                    continue
                with lock:
                    increments[0] += 1
                break

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    grouped = store.handles.get_open(name).writes.largest
    store.close()

    reopened = EmbeddedStore(tmp_path)
    db = reopened.db(name)
    assert len(acknowledged) == 12 * 30
    for docid, rev in acknowledged.items():
        assert db.get(docid)["_rev"] == rev
    assert db.get("counter")["n"] == increments[0] == 12 * 30
    assert db.info()["doc_count"] == 12 * 30 + 1
    # Every change is in the feed once, in commit order.
    seqs = [row["seq"] for row in db.changes()["results"]]
    assert len(seqs) == 12 * 30 + 1 and seqs == sorted(seqs)
    reopened.close()
    assert grouped >= 1


# One write: (document index, the revision it names, whether it deletes). The revision is
# `None` for none, "start" for the one current before the writes (what concurrent clients
# that all read the document first would send), "first" for its very first one.
_op = st.tuples(st.integers(0, 2), st.sampled_from([None, "start", "first"]), st.booleans())


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(_op, min_size=2, max_size=8))
def test_conflicts_in_one_group_are_decided_as_if_the_writes_ran_one_by_one(store, ops):
    grouped, alone = store.create_db(_name()), store.create_db(_name())
    for db in (grouped, alone):
        db.bulk_docs([{"_id": f"d{i}", "v": 0} for i in range(3)])
        db.put({**db.get("d0"), "v": 1})  # so that d0's first revision is stale
    first = {
        "d0": "1-" + grouped.get("d0", revs=True)["_revisions"]["ids"][1],
        "d1": grouped.get("d1")["_rev"],
        "d2": grouped.get("d2")["_rev"],
    }
    start = {f"d{i}": grouped.get(f"d{i}")["_rev"] for i in range(3)}
    assert start == {f"d{i}": alone.get(f"d{i}")["_rev"] for i in range(3)}

    def doc_for(k: int, op: tuple[int, str | None, bool]) -> dict[str, Any]:
        index, which, delete = op
        doc: dict[str, Any] = {"_id": f"d{index}", "v": k}
        if which is not None:
            doc["_rev"] = (first if which == "first" else start)[doc["_id"]]
        if delete:
            doc["_deleted"] = True
        return doc

    docs = [doc_for(k, op) for k, op in enumerate(ops)]
    together = _in_one_group(grouped, [lambda d=d: grouped.bulk_docs([d]) for d in docs])
    one_by_one = [_outcome(lambda d=d: alone.bulk_docs([d])) for d in docs]
    assert together == one_by_one
    for i in range(3):
        assert _state(grouped, f"d{i}") == _state(alone, f"d{i}")


def _state(db, docid: str) -> Any:
    opened = db.get_open_revs(docid, "all")
    return sorted(
        (entry["ok"]["_rev"], entry["ok"].get("v"), entry["ok"].get("_deleted", False)) for entry in opened
    )


def test_a_failing_writer_does_not_fail_the_others_in_its_group(store):
    db = store.create_db(_name())
    db.put({"_id": "taken"})
    writes = [
        lambda: db.put({"_id": "before", "v": 1}),
        # A good document, then one the store does not expect (a key that is not a string,
        # which no JSON body has): this writer fails, and not halfway.
        lambda: db.bulk_docs([{"_id": "half", "v": 1}, {"_id": "bad", 5: "x"}]),
        lambda: db.put({"_id": "taken"}),  # a per-document conflict: only this writer's
        lambda: db.bulk_docs([{"_id": "after", "v": 2}, {"_id": "_local/cp", "n": 1}]),
    ]
    outcomes = _in_one_group(db, writes)
    assert outcomes[0]["ok"] and outcomes[0]["id"] == "before"
    assert outcomes[1] == ("failed", "TypeError")
    assert outcomes[2] == ("error", "conflict")
    assert [r["ok"] for r in outcomes[3]] == [True, True]
    assert db.get("before")["v"] == 1 and db.get("after")["v"] == 2
    assert db.get_local("_local/cp")["n"] == 1
    for missing in ("half", "bad"):
        with pytest.raises(BranchlineError):
            db.get(missing)
    info = db.info()
    assert info["doc_count"] == 3
    assert [row["id"] for row in db.changes()["results"]] == ["taken", "before", "after"]


def test_a_change_listener_may_write_to_the_database_it_heard_from(store):
    """Listeners run once the writer's group is answered and the next leader has taken
    over, so one that writes to the same database queues instead of waiting for itself."""
    db = store.create_db(_name())
    echoed = threading.Event()

    def echo(db_name: str, seq: Any) -> None:
        if db_name == db.name and not echoed.is_set():
            echoed.set()
            db.put({"_id": "echo", "after_seq": seq})

    store.add_listener(echo)
    done = threading.Event()

    def write() -> None:
        db.put({"_id": "first"})
        done.set()

    t = threading.Thread(target=write, daemon=True)
    t.start()
    assert done.wait(10), "the write never returned: its listener waited for it"
    assert db.get("echo")["after_seq"] == 1
