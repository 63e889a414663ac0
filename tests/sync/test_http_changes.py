"""_changes: normal, longpoll (wake-up, timeout, heartbeat), continuous, and filters."""

from __future__ import annotations

import threading
import time

import httpx
import orjson
from app_for_tests import ADMIN


def fill(client, db, n, prefix="d"):
    client.post(f"{db}/_bulk_docs", json={"docs": [{"_id": f"{prefix}{i:03d}", "i": i} for i in range(n)]})


def waiting(server) -> int:
    return httpx.get(server.url + "/_test/stats").json()["waiting_feeds"]


def ids(body):
    return [r["id"] for r in body["results"]]


def test_normal_feed_since_and_limit(client, db):
    fill(client, db, 5)
    body = client.get(f"{db}/_changes").json()
    assert ids(body) == ["d000", "d001", "d002", "d003", "d004"]
    assert body["last_seq"] == body["results"][-1]["seq"]
    assert all(r["changes"][0]["rev"].startswith("1-") for r in body["results"])

    page = client.get(f"{db}/_changes", params={"limit": 2}).json()
    assert ids(page) == ["d000", "d001"]
    assert page["last_seq"] == page["results"][-1]["seq"]
    assert page["pending"] == 3
    rest = client.get(f"{db}/_changes", params={"since": page["last_seq"]}).json()
    assert ids(rest) == ["d002", "d003", "d004"]

    now = client.get(f"{db}/_changes", params={"since": "now"}).json()
    assert now["results"] == [] and now["last_seq"] == body["last_seq"]


def test_updated_document_moves_to_the_end_and_deletions_are_flagged(client, db):
    fill(client, db, 3)
    rev = client.get(f"{db}/d000").json()["_rev"]
    client.delete(f"{db}/d000", params={"rev": rev})
    body = client.get(f"{db}/_changes").json()
    assert ids(body) == ["d001", "d002", "d000"]
    assert body["results"][-1]["deleted"] is True


def test_include_docs_descending_and_style_all_docs(client, db):
    fill(client, db, 3)
    body = client.get(f"{db}/_changes", params={"include_docs": "true"}).json()
    assert [r["doc"]["i"] for r in body["results"]] == [0, 1, 2]
    desc = client.get(f"{db}/_changes", params={"descending": "true"}).json()
    assert ids(desc) == ["d002", "d001", "d000"]

    client.post(
        f"{db}/_bulk_docs",
        json={"new_edits": False, "docs": [{"_id": "c", "_rev": "1-aaaa"}, {"_id": "c", "_rev": "1-bbbb"}]},
    )
    main = next(r for r in client.get(f"{db}/_changes").json()["results"] if r["id"] == "c")
    assert [c["rev"] for c in main["changes"]] == ["1-bbbb"]
    every = next(
        r
        for r in client.get(f"{db}/_changes", params={"style": "all_docs"}).json()["results"]
        if r["id"] == "c"
    )
    assert sorted(c["rev"] for c in every["changes"]) == ["1-aaaa", "1-bbbb"]


def test_doc_ids_filter_from_body_or_query(client, db):
    fill(client, db, 5)
    r = client.post(f"{db}/_changes", params={"filter": "_doc_ids"}, json={"doc_ids": ["d003", "d001"]})
    assert ids(r.json()) == ["d001", "d003"]
    r = client.get(
        f"{db}/_changes", params={"filter": "_doc_ids", "doc_ids": orjson.dumps(["d004"]).decode()}
    )
    assert ids(r.json()) == ["d004"]
    r = client.post(f"{db}/_changes", params={"filter": "_doc_ids"}, json={"doc_ids": "d001"})
    assert r.status_code == 400


def test_selector_filter(client, db):
    fill(client, db, 6)
    r = client.post(f"{db}/_changes", params={"filter": "_selector"}, json={"selector": {"i": {"$gte": 4}}})
    assert r.status_code == 200
    assert ids(r.json()) == ["d004", "d005"]
    assert client.post(f"{db}/_changes", params={"filter": "_selector"}, json={}).status_code == 400


def test_design_filter_functions_and_views_run(client, db):
    fill(client, db, 1)
    client.put(
        f"{db}/_design/app",
        json={
            "filters": {"mine": "function (doc, req) { return true; }"},
            "views": {"by_type": {"map": "function (doc) { emit(doc.type); }"}},
        },
    )
    for params in ({"filter": "app/mine"}, {"filter": "_view", "view": "app/by_type"}):
        r = client.get(f"{db}/_changes", params=params)
        assert r.status_code == 200, params
        assert "d000" in [row["id"] for row in r.json()["results"]]
    design_only = client.get(f"{db}/_changes", params={"filter": "_design"})
    assert design_only.status_code == 200
    assert [row["id"] for row in design_only.json()["results"]] == ["_design/app"]


