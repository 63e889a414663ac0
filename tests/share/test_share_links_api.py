"""Read-only share links over HTTP: make, list, revoke, and the public page a link opens.

A real server per module, a fresh tenant per test. The page is fetched with no credentials
at all, as the client's IT contact would open it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.attachments.helpers import new_id, png, upload
from tests.conftest import Tenant
from tests.sessions.test_sessions_api import event, publish_tree, start

PAGE_HEADERS = {
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-robots-tag": "noindex, nofollow",
}


def make_link(http: httpx.Client, who, sid: str, status: int = 201, **body) -> dict:
    r = http.post(f"/api/v1/sessions/{sid}/share-links", headers=who.headers, json=body)
    assert r.status_code == status, r.text
    return r.json()


def revoke(http: httpx.Client, who, sid: str, link_id: str) -> int:
    return http.delete(f"/api/v1/sessions/{sid}/share-links/{link_id}", headers=who.headers).status_code


def listed(http: httpx.Client, who, sid: str) -> httpx.Response:
    return http.get(f"/api/v1/sessions/{sid}/share-links", headers=who.headers)


def anonymous(http: httpx.Client, url: str, **headers) -> httpx.Response:
    path = url[url.index("/share/") :]
    return http.get(path, headers=headers)


def audit_actions(http: httpx.Client, tenant: Tenant) -> list[dict]:
    r = http.get("/api/v1/audit", headers=tenant.headers, params={"limit": 200})
    assert r.status_code == 200, r.text
    return [e for e in r.json()["items"] if e["action"].startswith("share_link.")]


@pytest.fixture
def session(http, tenant):
    tree_id = publish_tree(http, tenant)
    sid = start(http, tenant, tree_id, ticket="T-77", title="VDA <b>07</b> down")["session_id"]
    note = "Client said <script>alert(1)</script> & more"
    event(http, tenant, sid, {"type": "note", "node_id": "scope", "note_id": "n1", "text": note})
    return sid


def test_a_link_shows_the_session_now_to_anyone_until_revoked(http, tenant, session):
    link = make_link(http, tenant, session)
    assert set(link) >= {"id", "url", "expires_at", "state"} and link["state"] == "active"
    token = link["url"].rsplit("/", 1)[1]
    assert len(token) >= 43  # 32 random bytes, base64url
    expires = datetime.fromisoformat(link["expires_at"].replace("Z", "+00:00"))
    assert abs(expires - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=1)

    r = anonymous(http, link["url"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    for name, value in PAGE_HEADERS.items():
        assert r.headers[name] == value
    assert "script-src" not in r.headers["content-security-policy"]
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert "Read-only view" in r.text and "T-77" in r.text
    # User text is escaped, never markup.
    assert "<script>alert(1)</script>" not in r.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert "<b>07</b>" not in r.text and "VDA &lt;b&gt;07&lt;/b&gt; down" in r.text

    # The page is the session as it is now: a later step shows up on the next view.
    event(http, tenant, session, {"type": "answered", "node_id": "scope", "answer": "yes"})
    assert "Scoped the issue to a single VDA." in anonymous(http, link["url"]).text

    links = listed(http, tenant, session).json()
    assert [x["id"] for x in links["items"]] == [link["id"]] and links["next_cursor"] is None
    assert links["items"][0]["first_viewed_at"] and "url" not in links["items"][0]
    assert token not in str(links)

    assert revoke(http, tenant, session, link["id"]) == 204
    r = anonymous(http, link["url"])
    assert r.status_code == 410 and "revoked" in r.text and "T-77" not in r.text
    for name, value in PAGE_HEADERS.items():
        assert r.headers[name] == value
    r = anonymous(http, link["url"], accept="application/json")
    assert r.status_code == 410 and r.json()["error"] == "link_revoked" and "revoked" in r.json()["reason"]
    # Revoking again changes nothing.
    assert revoke(http, tenant, session, link["id"]) == 204
    assert listed(http, tenant, session).json()["items"][0]["state"] == "revoked"

    # Created, viewed once (however many views), revoked once (the second revoke changed nothing).
    actions = [(e["action"], e["details"].get("link_id")) for e in audit_actions(http, tenant)]
    assert sorted(actions) == [
        ("share_link.created", link["id"]),
        ("share_link.revoked", link["id"]),
        ("share_link.viewed", link["id"]),
    ]
    viewed = [e for e in audit_actions(http, tenant) if e["action"] == "share_link.viewed"]
    assert len(viewed) == 1 and viewed[0]["actor"] == {"type": "share_link", "id": link["id"]}


def test_unknown_and_malformed_tokens_answer_the_same_404(http):
    for token in ("x" * 43, "short", "A" * 200, "a.b"):
        r = http.get(f"/share/{token}")
        assert r.status_code == 404, (token, r.status_code)
        assert "not valid" in r.text and r.headers["cache-control"] == "no-store"
    r = http.get("/share/" + "y" * 43, headers={"accept": "application/json"})
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_who_may_manage_links(http, tenant, session):
    engineer = tenant.add_user("engineer")
    teammate = tenant.add_user("engineer")
    admin = tenant.add_user("admin")
    viewer = tenant.add_user("viewer")
    # Shared with a teammate: they may run it, but reaching outside the team is the owner's call.
    header = http.get(f"/api/v1/sessions/{session}", headers=tenant.headers).json()["header"]
    r = http.patch(
        f"/api/v1/sessions/{session}",
        headers=tenant.headers,
        json={"_rev": header["_rev"], "shared_with": [teammate.id]},
    )
    assert r.status_code == 200, r.text
    for who in (engineer, teammate, viewer):
        r = http.post(f"/api/v1/sessions/{session}/share-links", headers=who.headers, json={})
        assert r.status_code == 403 and r.json()["error"] == "forbidden", r.text
        assert listed(http, who, session).status_code == 403
    link = make_link(http, admin, session, expires_in_days=30)
    assert revoke(http, engineer, session, link["id"]) == 403
    assert anonymous(http, link["url"]).status_code == 200
    # The engineer's own session: theirs to share.
    own = start(http, engineer, header["tree_id"])["session_id"]
    make_link(http, engineer, own, expires_in_days=1)
    # API keys may not make links (someone must answer for each).
    r = http.post("/api/v1/api-keys", headers=tenant.headers, json={"name": "k", "role": "admin"})
    as_key = {"Authorization": f"Bearer {r.json()['key']}"}
    r = http.post(f"/api/v1/sessions/{session}/share-links", headers=as_key, json={})
    assert r.status_code == 403


@pytest.mark.parametrize(
    "body, words",
    [
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": 91}, "expires_in_days"),
        ({"expires_in_days": "7"}, "expires_in_days"),
        ({"token": "mine"}, "token"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(http, tenant, session, body, words):
    r = http.post(f"/api/v1/sessions/{session}/share-links", headers=tenant.headers, json=body)
    assert r.status_code == 400 and words in r.text


def test_a_link_stops_when_its_maker_loses_access(http, tenant, session):
    engineer = tenant.add_user("engineer")
    tree_id = http.get(f"/api/v1/sessions/{session}", headers=tenant.headers).json()["header"]["tree_id"]
    sid = start(http, engineer, tree_id, ticket="T-9")["session_id"]
    link = make_link(http, engineer, sid)
    assert anonymous(http, link["url"]).status_code == 200
    r = http.patch(f"/api/v1/users/{engineer.id}", headers=tenant.headers, json={"active": False})
    assert r.status_code == 200, r.text
    r = anonymous(http, link["url"], accept="application/json")
    assert r.status_code == 410 and r.json()["error"] == "link_unavailable"


def test_images_are_inline_only_when_the_link_allows_it(http, tenant, session):
    event(http, tenant, session, {"type": "answered", "node_id": "scope", "answer": "yes"})
    r = upload(http, tenant, session, png(64, 40), name="studio.png", node_id="scope", record_event="true")
    assert r.status_code == 201, r.text
    plain = anonymous(http, make_link(http, tenant, session)["url"])
    with_images = anonymous(http, make_link(http, tenant, session, attachments=True)["url"])
    assert plain.status_code == with_images.status_code == 200
    assert "studio.png" not in plain.text and "data:image" not in plain.text
    assert "studio.png" in with_images.text and 'src="data:image/png;base64,' in with_images.text
    items = listed(http, tenant, session).json()["items"]
    assert sorted(x["attachments"] for x in items) == [False, True]


def test_tenant_isolation_a_token_shows_only_its_own_session(http, make_tenant):
    a, b = make_tenant(), make_tenant()
    sid_a = start(http, a, publish_tree(http, a), ticket="A-TICKET-1")["session_id"]
    tree_a = http.get(f"/api/v1/sessions/{sid_a}", headers=a.headers).json()["header"]["tree_id"]
    sid_a2 = start(http, a, tree_a, ticket="A-TICKET-2")["session_id"]
    sid_b = start(http, b, publish_tree(http, b), ticket="B-TICKET")["session_id"]
    link_a = make_link(http, a, sid_a)
    page = anonymous(http, link_a["url"]).text
    assert "A-TICKET-1" in page and "A-TICKET-2" not in page and "B-TICKET" not in page
    # Another tenant cannot list, make or revoke links of A's session.
    assert listed(http, b, sid_a).status_code in (403, 404)
    r = http.post(f"/api/v1/sessions/{sid_a}/share-links", headers=b.headers, json={})
    assert r.status_code in (403, 404)
    assert revoke(http, b, sid_a, link_a["id"]) in (403, 404)
    # A link id of one session does not revoke through another (even in the same tenant).
    assert revoke(http, a, sid_a2, link_a["id"]) == 404
    assert revoke(http, b, sid_b, link_a["id"]) == 404
    assert anonymous(http, link_a["url"]).status_code == 200
    # Nothing of the links reaches a device: the tenant's databases hold no share documents.
    for name, url in a.me["sync"]["databases"].items():
        rows = http.get(url[url.index("/sync/") :] + "/_all_docs", headers=a.headers).json()["rows"]
        assert not [r for r in rows if re.match(r"share(link|token):", r["id"])], name


def test_a_report_that_cannot_be_rendered_says_so_without_the_teams_details(http, tenant, session):
    # A header that arrived by sync pinning a tree version the server does not have (yet).
    header = http.get(f"/api/v1/sessions/{session}", headers=tenant.headers).json()["header"]
    sid = new_id()
    doc = {k: v for k, v in header.items() if k not in ("_id", "_rev", "id", "session_id", "history")}
    doc["tree_version"] = 99
    r = http.put(f"/sync/{tenant.id}/sessions/session:{sid}", headers=tenant.headers, json=doc)
    assert r.status_code == 201, r.text
    link = make_link(http, tenant, sid)
    r = anonymous(http, link["url"])
    assert r.status_code == 503 and "cannot be shown just now" in r.text
    assert "version" not in r.text and header["tree_id"] not in r.text
    assert r.headers["retry-after"] == "120" and r.headers["cache-control"] == "no-store"
