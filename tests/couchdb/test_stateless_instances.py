"""Two Branchline instances, one CouchDB: nothing of Branchline's state is per instance.

Both instances run the real app (`uvicorn api.app:create_app`) on the couchdb backend with
the same signing secret and separate, empty data folders (only rebuildable indexes go
there). A user registers and signs in on A, refreshes on B, and one session is synced by
two devices, one through each instance, with a live pull on B woken by A's write.
"""

from __future__ import annotations

import secrets
import time

import httpx
import pytest

from tests.conftest import ServerProcess, Tenant
from tests.couchdb.helpers import HERE, run_node
from tests.sessions.test_sessions_api import publish_tree, start
from tests.trees.factories import valid_tree


@pytest.fixture(scope="module")
def instances(couchdb, tmp_path_factory):
    env = {**couchdb.env(), "BRANCHLINE_SECRET_KEY": secrets.token_urlsafe(40)}
    a = ServerProcess(tmp_path_factory.mktemp("instance-a"), env=env).start()
    b = ServerProcess(tmp_path_factory.mktemp("instance-b"), env=env).start()
    yield a, b
    a.stop()
    b.stop()


def test_sign_in_on_one_refresh_on_the_other_and_sync_through_both(instances, couchdb):
    a, b = instances
    with (
        httpx.Client(base_url=a.url, timeout=30) as http_a,
        httpx.Client(base_url=b.url, timeout=30) as http_b,
    ):
        tenant = Tenant(http_a)
        assert http_b.get("/api/v1/me", headers=tenant.headers).status_code == 200

        # Sign in on A, refresh on B: refresh tokens live in CouchDB.
        login = http_a.post(
            "/api/v1/auth/login", json={"email": tenant.owner_email, "password": tenant.password}
        )
        assert login.status_code == 200, login.text
        refreshed = http_b.post("/api/v1/auth/refresh", json={"refresh_token": login.json()["refresh_token"]})
        assert refreshed.status_code == 200, refreshed.text
        # Rotation is shared too: retried on A (a lost answer), the spent token gets the same
        # successor B issued; once that successor was used on A, the spent one is refused on B.
        retry = http_a.post("/api/v1/auth/refresh", json={"refresh_token": login.json()["refresh_token"]})
        assert retry.status_code == 200 and retry.json()["refresh_token"] == refreshed.json()["refresh_token"]
        onward = http_a.post(
            "/api/v1/auth/refresh", json={"refresh_token": refreshed.json()["refresh_token"]}
        )
        assert onward.status_code == 200, onward.text
        replay = http_b.post("/api/v1/auth/refresh", json={"refresh_token": login.json()["refresh_token"]})
        assert replay.status_code == 401, replay.text
        # The reuse ended that sign-in, its access tokens included, on every instance.
        ended = http_b.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"}
        )
        assert ended.status_code == 401, ended.text
        again = http_b.post(
            "/api/v1/auth/login", json={"email": tenant.owner_email, "password": tenant.password}
        )
        assert again.status_code == 200, again.text
        token_b = again.json()["access_token"]

        # A session started through A's API is read through B's.
        tree_id = publish_tree(http_a, tenant, valid_tree())
        session = start(http_a, tenant, tree_id, title="two instances")
        sid = session["session_id"]
        got = http_b.get(f"/api/v1/sessions/{sid}", headers={"Authorization": f"Bearer {token_b}"})
        assert got.status_code == 200 and got.json()["header"]["title"] == "two instances"

        me = tenant.me
        url_a = f"{a.url}/sync/{tenant.id}/sessions"
        url_b = f"{b.url}/sync/{tenant.id}/sessions"
        out = run_node(
            str(HERE / "node" / "two_instances.js"),
            {
                "a": {"url": url_a, "token": tenant.tokens["access_token"]},
                "b": {"url": url_b, "token": token_b},
                "sid": sid,
                "user_id": me["user"]["id"],
                "now": int(time.time() * 1000),
            },
        )
        assert out["b_has_header"]
        # B's live pull woke on a write made through A, well before a 10 s heartbeat.
        assert out["a_to_b_ms"] < 5000, out
        assert len(out["a_event_ids"]) == 2

        # Both instances fold the same two notes.
        for http in (http_a, http_b):
            state = http.get(f"/api/v1/sessions/{sid}", headers=tenant.headers).json()
            texts = sorted(n["text"] for n in _notes(state))
            assert texts == ["written on device A", "written on device B"], state

        # Nothing but rebuildable indexes in either data folder.
        for inst in (a, b):
            kept = {p.relative_to(inst.data_dir).parts[0] for p in inst.data_dir.iterdir()}
            assert kept <= {"index", "server.log"}, kept


def _notes(state: dict) -> list[dict]:
    notes = []
    for key in ("notes",):
        value = state.get(key)
        if isinstance(value, dict):
            for v in value.values():
                notes.extend(v if isinstance(v, list) else [v])
        elif isinstance(value, list):
            notes.extend(value)
    for step in state.get("path", []):
        notes.extend(step.get("notes", []))
    return [n for n in notes if isinstance(n, dict) and "text" in n]


def test_both_instances_give_devices_one_server_uuid_however_they_are_first_asked(instances, couchdb):
    """The welcome `uuid` names every device's replications (their checkpoints stay on the
    device): were the instances to differ, a phone moving between them would start over each
    time. Asked on both at once, they agree: the history id is kept in CouchDB."""
    from concurrent.futures import ThreadPoolExecutor

    a, b = instances
    with httpx.Client(base_url=a.url, timeout=30) as http:
        tenant = Tenant(http)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda server: welcome_of(server, tenant), [a, b, a, b]))
    assert len(set(answers)) == 1, answers
    # Another tenant's differs; without credentials the answer is the same as with them.
    with httpx.Client(base_url=a.url, timeout=30) as http:
        other = Tenant(http)
    assert welcome_of(b, other) != answers[0]
    assert httpx.get(f"{b.url}/sync/{tenant.id}/", timeout=30).json()["uuid"] == answers[0]


def welcome_of(server, tenant) -> str:
    r = httpx.get(f"{server.url}/sync/{tenant.id}/", headers=tenant.headers, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["uuid"]
