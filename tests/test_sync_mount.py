"""The sync endpoints: one door into them, judged by the sessions policy.

`/sync/{tenant}/...` reaches the sync handlers only through the app's edge and its door
(`api/core/edge.py`, `sync.http.SyncDoor`): no framework route serves a sync path.
"""

from __future__ import annotations

import pytest
from starlette.routing import Match

from api.sessions.ids import ulid


def test_the_door_is_the_only_way_into_the_sync_endpoints(tmp_path):
    from api.app import create_app
    from api.settings import Settings

    app = create_app(Settings(data_dir=tmp_path, secret_key="x" * 40))
    for path in (
        "/sync/t1",
        "/sync/t1/",
        "/sync/t1/clients",
        "/sync/t1/clients/_local/x",
        "/sync/t1/clients/doc/att.txt",
    ):
        for method in ("GET", "HEAD", "PUT", "POST", "DELETE", "COPY", "PATCH", "OPTIONS"):
            scope = {"type": "http", "path": path, "method": method, "root_path": "", "app": app}
            assert app.sync_door.tenant_of(scope) == "t1", (path, method)
            # The PWA's catch-all would answer a GET with the app shell: it must never be asked.
            full = [r for r in app.router.routes if r.matches(scope)[0] == Match.FULL]
            assert all(getattr(r, "path", "") == "/{path:path}" for r in full), (path, method, full)
    scope = {"type": "http", "path": "/api/v1/me", "method": "GET", "root_path": "", "app": app}
    assert app.sync_door.tenant_of(scope) is None


def test_the_real_app_serves_sync_with_the_sessions_policy(tmp_path):
    from api.app import create_app
    from api.sessions.access import ClientsRules, SessionsRules
    from api.settings import Settings
    from api.trees.sync_rules import TreesRules
    from sync.access import FeaturePolicy

    app = create_app(Settings(data_dir=tmp_path, secret_key="x" * 40))
    # The one way into /sync judges with the registered policy, which sends each database to
    # the rules of the feature that owns it.
    policy = app.state.ctx.sync_policy
    assert isinstance(policy, FeaturePolicy)
    assert isinstance(policy.rules_for("sessions"), SessionsRules)
    assert isinstance(policy.rules_for("clients"), ClientsRules)
    assert isinstance(policy.rules_for("trees"), TreesRules)
    assert app.sync_door.api.policy is policy


def test_start_up_stops_with_a_clear_message_when_the_sessions_policy_is_not_registered(
    tmp_path, monkeypatch
):
    import api.sessions.service as sessions_service
    from api.app import create_app
    from api.settings import Settings
    from api.sync_mount import MissingSyncPolicy

    real_install = sessions_service.install

    def install_without_the_policy(ctx):
        real_install(ctx)
        ctx.sync_policy = None

    monkeypatch.setattr(sessions_service, "install", install_without_the_policy)
    with pytest.raises(MissingSyncPolicy) as failure:
        create_app(Settings(data_dir=tmp_path, secret_key="x" * 40))
    message = str(failure.value)
    assert "No sync access policy is registered" in message
    assert "api/sessions/service.py" in message and "every engineer" in message


def test_an_engineer_never_replicates_another_engineers_unshared_session(server, http, tenant):
    # Over the real server's raw CouchDB protocol, as a PouchDB pull sees it: the feed,
    # a longpoll from the start, and the batch read a replicator makes.
    alice, bob = tenant.add_user("engineer"), tenant.add_user("engineer")
    sid = ulid()
    base = f"/sync/{tenant.id}/sessions"
    docs = [
        {"_id": f"session:{sid}", "type": "session", "owner_id": alice.id, "shared_with": []},
        {
            "_id": f"session:{sid}:ev:{ulid()}",
            "type": "note",
            "user_id": alice.id,
            "session_id": sid,
            "ts": 1,
            "node_id": "scope",
            "note_id": "n1",
            "text": "private",
        },
    ]
    r = http.post(f"{base}/_bulk_docs", headers=alice.headers, json={"docs": docs})
    assert r.status_code == 201 and all("error" not in x for x in r.json()), r.text
    ids = {d["_id"] for d in docs}
    mine = http.get(f"{base}/_changes", headers=alice.headers).json()["results"]
    assert ids <= {c["id"] for c in mine}
    for params in (
        {"include_docs": "true", "style": "all_docs"},
        {"feed": "longpoll", "since": "0", "timeout": "1000", "include_docs": "true"},
    ):
        r = http.get(f"{base}/_changes", headers=bob.headers, params=params)
        assert r.status_code == 200, r.text
        assert sid not in r.text, r.text
    r = http.post(f"{base}/_bulk_get", headers=bob.headers, json={"docs": [{"id": i} for i in ids]})
    assert '"ok"' not in r.text and "private" not in r.text, r.text
