"""The audit log over HTTP: an entry for each audited action, filters, paging, CSV, admins only,
closed to sync, and a chain that two concurrent writers never fork.

A real server per module (tests/conftest.py), a fresh tenant per test.
"""

from __future__ import annotations

import csv
import io
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.conftest import STRONG_PASSWORD
from tests.sessions.test_sessions_api import publish_tree, start


def entries(http: httpx.Client, who, **params) -> list[dict]:
    """Every entry the filters keep, following next_cursor with small pages."""
    found, cursor = [], None
    while True:
        r = http.get(
            "/api/v1/audit",
            headers=who.headers,
            params={**params, "limit": 3, **({"cursor": cursor} if cursor else {})},
        )
        assert r.status_code == 200, r.text
        found += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return found


def actions(http: httpx.Client, who, **params) -> list[str]:
    return [e["action"] for e in entries(http, who, **params)]


def verified(http: httpx.Client, who) -> dict:
    r = http.get("/api/v1/audit/verify", headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_every_audited_action_leaves_an_entry_naming_actor_target_and_address(http, tenant):
    owner_id = tenant.me["user"]["id"]
    h = tenant.headers
    assert (
        http.post(
            "/api/v1/auth/login", json={"email": tenant.owner_email, "password": "wrong password 1"}
        ).status_code
        == 401
    )
    engineer = tenant.add_user("engineer")
    assert http.patch(f"/api/v1/users/{engineer.id}", headers=h, json={"role": "author"}).status_code == 200
    assert http.patch(f"/api/v1/users/{engineer.id}", headers=h, json={"active": False}).status_code == 200
    key = http.post("/api/v1/api-keys", headers=h, json={"name": "psa", "role": "viewer"}).json()
    assert http.delete(f"/api/v1/api-keys/{key['id']}", headers=h).status_code == 200
    assert http.patch("/api/v1/tenant", headers=h, json={"name": "Renamed MSP"}).status_code == 200
    assert http.put("/api/v1/export-settings", headers=h, json={"notes": False}).status_code == 200
    assert http.put("/api/v1/attachment-settings", headers=h, json={"max_size_mb": 5.0}).status_code == 200
    assert (
        http.put(
            "/api/v1/export-templates/html", headers=h, json={"source": "<h1>{{ m.title }}</h1>"}
        ).status_code
        == 200
    )
    assert http.delete("/api/v1/export-templates/html", headers=h).status_code == 204
    tree_id = publish_tree(http, tenant)
    draft = http.get(f"/api/v1/trees/{tree_id}", headers=h).json()
    assert (
        http.post(
            f"/api/v1/trees/{tree_id}/rollback", headers=h, json={"version": 1, "_rev": draft["_rev"]}
        ).status_code
        == 200
    )
    session = start(http, tenant, tree_id, title="VDA down")
    sid = session["session_id"]
    member = tenant.add_user("engineer")
    assert (
        http.patch(
            f"/api/v1/sessions/{sid}",
            headers=h,
            json={"_rev": session["header"]["_rev"], "shared_with": [member.id]},
        ).status_code
        == 200
    )
    assert http.get(f"/api/v1/sessions/{sid}/export", headers=h, params={"format": "text"}).status_code == 200
    assert http.delete(f"/api/v1/trees/{tree_id}", headers=h).status_code == 200
    assert http.put("/api/v1/audit/settings", headers=h, json={"retention_days": 400}).status_code == 200
    assert (
        http.post(
            "/api/v1/me/password",
            headers=member.headers,
            json={"current_password": STRONG_PASSWORD, "new_password": STRONG_PASSWORD + " new"},
        ).status_code
        == 200
    )

    log = {e["action"]: e for e in entries(http, tenant)}  # newest first: the earliest of each stays
    expected = {
        "tenant.created": ("tenant", tenant.id),
        "auth.sign_in_failed": ("user", owner_id),
        "user.created": ("user", engineer.id),
        "auth.signed_in": ("user", engineer.id),
        "user.role_changed": ("user", engineer.id),
        "user.deactivated": ("user", engineer.id),
        "api_key.created": ("api_key", key["id"]),
        "api_key.revoked": ("api_key", key["id"]),
        "tenant.renamed": ("tenant", tenant.id),
        "export_settings.changed": ("export_settings", tenant.id),
        "attachment_settings.changed": ("attachment_settings", tenant.id),
        "export_template.changed": ("export_template", "html"),
        "export_template.deleted": ("export_template", "html"),
        "tree.published": ("tree", tree_id),
        "tree.rolled_back": ("tree", tree_id),
        "session.sharing_changed": ("session", sid),
        "session.exported": ("session", sid),
        "tree.archived": ("tree", tree_id),
        "audit.settings_changed": ("audit_settings", tenant.id),
        "user.password_changed": ("user", member.id),
    }
    missing = sorted(set(expected) - set(log))
    assert not missing, f"no audit entry for {missing}"
    for action, (kind, target_id) in expected.items():
        assert log[action]["target"] == {"type": kind, "id": target_id}, (action, log[action])
        assert log[action]["ip"] == "127.0.0.1", action
    assert log["user.role_changed"]["details"] == {"from": "engineer", "to": "author"}
    assert log["user.role_changed"]["actor"] == {"type": "user", "id": owner_id, "email": tenant.owner_email}
    assert log["auth.sign_in_failed"]["details"] == {"reason": "wrong_password"}
    assert log["session.sharing_changed"]["details"] == {"shared_with": [member.id]}
    assert log["session.exported"]["details"] == {"format": "text"}
    assert log["tree.published"]["details"] == {"version": 1}
    assert log["user.password_changed"]["actor"]["id"] == member.id
    assert verified(http, tenant) == {
        "ok": True,
        "entries": len(entries(http, tenant)),
        "problem": None,
        "seq": None,
    }


def test_only_owners_and_admins_read_the_log(http, tenant):
    admin, engineer, author = tenant.add_user("admin"), tenant.add_user("engineer"), tenant.add_user("author")
    for who in (engineer, author):
        for path in ("/api/v1/audit", "/api/v1/audit/settings", "/api/v1/audit/verify"):
            r = http.get(path, headers=who.headers)
            assert r.status_code == 403 and r.json()["error"] == "forbidden", path
        r = http.put("/api/v1/audit/settings", headers=who.headers, json={"retention_days": 1})
        assert r.status_code == 403
    assert "user.created" in actions(http, admin)
    assert http.get("/api/v1/audit", headers={}).status_code == 401


def test_filters_by_action_actor_target_and_dates_and_pages_without_gaps(http, tenant):
    admin = tenant.add_user("admin")
    keys = [
        http.post("/api/v1/api-keys", headers=h, json={"name": f"k{i}"}).json()["id"]
        for i, h in enumerate([tenant.headers, admin.headers, tenant.headers, admin.headers])
    ]
    every = entries(http, tenant)
    seqs = [e["seq"] for e in every]
    assert seqs == sorted(seqs, reverse=True) and seqs == list(range(seqs[0], 0, -1)), "newest first, no gaps"

    assert actions(http, tenant, action="api_key.created") == ["api_key.created"] * 4
    assert sorted(actions(http, tenant, action="api_key.")) == ["api_key.created"] * 4
    by_admin = entries(http, tenant, actor=admin.email.upper())
    assert [e["action"] for e in by_admin] == ["api_key.created", "api_key.created", "auth.signed_in"]
    assert [e["target"]["id"] for e in entries(http, tenant, actor=admin.id, action="api_key.created")] == [
        keys[3],
        keys[1],
    ]
    assert [e["action"] for e in entries(http, tenant, target=keys[2])] == ["api_key.created"]

    middle = next(e for e in every if e["target"]["id"] == keys[2])
    newer = [e["seq"] for e in entries(http, tenant, **{"from": middle["ts"]})]
    assert middle["seq"] in newer and min(newer) >= middle["seq"] - 1
    older = [e["seq"] for e in entries(http, tenant, to=middle["ts"])]
    assert middle["seq"] not in older and older and max(older) < middle["seq"]
    assert entries(http, tenant, to="2020-01-01") == []
    assert len(entries(http, tenant, **{"from": every[0]["ts"][:10]})) == len(every)

    r = http.get("/api/v1/audit", headers=tenant.headers, params={"from": "last tuesday"})
    assert r.status_code == 400 and "ISO 8601" in r.json()["reason"]
    r = http.get("/api/v1/audit", headers=tenant.headers, params={"cursor": "garbage!"})
    assert r.status_code == 400 and r.json()["error"] == "bad_request"


def test_an_api_key_is_named_in_the_entries_it_caused_even_after_it_is_revoked(http, tenant):
    made = http.post("/api/v1/api-keys", headers=tenant.headers, json={"name": "PSA sync", "role": "admin"})
    key = {"Authorization": f"Bearer {made.json()['key']}"}
    assert http.post("/api/v1/teams", headers=key, json={"name": "Network", "members": []}).status_code == 201
    assert http.delete(f"/api/v1/api-keys/{made.json()['id']}", headers=tenant.headers).status_code == 200
    [entry] = entries(http, tenant, action="team.created")
    assert entry["actor"] == {"type": "api_key", "id": f"apikey:{made.json()['id']}", "name": "PSA sync"}
    assert entries(http, tenant, actor=f"apikey:{made.json()['id']}") == [entry]
    assert verified(http, tenant)["ok"]


def test_csv_export_holds_every_matching_entry_and_defuses_formulas(http, tenant):
    http.post("/api/v1/api-keys", headers=tenant.headers, json={"name": '=HYPERLINK("http://evil")'})
    r = http.get("/api/v1/audit", headers=tenant.headers, params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["action"] for row in rows] == actions(http, tenant)
    key_row = next(row for row in rows if row["action"] == "api_key.created")
    assert key_row["actor_email"] == tenant.owner_email and key_row["ip"] == "127.0.0.1"
    assert '"name": "\'=HYPERLINK' not in key_row["details"]  # JSON starts with {: not a formula
    assert key_row["details"].startswith("{")
    only = list(
        csv.DictReader(
            io.StringIO(
                http.get(
                    "/api/v1/audit",
                    headers=tenant.headers,
                    params={"format": "csv", "action": "tenant.created"},
                ).text
            )
        )
    )
    assert [row["action"] for row in only] == ["tenant.created"]
    assert (
        http.get(
            "/api/v1/audit", headers=tenant.add_user("engineer").headers, params={"format": "csv"}
        ).status_code
        == 403
    )


def test_the_audit_database_is_closed_to_sync_even_for_the_owner(http, tenant):
    base = f"/sync/{tenant.id}/audit"
    first = entries(http, tenant)[-1]
    h = tenant.headers
    refused = [
        http.put(f"{base}/audit:000000000999", headers=h, json={"type": "audit_entry", "action": "fake"}),
        http.put(f"{base}/{first['id']}", headers=h, json={"action": "nothing happened"}),
        http.post(f"{base}/_bulk_docs", headers=h, json={"docs": [{"_id": "audit:000000000998"}]}),
        http.get(f"{base}/{first['id']}", headers=h),
        http.get(f"{base}/_changes", headers=h),
        http.delete(base, headers=h),
        http.put(f"{base}/_security", headers=h, json={}),
    ]
    for r in refused:
        assert r.status_code == 403 and r.json()["error"] == "forbidden", (
            r.request.method,
            r.request.url,
            r.text,
        )
    assert "audit" not in http.get(f"/sync/{tenant.id}/_all_dbs", headers=h).json()
    assert "audit" not in http.get("/api/v1/me", headers=h).json()["sync"]["databases"]
    assert entries(http, tenant)[-1] == first
    assert verified(http, tenant)["ok"]


def test_concurrent_writers_append_one_unbroken_chain(http, server, tenant):
    def make_key(i: int) -> int:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            return client.post("/api/v1/api-keys", headers=tenant.headers, json={"name": f"k{i}"}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(make_key, range(24))) == {201}
    log = entries(http, tenant)
    assert sorted(e["seq"] for e in log) == list(range(1, len(log) + 1))
    assert actions(http, tenant).count("api_key.created") == 24
    assert verified(http, tenant) == {"ok": True, "entries": len(log), "problem": None, "seq": None}


def test_no_entry_of_one_tenant_reaches_another(http, make_tenant):
    a, b = make_tenant(), make_tenant()
    b_key = http.post("/api/v1/api-keys", headers=b.headers, json={"name": "b"}).json()["id"]
    seen = http.get("/api/v1/audit", headers=a.headers, params={"format": "csv"}).text
    seen += str(entries(http, a))
    for secret in (b.id, b_key, b.owner_email, b.me["user"]["id"]):
        assert secret not in seen
    assert entries(http, a, target=b_key) == [] and entries(http, a, actor=b.owner_email) == []
    assert b_key in str(entries(http, b))


def test_imports_and_starter_library_loads_are_recorded(http, tenant):
    tree_id = publish_tree(http, tenant)
    exported = http.get(f"/api/v1/trees/{tree_id}/export", headers=tenant.headers).json()
    r = http.post("/api/v1/trees/import", headers=tenant.headers, params={"replace": "true"}, json=exported)
    assert r.status_code == 201, r.text
    assert http.post("/api/v1/starter-library/load", headers=tenant.headers).status_code == 200
    log = {e["action"]: e for e in entries(http, tenant)}
    assert log["tree.imported"]["target"] == {"type": "tree", "id": tree_id}
    assert log["tree.imported"]["details"] == {"replace": True}
    assert log["starter_library.loaded"]["target"] == {"type": "tenant", "id": tenant.id}


def test_sharing_changed_over_sync_is_recorded_once_it_is_stored(http, tenant):
    """The PWA shares by editing the header on the device and replicating it: the audit log
    records that as the API's PATCH does, with the sync as its channel, and a refused or
    conflicting write records nothing."""
    tree_id = publish_tree(http, tenant)
    alice, bob, carol = tenant.add_user("engineer"), tenant.add_user("engineer"), tenant.add_user("engineer")
    sid = start(http, alice, tree_id)["session_id"]
    url = f"/sync/{tenant.id}/sessions/session:{sid}"
    header = http.get(url, headers=alice.headers).json()
    stale = dict(header)
    header["shared_with"] = [bob.id]
    header.setdefault("edited", {})["shared_with"] = header["edited"].get("shared_with", 0) + 1
    r = http.put(url, headers=alice.headers, json=header)
    assert r.status_code == 201, r.text
    # A conflicting write (the old revision again) changes nothing and records nothing.
    stale["shared_with"] = [carol.id]
    assert http.put(url, headers=alice.headers, json=stale).status_code == 409
    # Bob may edit the session but not its sharing: refused, nothing recorded.
    mine = http.get(url, headers=bob.headers).json()
    mine["shared_with"] = [bob.id, carol.id]
    assert http.put(url, headers=bob.headers, json=mine).status_code == 403
    # The owner unshares in a replicated batch, as PouchDB pushes.
    current = http.get(url, headers=alice.headers).json()
    current["shared_with"] = []
    current["edited"]["shared_with"] += 1
    r = http.post(f"/sync/{tenant.id}/sessions/_bulk_docs", headers=alice.headers, json={"docs": [current]})
    assert r.status_code == 201 and "error" not in r.json()[0], r.text
    log = [e for e in entries(http, tenant, action="session.sharing_changed") if e["target"]["id"] == sid]
    assert [e["details"] for e in reversed(log)] == [
        {"shared_with": [bob.id], "via": "sync"},
        {"shared_with": [], "via": "sync"},
    ]
    assert all(e["actor"]["id"] == alice.id and e["ip"] == "127.0.0.1" for e in log)
    assert verified(http, tenant)["ok"] is True


def test_an_export_reported_by_a_client_through_the_api_is_filed_once_and_a_stranger_cannot_report(
    http, tenant
):
    """A client that exports on its own (a script, a connector) reports it with an `exported`
    event, as the PWA does over sync; a retry of the same event files nothing more."""
    tree_id = publish_tree(http, tenant)
    alice, mallory = tenant.add_user("engineer"), tenant.add_user("engineer")
    sid = start(http, alice, tree_id)["session_id"]
    event = {"type": "exported", "format": "text", "how": "download", "device_id": "script-1"}
    first = http.post(f"/api/v1/sessions/{sid}/events", headers=alice.headers, json=event)
    assert first.status_code == 201, first.text
    stored = first.json()["event"]
    again = http.post(
        f"/api/v1/sessions/{sid}/events",
        headers=alice.headers,
        json={**event, "_id": stored["_id"], "ts": stored["ts"]},
    )
    assert again.status_code in (200, 201), again.text
    refused = http.post(f"/api/v1/sessions/{sid}/events", headers=mallory.headers, json=event)
    assert refused.status_code in (403, 404), refused.text
    log = [e for e in entries(http, tenant, action="session.exported") if e["target"]["id"] == sid]
    assert len(log) == 1
    assert log[0]["actor"]["id"] == alice.id
    assert {k: log[0]["details"][k] for k in ("via", "format", "how", "device_id", "event_id")} == {
        "via": "device",
        "format": "text",
        "how": "download",
        "device_id": "script-1",
        "event_id": stored["_id"],
    }
    # The state is the same as before the export: the fold leaves the event out.
    assert first.json()["ignored"] == [] and first.json()["path"] == []
    assert verified(http, tenant)["ok"] is True
