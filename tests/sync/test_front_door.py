"""`/sync/` requests are served ahead of the app's middleware stack (`SyncFrontDoor`).

The front door exists for speed; these tests hold it to the same answers as the routed
path: every error still in the one JSON shape (a crash included), other paths still
reach the application, and a write answered on the event loop still waits, on a worker
thread, when another process holds the database's write lock.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import anyio
import httpx
import pytest
from app_for_tests import TENANT
from starlette.routing import Match

from sync.errors import UNEXPECTED_REASON
from sync.naming import physical_name


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("BRANCHLINE_TEST_DATA_DIR", str(tmp_path))
    import app_for_tests
    return app_for_tests.create_app()


def _call(app, method: str, path: str, auth=("admin-a", "s3cret-pass")) -> httpx.Response:
    """One request to `app` in-process (so a handler can be made to crash)."""
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", auth=auth) as c:
            return await c.request(method, path)
    # In a thread of its own: the browser tests' Playwright keeps an event loop running in
    # the main thread for the whole session.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, go).result()


def test_front_door_serves_exactly_the_paths_the_sync_routes_match(app):
    door = app.sync_front_door
    sync_routes = [r for r in app.router.routes
                   if hasattr(getattr(r, "original_router", None), "sync_api")]
    assert sync_routes
    for path in ("/sync/t1", "/sync/t1/", "/sync/t1/db", "/sync/t1/db/_local/x",
                 "/sync/t1/db/doc/att.txt", "/sync/", "/sync", "/syncx/t1", "/api/v1/me",
                 "/_test/stats", "/sync//db"):
        for method in ("GET", "HEAD", "PUT", "POST", "DELETE", "COPY", "PATCH", "OPTIONS"):
            scope = {"type": "http", "path": path, "method": method, "root_path": "", "app": app}
            routed = any(r.matches(scope)[0] == Match.FULL for r in sync_routes)
            assert (door.tenant_of(scope) is not None) == routed, (path, method)


def test_a_crash_in_a_sync_handler_is_the_one_json_error_shape(app, monkeypatch):
    api = app.sync_front_door.api

    def boom(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(api, "_dispatch", boom)
    monkeypatch.setattr(api, "_inline", lambda *a, **k: None)
    r = _call(app, "GET", f"/sync/{TENANT}/")
    assert r.status_code == 500
    assert r.json() == {"error": "internal_server_error", "reason": UNEXPECTED_REASON}


def test_errors_and_other_paths_answer_as_before(app):
    r = _call(app, "GET", f"/sync/{TENANT}/nope-db")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = _call(app, "GET", f"/sync/{TENANT}/", auth=("admin-a", "wrong"))
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    # Not a sync path, or a method the sync routes do not serve: the application answers.
    assert _call(app, "GET", "/_test/stats").status_code == 200
    assert _call(app, "OPTIONS", f"/sync/{TENANT}/").status_code == 405


def test_bulk_docs_waits_for_another_process_holding_the_write_lock(sync_server, client, db):
    """A batch answered on the event loop must not fail when SQLite's write lock is taken
    by another process (the command line, a backup): it waits on a worker thread."""
    path = sync_server.data_dir / "dbs" / f"{physical_name(TENANT, db)}.sqlite"
    other = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def release_later():
        time.sleep(1.0)
        other.execute("ROLLBACK")
        released.set()

    t = threading.Thread(target=release_later)
    t.start()
    try:
        docs = [{"_id": f"d{i}", "v": i} for i in range(100)]
        r = client.post(f"{db}/_bulk_docs", json={"docs": docs})
        assert released.is_set(), "answered before the lock was released"
    finally:
        t.join()
        other.close()
    assert r.status_code == 201, r.text
    assert all(row.get("ok") for row in r.json())
    assert client.get(db).json()["doc_count"] == 100
