"""Tree freshness end to end: review settings on trees, the nightly job with a controllable
clock, the attention list, "mark reviewed", the `tree.needs_review` webhook and the audit.

The server is real (uvicorn; embedded here, couchdb in
tests/couchdb/api_suite/test_couch_freshness.py); the job runs on its data exactly as the
scheduler runs it, at moments the test chooses (`helpers.run_job`).
"""

from __future__ import annotations

import time
from datetime import timedelta

import httpx

from api.webhooks.worker import RESCAN_SECONDS
from tests.conftest import Tenant
from tests.freshness.helpers import DAY_MS, at, record_sessions, run_job
from tests.sessions.test_sessions_api import publish_tree
from tests.trees.factories import valid_tree
from tests.webhooks.helpers import payload, subscribe

SERVER_ENV = {"BRANCHLINE_WEBHOOK_ALLOW_PRIVATE": "true"}  # read by the `server` fixture


def attention(http: httpx.Client, who) -> list[dict]:
    r = http.get("/api/v1/trees/attention", headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def publish(http: httpx.Client, tenant: Tenant, **fields) -> str:
    """Publish a valid tree with `fields`; its id comes from its title."""
    tree = {k: v for k, v in valid_tree().items() if k != "_id"}
    return publish_tree(http, tenant, {**tree, **fields})


# --- the tree fields ------------------------------------------------------------------------


def test_review_settings_and_applies_to_round_trip_and_are_checked(http, tenant):
    tree_id = publish(
        http, tenant, review_by="2027-06-30", applies_to=["Citrix VDA 2203 LTSR", "SonicOS 7.x"]
    )
    version = http.get(f"/api/v1/trees/{tree_id}/versions/1", headers=tenant.headers).json()
    assert version["tree"]["review_by"] == "2027-06-30"
    assert version["tree"]["applies_to"] == ["Citrix VDA 2203 LTSR", "SonicOS 7.x"]

    # A wrong type is not a tree at all: refused on save, naming the field.
    draft = http.get(f"/api/v1/trees/{tree_id}", headers=tenant.headers).json()
    r = http.put(
        f"/api/v1/trees/{tree_id}", headers=tenant.headers, json={**draft, "review_every_days": "90"}
    )
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    assert "review_every_days" in r.json()["reason"]

    # An impossible date is a problem to fix: the draft keeps it, publishing refuses with 422.
    r = http.put(
        f"/api/v1/trees/{tree_id}", headers=tenant.headers, json={**draft, "review_by": "2027-02-30"}
    )
    assert r.status_code == 200, r.text
    r = http.post(f"/api/v1/trees/{tree_id}/publish", headers=tenant.headers, json={})
    assert r.status_code == 422 and r.json()["error"] == "invalid_tree"
    assert r.json()["reason"].endswith(
        'Review by "2027-02-30" is not a date. Write it as YYYY-MM-DD, e.g. 2027-06-30.'
    )

    # Trees written before the fields existed stay valid.
    old = {k: v for k, v in valid_tree().items() if k not in ("review_by", "review_every_days", "applies_to")}
    assert http.post("/api/v1/trees/validate", headers=tenant.headers, json=old).json() == {
        "valid": True,
        "problems": [],
    }


# --- the nightly job ------------------------------------------------------------------------


def test_a_tree_past_review_by_is_flagged_once_and_the_webhook_fires_once(http, server, tenant, receiver):
    hook = subscribe(http, tenant, receiver.url, ["tree.needs_review"])
    today = at(int(time.time() * 1000))
    due = (today + timedelta(days=10)).date().isoformat()
    overdue = publish(http, tenant, review_by=due, title="Printer offline")
    fine = publish(http, tenant, review_by="2099-01-01", title="VPN drops")
    night = today + timedelta(days=20)
    first, second = run_job(server, night, night + timedelta(days=1))  # two nights
    assert first["raised"] == {tenant.id: 1} and first["failed"] == []
    assert second["raised"] == {}  # the flag stands; nothing new

    items = attention(http, tenant)
    assert [i["tree_id"] for i in items] == [overdue]
    flag = items[0]["flags"][0]
    assert flag["kind"] == "review_due" and flag["due"] == due
    assert flag["reason"] == f"Review was due on {due} (the review date set on the tree)."
    assert items[0]["title"] == "Printer offline" and items[0]["review_due"] == due
    assert fine not in {i["tree_id"] for i in items}

    # On CouchDB the job ran in another process, which created the freshness database: this
    # instance's webhook worker finds a database it never opened at its next rescan (at once
    # where the server has `_db_updates`; pouchdb-server has not). The server's own job wakes
    # it at once.
    embedded = server.env.get("BRANCHLINE_BACKEND", "embedded") == "embedded"
    got = receiver.wait_for(
        1, event_type="tree.needs_review", timeout=20 if embedded else RESCAN_SECONDS + 20
    )
    body = payload(got[0])
    assert body["type"] == "tree.needs_review"
    assert body["data"]["tree_id"] == overdue and body["data"]["kind"] == "review_due"
    assert body["data"]["reason"] == flag["reason"]
    deliveries = http.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=tenant.headers).json()["items"]
    assert [d["event_type"] for d in deliveries] == ["tree.needs_review"]  # once, not every night

    audit = http.get("/api/v1/audit?action=tree.flagged", headers=tenant.headers).json()["items"]
    assert len(audit) == 1 and audit[0]["actor"]["type"] == "system"
    assert audit[0]["target"] == {"type": "tree", "id": overdue}