def test_longpoll_waits_for_a_write_and_wakes_promptly(client, db, sync_server, poll):
    fill(client, db, 1)
    since = client.get(f"{db}/_changes").json()["last_seq"]
    answer: dict = {}

    def longpoll():
        with httpx.Client(auth=ADMIN, timeout=30) as c:
            t = time.monotonic()
            r = c.get(
                f"{sync_server.tenant_url()}/{db}/_changes",
                params={"feed": "longpoll", "since": since, "timeout": 20000},
            )
            answer["elapsed"] = time.monotonic() - t
            answer["body"] = r.json()

    thread = threading.Thread(target=longpoll)
    thread.start()
    poll(lambda: waiting(sync_server) >= 1, message="the longpoll to wait")
    assert "body" not in answer, "longpoll answered before any write"
    written = time.monotonic()
    client.put(f"{db}/late", json={})
    thread.join(20)
    assert ids(answer["body"]) == ["late"]
    assert answer["elapsed"] < 20
    assert time.monotonic() - written < 2


def test_longpoll_times_out_with_no_results(client, db):
    fill(client, db, 1)
    t = time.monotonic()
    body = client.get(f"{db}/_changes", params={"feed": "longpoll", "since": "now", "timeout": 300}).json()
    assert body["results"] == []
    assert 0.25 < time.monotonic() - t < 5


def test_longpoll_with_rows_answers_at_once(client, db):
    fill(client, db, 2)
    t = time.monotonic()
    body = client.get(f"{db}/_changes", params={"feed": "longpoll", "timeout": 10000}).json()
    assert len(body["results"]) == 2 and time.monotonic() - t < 2


def test_longpoll_heartbeat_sends_newlines_while_waiting(client, db):
    fill(client, db, 1)
    with client.stream(
        "GET", f"{db}/_changes", params={"feed": "longpoll", "since": "now", "heartbeat": 100, "timeout": 700}
    ) as r:
        raw = b"".join(r.iter_raw())
    assert raw.startswith(b"\n")
    assert raw.count(b"\n") >= 3
    assert orjson.loads(raw)["results"] == []


def test_many_longpolls_do_not_hold_worker_threads(client, db, sync_server, poll):
    """More waiting longpolls than the thread pool has workers; normal requests still go through."""
    fill(client, db, 1)
    since = client.get(f"{db}/_changes").json()["last_seq"]
    results = []

    def wait_one():
        with httpx.Client(auth=ADMIN, timeout=30) as c:
            r = c.get(
                f"{sync_server.tenant_url()}/{db}/_changes",
                params={"feed": "longpoll", "since": since, "timeout": 15000},
            )
            results.append(r.json())

    threads = [threading.Thread(target=wait_one) for _ in range(50)]
    for t in threads:
        t.start()
    poll(lambda: waiting(sync_server) >= 50, message="50 longpolls to wait")
    t0 = time.monotonic()
    assert client.get(f"{db}/d000").status_code == 200
    assert time.monotonic() - t0 < 2
    client.put(f"{db}/wake", json={})
    for t in threads:
        t.join(20)
    assert len(results) == 50
    assert all(ids(r) == ["wake"] for r in results)


def test_continuous_feed_streams_rows_then_last_seq(client, db):
    fill(client, db, 2)
    lines = []
    with client.stream("GET", f"{db}/_changes", params={"feed": "continuous", "timeout": 500}) as r:
        for line in r.iter_lines():
            if line.strip():
                lines.append(orjson.loads(line))
    assert [line["id"] for line in lines[:2]] == ["d000", "d001"]
    assert "last_seq" in lines[-1]


def test_unknown_feed_is_400(client, db):
    assert client.get(f"{db}/_changes", params={"feed": "eventsource"}).status_code == 400


def test_changes_of_a_missing_database_is_404(client):
    assert client.get("nosuchdb/_changes").status_code == 404


def test_a_client_that_hangs_up_stops_waiting(client, db, sync_server, poll):
    """A phone that drops off mid-longpoll must not leave a waiter behind."""
    fill(client, db, 1)
    with httpx.Client(auth=ADMIN, timeout=30) as c:
        with c.stream(
            "GET",
            f"{sync_server.tenant_url()}/{db}/_changes",
            params={"feed": "longpoll", "since": "now", "heartbeat": 100},
        ) as r:
            chunks = r.iter_raw()  # kept: dropping the iterator closes the stream
            assert next(chunks).startswith(b"\n")
            assert waiting(sync_server) >= 1
    poll(lambda: waiting(sync_server) == 0, message="the waiter to go away after hang-up")


