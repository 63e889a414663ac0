"""`/sync/` requests reach the sync handlers one way: the door (`SyncDoor`, via `SyncDispatch`).

The door skips the framework's stack for speed; these tests hold it to the answers the
framework would give: every error in the one JSON shape (a crash included), other paths
still reach the application, and a write answered on the event loop still waits, on a
worker thread, when another process holds the database's write lock.
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


def test_the_door_serves_every_tenant_sync_path_and_no_route_is_a_second_way_in(app):
    door = app.sync_door
    for path, tenant in (
        ("/sync/t1", "t1"),
        ("/sync/t1/", "t1"),
        ("/sync/t1/db", "t1"),
        ("/sync/t1/db/_local/x", "t1"),
        ("/sync/t1/db/doc/att.txt", "t1"),
        ("/sync/", None),
        ("/sync", None),
        ("/syncx/t1", None),
        ("/api/v1/me", None),
        ("/_test/stats", None),
        ("/sync//db", None),
    ):
        for method in ("GET", "HEAD", "PUT", "POST", "DELETE", "COPY", "PATCH", "OPTIONS"):
            scope = {"type": "http", "path": path, "method": method, "root_path": "", "app": app}
            assert door.tenant_of(scope) == tenant, (path, method)
            # The framework has no route of its own for a sync path.
            assert not [
                r for r in app.router.routes if r.matches(scope)[0] != Match.NONE and tenant is not None
            ], (path, method)
    # Behind a proxy that mounts the app under a prefix, the door still finds the tenant.
    scope = {"type": "http", "path": "/branchline/sync/t1/db", "method": "GET", "root_path": "/branchline"}
    assert door.tenant_of(scope) == "t1"


def test_a_crash_in_a_sync_handler_is_the_one_json_error_shape(app, monkeypatch):
    api = app.sync_door.api

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