def test_default_interval_flags_trees_never_reviewed_and_review_clears(http, server, tenant):
    tree_id = publish(http, tenant, title="Outlook prompts for password")
    author = tenant.add_user("author")
    published = int(time.time() * 1000)
    run_job(server, at(published + 179 * DAY_MS))
    assert attention(http, author) == []  # 180 days: not due yet
    run_job(server, at(published + 181 * DAY_MS))
    items = attention(http, author)
    assert [i["tree_id"] for i in items] == [tree_id]
    assert (
        "the workspace reviews trees every 180 days; it was last published on"
        in items[0]["flags"][0]["reason"]
    )

    r = http.post(f"/api/v1/trees/{tree_id}/review-done", headers=author.headers)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["flags_cleared"] == 1 and done["reviewed_by"] == author.id
    assert attention(http, author) == []
    meta = http.get(f"/sync/{tenant.id}/trees/treemeta:{tree_id[5:]}", headers=tenant.headers).json()
    assert meta["reviewed_at"] == done["reviewed_at"]
    # The next review falls due the workspace's interval after this one.
    assert done["next_review_due"] == (at(published) + timedelta(days=180)).date().isoformat()
    audit = http.get("/api/v1/audit?action=tree.reviewed", headers=tenant.headers).json()["items"]
    assert [a["actor"]["id"] for a in audit] == [author.id]


def test_review_interval_on_the_tree_and_workspace_settings(http, server, tenant):
    tree_id = publish(http, tenant, review_every_days=30)
    r = http.put("/api/v1/tenant/freshness", headers=tenant.headers, json={"review_interval_days": 0})
    assert r.status_code == 200 and r.json()["review_interval_days"] is None
    other = publish(http, tenant, title="No settings")
    published = int(time.time() * 1000)
    run_job(server, at(published + 31 * DAY_MS))
    items = attention(http, tenant)
    assert [i["tree_id"] for i in items] == [tree_id]  # the other has no interval now
    assert "every 30 days since it was last published on" in items[0]["flags"][0]["reason"]
    assert other not in {i["tree_id"] for i in items}
    # Publishing again answers the flag at once; so does archiving the tree.
    r = http.post(f"/api/v1/trees/{tree_id}/publish", headers=tenant.headers, json={})
    assert r.status_code == 201
    assert attention(http, tenant) == []
    run_job(server, at(published + 61 * DAY_MS))
    assert [i["tree_id"] for i in attention(http, tenant)] == [tree_id]
    assert http.delete(f"/api/v1/trees/{tree_id}", headers=tenant.headers).status_code == 200
    assert attention(http, tenant) == []


