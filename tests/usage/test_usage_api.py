"""`GET /api/v1/tenant/usage` against a real server: the figures an owner reads follow what the
team really did (sessions, a publish, an upload, members, keys), only owners and admins see
them, and a team never sees another's."""

from __future__ import annotations

from tests.attachments.helpers import png, publish_tree, start_session, upload
from tests.conftest import free_port, wait_until
from tests.webhooks.helpers import subscribe

SERVER_ENV = {
    # Measurements reused for 0 s: each answer measures the databases as they are now.
    "BRANCHLINE_TENANT_QUOTA_CACHE_SECONDS": "0",
    # Webhook receivers on this machine; a dead one spends its two quick retries in a second.
    "BRANCHLINE_WEBHOOK_ALLOW_PRIVATE": "true",
    "BRANCHLINE_WEBHOOK_RETRY_SCHEDULE": "0.2,0.2",
    # Two measurements now per team a minute (the last test spends them).
    "BRANCHLINE_RATE_LIMIT_USAGE_REFRESHES_PER_MINUTE": "2",
}


def _usage(http, who, **params) -> dict:
    r = http.get("/api/v1/tenant/usage", headers=who.headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_figures_follow_the_teams_real_work(http, make_tenant):
    team = make_tenant()
    before = _usage(http, team)
    assert before["tenant_id"] == team.id
    assert before["content"]["trees"] == {"published": 0, "never_published": 0, "archived": 0}
    assert before["content"]["sessions"]["total"] == 0
    assert before["members"]["active"]["owner"] == 1 and before["members"]["active_total"] == 1
    assert before["storage"]["attachments"] == {
        "files": 0,
        "bytes": 0,
        "storage": "folder",
        "counts_toward_quota": False,
    }

    engineer = team.add_user("engineer")
    gone = team.add_user("viewer")
    r = http.patch(f"/api/v1/users/{gone.id}", headers=team.headers, json={"active": False})
    assert r.status_code == 200, r.text
    r = http.post(
        "/api/v1/users/invite", headers=team.headers, json={"email": "new@usage.example", "role": "author"}
    )
    assert r.status_code == 201, r.text
    r = http.post("/api/v1/api-keys", headers=team.headers, json={"name": "PSA", "role": "engineer"})
    assert r.status_code == 201, r.text
    r = http.post("/api/v1/clients", headers=team.headers, json={"name": "Contoso"})
    assert r.status_code == 201, r.text

    tree_id = publish_tree(http, team)
    done = start_session(http, engineer, tree_id)
    dropped = start_session(http, engineer, tree_id)
    start_session(http, engineer, tree_id)  # still in progress
    for sid, event in (
        (done, {"type": "completed", "outcome": "resolved"}),
        (dropped, {"type": "abandoned"}),
    ):
        r = http.post(f"/api/v1/sessions/{sid}/events", headers=engineer.headers, json=event)
        assert r.status_code in (200, 201), r.text
    picture = png(640, 480)
    stored = upload(http, engineer, done, picture)
    assert stored.status_code == 201, stored.text

    after = _usage(http, team)
    assert after["content"]["trees"] == {"published": 1, "never_published": 0, "archived": 0}
    assert after["content"]["sessions"] == {
        "total": 3,
        "this_month": 3,
        "last_30_days": 3,
        "completed": 1,
        "abandoned": 1,
        "in_progress": 1,
    }
    assert after["content"]["clients"] == 1
    assert after["members"] == {
        "active": {"owner": 1, "admin": 0, "author": 0, "engineer": 1, "viewer": 0},
        "active_total": 2,
        "invited": 1,
        "deactivated": 1,
        "seats": None,
    }
    assert after["integrations"]["api_keys_active"] == 1
    assert after["integrations"]["webhooks"] == 0
    assert after["storage"]["attachments"]["files"] == 1
    assert after["storage"]["attachments"]["bytes"] == stored.json()["size"]

    storage = after["storage"]
    sizes = {d["name"]: d for d in storage["databases"]}
    assert {"sessions", "trees", "clients"} <= set(sizes)
    assert sizes["sessions"]["documents"] > 3  # 3 headers and their events
    assert storage["used_bytes"] == sum(d["bytes"] for d in storage["databases"])
    assert storage["used_bytes"] > before["storage"]["used_bytes"]
    assert storage["quota_source"] == "default" and storage["quota_bytes"] == 5 * 1024**3
    assert storage["percent"] == int(storage["used_bytes"] * 1000 / storage["quota_bytes"]) / 10
    assert after["warnings"] == []
    assert "branchline tenant quota" in storage["quota_managed_by"]

    labels = {row["key"]: row for row in after["limits"]}
    assert labels["storage_quota"]["value"] == 5 * 1024**3
    assert labels["attachment_max_size"]["value"] == 25 * 1024 * 1024
    assert labels["rate_user"]["unit"] == "requests_per_minute" and labels["rate_user"]["value"] == 3000
    assert labels["list_limit"]["value"] == 200
    assert all(row["label"] and row["explanation"] for row in after["limits"])


def test_the_attachment_limit_shown_is_the_teams_own(http, tenant):
    r = http.put("/api/v1/attachment-settings", headers=tenant.headers, json={"max_size_mb": 5})
    assert r.status_code == 200, r.text
    limit = {row["key"]: row for row in _usage(http, tenant)["limits"]}["attachment_max_size"]
    assert limit["value"] == 5 * 1024 * 1024


def test_only_owners_and_admins_see_usage(http, tenant):
    admin = tenant.add_user("admin")
    assert _usage(http, admin)["tenant_id"] == tenant.id
    for role in ("author", "engineer", "viewer"):
        member = tenant.add_user(role)
        for path in ("/api/v1/tenant/usage", "/api/v1/tenant/usage/warnings"):
            r = http.get(path, headers=member.headers)
            assert r.status_code == 403, (role, path, r.text)
            assert r.json()["error"] == "forbidden" and "owner, admin" in r.json()["reason"]
    for path in ("/api/v1/tenant/usage", "/api/v1/tenant/usage/warnings"):
        r = http.get(path)
        assert r.status_code == 401 and r.json()["error"] == "unauthorized"


def test_a_team_never_sees_another_teams_usage(http, make_tenant):
    busy, quiet = make_tenant(), make_tenant()
    tree_id = publish_tree(http, busy)
    for _ in range(2):
        start_session(http, busy, tree_id)
    wait_until(lambda: _usage(http, busy)["content"]["sessions"]["total"] == 2, message="busy's sessions")
    mine = _usage(http, quiet)
    assert mine["tenant_id"] == quiet.id
    assert mine["content"]["sessions"]["total"] == 0
    assert mine["content"]["trees"]["published"] == 0
    assert mine["storage"]["attachments"]["files"] == 0
    # No parameter names a tenant: a query string naming the other one changes nothing.
    r = http.get("/api/v1/tenant/usage", headers=quiet.headers, params={"tenant_id": busy.id})
    assert r.status_code == 200 and r.json()["tenant_id"] == quiet.id
    assert r.json()["content"]["sessions"]["total"] == 0


def test_refresh_measures_now(http, tenant):
    first = _usage(http, tenant, refresh="true")
    assert first["storage"]["age_seconds"] < 5
    assert first["storage"]["measured_at"].endswith("Z")


def test_webhook_deliveries_of_the_last_day_are_counted(http, tenant, receiver):
    tree_id = publish_tree(http, tenant)
    subscribe(http, tenant, receiver.url, ["session.started"])
    subscribe(http, tenant, f"http://127.0.0.1:{free_port()}/gone", ["session.started"])
    start_session(http, tenant, tree_id)
    receiver.wait_for(1)

    def settled():
        figures = _usage(http, tenant)["integrations"]
        return figures if figures["deliveries_last_24h"]["failed"] == 1 else None

    figures = wait_until(settled, timeout=30, message="the dead receiver's message to fail")
    assert figures["webhooks"] == 2 and figures["webhooks_failing"] == 1
    assert figures["deliveries_last_24h"] == {"delivered": 1, "failed": 1, "pending": 0, "capped": False}


def test_measuring_now_is_limited_per_team_and_the_usual_answer_is_not(http, make_tenant):
    """Refresh measures every database and lists the attachment files (on S3, a paged listing):
    a script calling it in a loop is refused with 429 and Retry-After, while the answer that
    reuses the last measurement, and other teams' Refresh, keep working."""
    team, other = make_tenant(), make_tenant()
    for _ in range(2):
        _usage(http, team, refresh="true")
    r = http.get("/api/v1/tenant/usage", headers=team.headers, params={"refresh": "true"})
    assert r.status_code == 429, r.text
    assert int(r.headers["Retry-After"]) >= 1
    assert "measuring storage now" in r.json()["reason"]
    assert _usage(http, team)["storage"]["measured_at"]  # without refresh: still answered
    _usage(http, other, refresh="true")  # another team's budget is its own
    limits = {row["key"]: row for row in _usage(http, team)["limits"]}
    assert limits["rate_usage_refreshes"]["value"] == 2
