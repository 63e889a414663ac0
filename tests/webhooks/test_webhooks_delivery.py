"""Webhooks end to end: a real server delivers to a real receiver in this process.

Signatures are checked with the Standard Webhooks reference library (`standardwebhooks`),
not with our own code. The receivers listen on 127.0.0.1, so this module's server allows
private targets; the refusal of such targets is tested in test_webhooks_ssrf.py.
"""

from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook

from tests.conftest import wait_until
from tests.sessions.test_sessions_api import event, publish_tree, start
from tests.webhooks.helpers import offline_session, payload, push, subscribe
from tests.webhooks.receiver import Receiver

SERVER_ENV = {
    "BRANCHLINE_WEBHOOK_ALLOW_PRIVATE": "true",
    # Retries every second or so: the tests watch a whole schedule in seconds.
    "BRANCHLINE_WEBHOOK_RETRY_SCHEDULE": "0.5,1,1,1,1,1,1,1",
}


def wait_failing(http, tenant, webhook_id) -> dict:
    """The subscription, once its retries are spent and it is marked failing."""

    def failing():
        sub = http.get(f"/api/v1/webhooks/{webhook_id}", headers=tenant.headers).json()
        return sub if sub["status"] == "failing" else None

    return wait_until(failing, timeout=30, message="the subscription to be failing")