def test_streamed_feeds_leave_no_waiter_behind_when_they_end(client, db, sync_server, poll):
    """A streamed feed's waiter is registered before its stream starts, and must go however
    the stream ends: woken by a write (heartbeat longpoll) or timed out (continuous)."""
    fill(client, db, 1)
    answer: dict = {}

    def longpoll():
        with httpx.Client(auth=ADMIN, timeout=30) as c:
            r = c.get(
                f"{sync_server.tenant_url()}/{db}/_changes",
                params={"feed": "longpoll", "since": "now", "heartbeat": 200},
            )
            answer["body"] = orjson.loads(r.content)

    thread = threading.Thread(target=longpoll)
    thread.start()
    poll(lambda: waiting(sync_server) >= 1, message="the longpoll to wait")
    client.put(f"{db}/wakes-it", json={})
    thread.join(20)
    assert ids(answer["body"]) == ["wakes-it"]
    poll(lambda: waiting(sync_server) == 0, message="the answered longpoll's waiter to go")

    with client.stream(
        "GET", f"{db}/_changes", params={"feed": "continuous", "since": "now", "timeout": 300}
    ) as r:
        lines = [orjson.loads(line) for line in r.iter_lines() if line.strip()]
    assert "last_seq" in lines[-1]
    poll(lambda: waiting(sync_server) == 0, message="the ended continuous feed's waiter to go")


def test_a_longpoll_woken_before_its_first_heartbeat_is_answered_in_one_piece(client, db, sync_server, poll):
    """As a live replication's feeds nearly always are (a write wakes them well within the
    10 s PouchDB asks for): the answer has a Content-Length, not a chunked stream, which
    costs the server a task per feed; its waiter goes with it."""
    fill(client, db, 1)
    answer: dict = {}

    def longpoll():
        with httpx.Client(auth=ADMIN, timeout=30) as c:
            answer["r"] = c.get(
                f"{sync_server.tenant_url()}/{db}/_changes",
                params={"feed": "longpoll", "since": "now", "heartbeat": 10000},
            )

    thread = threading.Thread(target=longpoll)
    thread.start()
    poll(lambda: waiting(sync_server) >= 1, message="the longpoll to wait")
    client.put(f"{db}/wakes-it", json={})
    thread.join(20)
    r = answer["r"]
    assert r.status_code == 200 and ids(r.json()) == ["wakes-it"]
    assert r.headers.get("content-length") == str(len(r.content))
    assert "transfer-encoding" not in r.headers
    poll(lambda: waiting(sync_server) == 0, message="the answered longpoll's waiter to go")


def test_a_longpoll_with_a_long_heartbeat_starts_streaming_within_ten_seconds(client, db, sync_server, poll):
    """`heartbeat=true` is 60 s: a feed still waiting after 10 s streams its first newline
    then, so a proxy sees the headers and a client gone meanwhile is noticed; the waiter of
    one hung up goes."""
    fill(client, db, 1)
    with httpx.Client(auth=ADMIN, timeout=60) as c:
        with c.stream(
            "GET",
            f"{sync_server.tenant_url()}/{db}/_changes",
            params={"feed": "longpoll", "since": "now", "heartbeat": "true", "timeout": 40000},
        ) as r:
            chunks = r.iter_raw()
            # Without the cap, nothing came before the 40 s timeout's plain answer.
            assert next(chunks) == b"\n"
    poll(lambda: waiting(sync_server) == 0, message="the waiter to go after hang-up")


def test_atts_since_leaves_known_attachments_as_stubs(client, db):
    import base64

    data = base64.b64encode(b"x" * 100).decode()
    rev1 = client.put(
        f"{db}/d", json={"_attachments": {"a.txt": {"content_type": "text/plain", "data": data}}}
    ).json()["rev"]
    rev2 = client.put(
        f"{db}/d", params={"rev": rev1}, json={"v": 2, "_attachments": {"a.txt": {"stub": True}}}
    ).json()["rev"]
    assert rev2.startswith("2-")
    full = client.get(f"{db}/d", params={"attachments": "true"}).json()
    assert "data" in full["_attachments"]["a.txt"]
    since = client.get(
        f"{db}/d", params={"attachments": "true", "atts_since": orjson.dumps([rev1]).decode()}
    ).json()
    assert since["_attachments"]["a.txt"].get("stub") is True


def test_conflicts_flag_shows_losing_revisions_in_docs(client, db):
    client.post(
        f"{db}/_bulk_docs",
        json={
            "new_edits": False,
            "docs": [{"_id": "c", "_rev": "1-aaaa", "v": "a"}, {"_id": "c", "_rev": "1-bbbb", "v": "b"}],
        },
    )
    row = client.get(f"{db}/_changes", params={"include_docs": "true", "conflicts": "true"}).json()[
        "results"
    ][0]
    assert row["doc"]["_rev"] == "1-bbbb" and row["doc"]["_conflicts"] == ["1-aaaa"]
    listed = client.get(f"{db}/_all_docs", params={"include_docs": "true", "conflicts": "true"}).json()
    assert listed["rows"][0]["doc"]["_conflicts"] == ["1-aaaa"]