def test_rising_failures_are_flagged_with_the_figures_and_a_healthy_tree_is_not(http, server, tenant):
    failing = publish(http, tenant, title="Citrix VDA Not Registering")
    healthy = publish(http, tenant, title="Mapped drive missing")
    few = publish(http, tenant, title="Teams camera black")
    # The job runs 40 days after the publish: the last 30 days are all after it.
    today = int(time.time() * 1000) + 40 * DAY_MS
    # failing: 3 of 40 failed 70 days before the job, 9 of 20 in the last 30 days (and 4 open).
    record_sessions(http, tenant, failing, 70, today, {"resolved": 37, "escalated": 2, "unresolved": 1})
    record_sessions(
        http, tenant, failing, 20, today, {"resolved": 11, "escalated": 6, "unresolved": 3, None: 4}
    )
    # healthy: 4 of 20 before, 3 of 15 now: no rise.
    record_sessions(http, tenant, healthy, 70, today, {"resolved": 16, "escalated": 4})
    record_sessions(http, tenant, healthy, 20, today, {"resolved": 12, "unresolved": 3})
    # few: 0 of 10 before, 5 of 9 now: a rise, but under 10 completed sessions recently.
    record_sessions(http, tenant, few, 70, today, {"resolved": 10})
    record_sessions(http, tenant, few, 20, today, {"resolved": 4, "escalated": 5})

    run_job(server, at(today))
    items = attention(http, tenant)
    assert [i["tree_id"] for i in items] == [failing]
    flag = items[0]["flags"][0]
    assert flag["kind"] == "failing"
    assert flag["reason"] == (
        "Failed 9 of 20 sessions in the last 30 days (45%), 3 of 40 in the 90 days before (8%)."
    )
    assert flag["figures"]["recent"]["completed"] == 20 and flag["figures"]["before"]["failed"] == 3

    # A workspace that wants more evidence first: 25 sessions per window clears it next night.
    r = http.put("/api/v1/tenant/freshness", headers=tenant.headers, json={"failure_min_sessions": 25})
    assert r.status_code == 200 and r.json()["failure_min_sessions"] == 25
    run_job(server, at(today + DAY_MS))
    assert attention(http, tenant) == []


# --- who may see it ------------------------------------------------------------------------


def test_engineers_get_403_and_tenants_see_only_their_own_flags(http, server, make_tenant):
    a, b = make_tenant(), make_tenant()
    today = at(int(time.time() * 1000))
    tree_a = publish(http, a, review_by=(today + timedelta(days=1)).date().isoformat())
    publish(http, b, review_by="2099-01-01", title="Other tenant")
    run_job(server, today + timedelta(days=5))
    assert [i["tree_id"] for i in attention(http, a)] == [tree_a]
    assert attention(http, b) == []
    r = http.post(f"/api/v1/trees/{tree_a}/review-done", headers=b.headers)
    assert r.status_code == 404  # b has no such tree, and a's flag stays
    assert [i["tree_id"] for i in attention(http, a)] == [tree_a]

    engineer = a.add_user("engineer")
    for method, path in (("GET", "/api/v1/trees/attention"), ("POST", f"/api/v1/trees/{tree_a}/review-done")):
        r = http.request(method, path, headers=engineer.headers)
        assert r.status_code == 403 and r.json()["error"] == "forbidden", r.text
    # The flags' database is the server's: no device reads it over /sync.
    r = http.get(f"/sync/{a.id}/freshness/_all_docs", headers=a.headers)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert "freshness" not in http.get("/api/v1/me", headers=a.headers).json()["sync"]["databases"]