def deliveries(http, tenant, webhook_id) -> list[dict]:
    r = http.get(f"/api/v1/webhooks/{webhook_id}/deliveries", headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_session_events_reach_a_real_receiver_signed_so_the_reference_library_verifies_them(
    http, tenant, receiver
):
    tree_id = publish_tree(http, tenant)
    hook = subscribe(http, tenant, receiver.url, ["session.started", "session.completed"])
    assert hook["secret"].startswith("whsec_")
    assert "secret" not in http.get(f"/api/v1/webhooks/{hook['id']}", headers=tenant.headers).json()

    sid = start(http, tenant, tree_id, ticket="T-77", title="VDA down")["session_id"]
    event(http, tenant, sid, {"type": "completed", "outcome": "resolved", "summary": "Restarted."})

    got = receiver.wait_for(2)
    verifier = Webhook(hook["secret"])
    bodies = [verifier.verify(r.body, r.headers) for r in got]  # raises on a bad signature
    # Up to eight deliveries of one subscription are in flight at once, so the two events may
    # arrive in either order (the README says so); each is there once.
    by_type = {b["type"]: b for b in bodies}
    assert sorted(by_type) == ["session.completed", "session.started"]
    started, completed = by_type["session.started"], by_type["session.completed"]
    assert started["data"]["session_id"] == sid and started["data"]["ticket"] == "T-77"
    assert completed["data"]["outcome"] == "resolved" and completed["data"]["title"] == "VDA down"
    assert all(set(b) == {"type", "timestamp", "data"} for b in bodies)
    assert len({r.headers["webhook-id"] for r in got}) == 2

    # A forged body fails verification with the same headers.
    [sent_started] = [r for r in got if b"session.started" in r.body]
    with pytest.raises(Exception, match="signature"):
        verifier.verify(sent_started.body.replace(b"T-77", b"T-78"), sent_started.headers)

    log = wait_until(
        lambda: (
            (d := deliveries(http, tenant, hook["id"])) and all(x["status"] == "delivered" for x in d) and d
        )
    )
    assert [d["event_type"] for d in log] == ["session.completed", "session.started"]  # newest first
    assert log[0]["response"] == {"status_code": 200, "body_excerpt": '{"ok": true}'}
    assert log[0]["request"]["headers"]["webhook-id"] == log[0]["msg_id"]


def test_a_session_recorded_offline_fires_when_it_syncs_and_tree_publishes_fire_too(http, tenant, receiver):
    tree_id = publish_tree(http, tenant)
    hook = subscribe(http, tenant, receiver.url, ["session.started", "session.completed", "tree.published"])
    sid, docs = offline_session(tenant, tree_id)
    push(http, tenant, docs)
    r = http.post(f"/api/v1/trees/{tree_id}/publish", headers=tenant.headers, json={"change_note": "v2"})
    assert r.status_code in (200, 201), r.text

    got = receiver.wait_for(3)
    verifier = Webhook(hook["secret"])
    by_type = {b["type"]: b for b in (verifier.verify(r.body, r.headers) for r in got)}
    assert by_type["session.completed"]["data"]["session_id"] == sid
    assert by_type["session.completed"]["data"]["summary"] == "Fixed offline."
    assert by_type["tree.published"]["data"]["version"] == 2
    assert by_type["tree.published"]["data"]["change_note"] == "v2"
    # The same documents pushed again (a device retrying) fire nothing new.
    r = http.post(f"/sync/{tenant.id}/sessions/_bulk_docs", headers=tenant.headers, json={"docs": docs})
    assert r.status_code == 201
    publish_again = http.post(f"/api/v1/trees/{tree_id}/publish", headers=tenant.headers, json={})
    assert publish_again.status_code in (200, 201)
    receiver.wait_for(4)
    assert len(receiver.of_type("session.completed")) == 1 and len(receiver.of_type("session.started")) == 1


def test_a_receiver_down_for_a_while_then_up_gets_every_event_once(http, tenant):
    receiver = Receiver()  # not started: connections to its port are refused
    tree_id = publish_tree(http, tenant)
    hook = subscribe(http, tenant, receiver.url, ["session.started", "session.completed"])
    sids = []
    for i in range(3):
        sid = start(http, tenant, tree_id, title=f"S{i}")["session_id"]
        event(http, tenant, sid, {"type": "completed", "outcome": "resolved"})
        sids.append(sid)
    sid, docs = offline_session(tenant, tree_id)
    push(http, tenant, docs)
    sids.append(sid)

    def retried():
        log = deliveries(http, tenant, hook["id"])
        return (
            len(log) == 8 and all(d["attempt_count"] >= 2 and d["status"] == "pending" for d in log) and log
        )

    log = wait_until(retried, timeout=20, message="every message failed twice")
    assert "could not connect" in log[0]["last_error"]
    receiver.start()
    try:
        got = receiver.wait_for(8)
        wait_until(lambda: all(d["status"] == "delivered" for d in deliveries(http, tenant, hook["id"])))
        ids = [r.headers["webhook-id"] for r in receiver.bodies()]
        assert len(ids) == len(set(ids)) == 8, ids
        verifier = Webhook(hook["secret"])
        seen = {(verifier.verify(r.body, r.headers)["data"]["session_id"], payload(r)["type"]) for r in got}
        assert seen == {(s, t) for s in sids for t in ("session.started", "session.completed")}
    finally:
        receiver.stop()


def test_spent_retries_mark_the_subscription_failing_and_enabling_it_again_delivers_the_queue(
    http, tenant, receiver
):
    receiver.status = 500
    receiver.answer = b"database is down"
    tree_id = publish_tree(http, tenant)
    hook = subscribe(http, tenant, receiver.url, ["session.started"])
    start(http, tenant, tree_id, title="first")

    sub = wait_failing(http, tenant, hook["id"])
    assert "500" in sub["last_error"] and sub["failing_since"]
    first = deliveries(http, tenant, hook["id"])[0]
    assert first["status"] == "failed" and first["attempt_count"] == 9
    assert first["response"] == {"status_code": 500, "body_excerpt": "database is down"}
    audit = http.get("/api/v1/audit", headers=tenant.headers, params={"action": "webhook.failing"}).json()
    assert [e["target"]["id"] for e in audit["items"]] == [hook["id"]]

    # While failing, new events queue without being sent.
    count = len(receiver.bodies())
    start(http, tenant, tree_id, title="second")
    wait_until(lambda: len(deliveries(http, tenant, hook["id"])) == 2)
    assert len(receiver.bodies()) == count

    receiver.status = 200
    r = http.patch(f"/api/v1/webhooks/{hook['id']}", headers=tenant.headers, json={"enabled": True})
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    wait_until(lambda: [x for x in receiver.bodies()[count:] if payload(x)["data"]["title"] == "second"])
    # The failed one waits for a manual retry, which keeps its webhook-id.
    r = http.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{first['id']}/retry", headers=tenant.headers)
    assert r.status_code == 202, r.text
    wait_until(lambda: deliveries(http, tenant, hook["id"])[-1]["status"] == "delivered")
    last = receiver.bodies()[-1]
    assert last.headers["webhook-id"] == first["msg_id"] and payload(last)["data"]["title"] == "first"


def test_a_manual_retry_is_sent_while_failing_and_its_success_resumes_the_subscription(
    http, tenant, receiver
):
    """An admin who fixed the receiver retries one failed delivery from the log: it goes out
    at once (it used to wait, queued, until deliveries were resumed by hand), and its success
    makes the subscription active again, so what queued meanwhile follows."""
    receiver.status = 500
    tree_id = publish_tree(http, tenant)
    hook = subscribe(http, tenant, receiver.url, ["session.started"])
    start(http, tenant, tree_id, title="first")

    wait_failing(http, tenant, hook["id"])
    first = deliveries(http, tenant, hook["id"])[0]
    start(http, tenant, tree_id, title="second")  # queues, not sent while failing
    wait_until(lambda: len(deliveries(http, tenant, hook["id"])) == 2)

    receiver.status = 200
    count = len(receiver.bodies())
    r = http.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{first['id']}/retry", headers=tenant.headers)
    assert r.status_code == 202, r.text
    titles = lambda: [payload(x)["data"]["title"] for x in receiver.bodies()[count:]]  # noqa: E731
    wait_until(lambda: "first" in titles(), message="the retried delivery to reach the receiver")
    wait_until(lambda: "second" in titles(), message="the queue to drain once the retry succeeded")
    sub = http.get(f"/api/v1/webhooks/{hook['id']}", headers=tenant.headers).json()
    assert sub["status"] == "active" and sub["failing_since"] is None


def test_a_test_message_answers_the_receivers_reply_and_redirects_are_not_followed(http, tenant, receiver):
    hook = subscribe(http, tenant, receiver.url, ["tree.published"])
    r = http.post(f"/api/v1/webhooks/{hook['id']}/test", headers=tenant.headers)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "delivered" and out["event_type"] == "webhook.test"
    assert out["response"]["status_code"] == 200
    Webhook(hook["secret"]).verify(receiver.bodies()[0].body, receiver.bodies()[0].headers)

    elsewhere = Receiver().start()
    try:
        receiver.location = elsewhere.url  # a redirect, e.g. towards an internal service
        out = http.post(f"/api/v1/webhooks/{hook['id']}/test", headers=tenant.headers).json()
        assert out["status"] == "failed" and out["response"]["status_code"] == 307
        assert "redirects are not followed" in out["last_error"]
        assert elsewhere.bodies() == []
    finally:
        elsewhere.stop()


def test_slack_and_teams_presets_post_a_readable_message(http, tenant, receiver):
    tree_id = publish_tree(http, tenant)
    slack = subscribe(http, tenant, receiver.url + "/slack", ["session.completed"], preset="slack")
    teams = subscribe(http, tenant, receiver.url + "/teams", ["session.completed"], preset="teams")
    sid = start(http, tenant, tree_id, ticket="T-5", title="Printer offline")["session_id"]
    event(http, tenant, sid, {"type": "completed", "outcome": "escalated", "summary": "Sent to vendor."})
    got = {r.path: r for r in receiver.wait_for(2)}
    text = "Session escalated: Printer offline (ticket T-5). Sent to vendor."
    assert payload(got["/hook/slack"]) == {"text": text}
    card = payload(got["/hook/teams"])["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert text in [b["text"] for b in card["content"]["body"]]
    Webhook(slack["secret"]).verify(got["/hook/slack"].body, got["/hook/slack"].headers)
    Webhook(teams["secret"]).verify(got["/hook/teams"].body, got["/hook/teams"].headers)


def test_crud_audit_and_the_webhooks_database_is_closed_to_sync(http, tenant, receiver):
    hook = subscribe(http, tenant, receiver.url, ["tree.published"], description="PSA bridge")
    r = http.patch(
        f"/api/v1/webhooks/{hook['id']}",
        headers=tenant.headers,
        json={"events": ["tree.published", "attachment.added"], "enabled": False},
    )
    assert r.status_code == 200 and r.json()["status"] == "disabled", r.text
    listed = http.get("/api/v1/webhooks", headers=tenant.headers).json()
    assert [w["id"] for w in listed["items"]] == [hook["id"]] and listed["next_cursor"] is None
    assert "secret" not in str(listed)
    r = http.post("/api/v1/webhooks", headers=tenant.headers, json={"url": receiver.url, "events": ["nope"]})
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    assert http.delete(f"/api/v1/webhooks/{hook['id']}", headers=tenant.headers).status_code == 200
    assert http.get(f"/api/v1/webhooks/{hook['id']}", headers=tenant.headers).status_code == 404
    actions = [e["action"] for e in http.get("/api/v1/audit", headers=tenant.headers).json()["items"]]
    assert {"webhook.created", "webhook.updated", "webhook.deleted"} <= set(actions)

    engineer = tenant.add_user("engineer")
    assert http.get("/api/v1/webhooks", headers=engineer.headers).status_code == 403
    assert "webhooks" not in http.get("/api/v1/me", headers=tenant.headers).json()["sync"]["databases"]
    assert "webhooks" not in http.get(f"/sync/{tenant.id}/_all_dbs", headers=tenant.headers).json()
    for path in ("webhooks/_all_docs", "webhooks"):
        r = http.get(f"/sync/{tenant.id}/{path}", headers=tenant.headers)
        assert r.status_code == 403 and r.json()["error"] == "forbidden", r.text
    r = http.post(
        f"/sync/{tenant.id}/webhooks/_bulk_docs",
        headers=tenant.headers,
        json={"docs": [{"_id": "whmsg:x:y", "type": "webhook_message"}]},
    )
    assert r.status_code == 403


def test_abandoned_sessions_and_uploaded_attachments_fire_their_events(http, tenant, receiver):
    import io

    from PIL import Image

    tree_id = publish_tree(http, tenant)
    hook = subscribe(http, tenant, receiver.url, ["session.abandoned", "attachment.added"])
    sid = start(http, tenant, tree_id, title="Scanner")["session_id"]
    png = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(png, "PNG")
    r = http.post(
        f"/api/v1/sessions/{sid}/attachments",
        headers={**tenant.headers, "Content-Type": "image/png"},
        # The event fires when the session records the attachment (here the server writes
        # that event; a phone writes it itself, offline too).
        params={"name": "error.png", "node_id": "scope", "record_event": "true"},
        content=png.getvalue(),
    )
    assert r.status_code == 201, r.text
    event(http, tenant, sid, {"type": "abandoned", "reason": "Customer cancelled."})
    verifier = Webhook(hook["secret"])
    got = {b["type"]: b for b in (verifier.verify(x.body, x.headers) for x in receiver.wait_for(2))}
    assert got["attachment.added"]["data"]["name"] == "error.png"
    assert got["attachment.added"]["data"]["attachment_id"] == r.json()["attachment_id"]
    assert got["attachment.added"]["data"]["title"] == "Scanner"
    assert got["session.abandoned"]["data"]["reason"] == "Customer cancelled."
