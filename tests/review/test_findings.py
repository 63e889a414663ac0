"""Regression tests for the security/correctness review of 2026-11-26.

Each test pins one finding of the review report and fails on the code as reviewed; it
passes once the finding is fixed. Names say what they pin.
"""

from __future__ import annotations

import base64
import json

import pytest

from tests.attachments.helpers import publish_tree, start_session
from tests.conftest import STRONG_PASSWORD, unique_email


def _couch_error(r) -> dict:
    body = r.json()
    assert isinstance(body, dict) and {"error", "reason"} <= set(body), r.text
    return body


# --- sync: malformed input must be a 4xx, never a 500 -------------------------------------------


@pytest.mark.parametrize("db", ["trees", "sessions", "clients"])
@pytest.mark.parametrize("bad_id", [[1], {"a": 1}])
def test_bulk_docs_with_a_non_string_id_is_refused_not_a_500(http, tenant, db, bad_id):
    # sync/http.py bulk_docs: `currents.get(docid)` with an unhashable _id raises TypeError.
    r = http.post(
        f"/sync/{tenant.id}/{db}/_bulk_docs", headers=tenant.headers, json={"docs": [{"_id": bad_id, "a": 1}]}
    )
    assert r.status_code < 500, r.text
    if r.status_code == 201:
        [result] = r.json()
        assert result.get("error") in ("illegal_docid", "bad_request"), result
    else:
        assert r.status_code == 400
        _couch_error(r)


@pytest.mark.parametrize("revs", [[{}], [["1-a"]]])
def test_revs_diff_with_non_string_revisions_is_a_400(http, tenant, revs):
    # sync/embedded.py revs_diff: dict.fromkeys(wanted) / SQLite binding on non-strings.
    r = http.post(f"/sync/{tenant.id}/trees/_revs_diff", headers=tenant.headers, json={"doc": revs})
    assert r.status_code == 400, r.text
    _couch_error(r)


def test_all_docs_with_a_limit_beyond_64_bits_is_a_400(http, tenant):
    # OverflowError: Python int too large to convert to SQLite INTEGER.
    r = http.get(
        f"/sync/{tenant.id}/trees/_all_docs",
        headers=tenant.headers,
        params={"limit": "99999999999999999999999"},
    )
    assert r.status_code == 400, r.text
    _couch_error(r)


@pytest.mark.parametrize("params", [{"endkey": "[1]"}, {"key": "{}"}])
def test_all_docs_with_non_string_keys_does_not_fail(http, tenant, params):
    # CouchDB answers these (non-string keys simply match no document id); here SQLite
    # refuses to bind a list/dict and the request is a 500.
    r = http.get(f"/sync/{tenant.id}/sessions/_all_docs", headers=tenant.headers, params=params)
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        _couch_error(r)


# --- sync policy: events are immutable and belong to their session's readers -----------------


def _event_of(http, tenant, owner):
    tree_id = publish_tree(http, tenant)
    sid = start_session(http, owner, tree_id)
    r = http.post(
        f"/api/v1/sessions/{sid}/events",
        headers=owner.headers,
        json={"type": "note", "node_id": "scope", "text": "the admin password is hunter2"},
    )
    assert r.status_code == 201, r.text
    return tree_id, sid, r.json()["event"]["_id"]


def test_engineer_cannot_attach_files_to_another_engineers_event_over_sync(http, tenant):
    # api/sessions/access.py _check_event returns early when the content (minus `_` keys,
    # so minus `_attachments`) is unchanged, before the user_id and session ACL checks.
    a, b = tenant.add_user("engineer"), tenant.add_user("engineer")
    _tree, _sid, evid = _event_of(http, tenant, a)
    sessions = f"/sync/{tenant.id}/sessions"
    rev = http.get(f"{sessions}/{evid}", headers=a.headers).json()["_rev"]
    r = http.put(
        f"{sessions}/{evid}/evil.txt",
        params={"rev": rev},
        content=b"injected",
        headers={**b.headers, "content-type": "text/plain"},
    )
    assert r.status_code == 403, r.text
    assert _couch_error(r)["error"] == "forbidden"


def test_engineer_cannot_rewrite_another_engineers_event_with_inline_attachments(http, tenant):
    a, b = tenant.add_user("engineer"), tenant.add_user("engineer")
    _tree, _sid, evid = _event_of(http, tenant, a)
    sessions = f"/sync/{tenant.id}/sessions"
    doc = http.get(f"{sessions}/{evid}", headers=a.headers).json()
    doc["_attachments"] = {"x.txt": {"content_type": "text/plain", "data": base64.b64encode(b"zz").decode()}}
    r = http.put(f"{sessions}/{evid}", json=doc, headers=b.headers)
    assert r.status_code == 403, r.text
    assert http.get(f"{sessions}/{evid}", headers=a.headers).json()["_rev"] == doc["_rev"]


def test_deleted_session_cannot_be_claimed_by_another_engineer_through_the_api(http, tenant):
    # POST /api/v1/sessions with session_id writes a header over the tombstone without
    # looking at it; the new owner then folds (and reads) the previous owner's events.
    a, b = tenant.add_user("engineer"), tenant.add_user("engineer")
    tree_id, sid, _evid = _event_of(http, tenant, a)
    sessions = f"/sync/{tenant.id}/sessions"
    header = http.get(f"{sessions}/session:{sid}", headers=a.headers).json()
    assert (
        http.delete(
            f"{sessions}/session:{sid}", params={"rev": header["_rev"]}, headers=a.headers
        ).status_code
        == 200
    )
    r = http.post("/api/v1/sessions", headers=b.headers, json={"tree_id": tree_id, "session_id": sid})
    assert r.status_code in (403, 409), r.text
    assert "hunter2" not in r.text


def test_deleted_session_cannot_be_claimed_by_another_engineer_over_sync(http, tenant):
    # SessionsRules._check_header treats a deleted header like a missing one.
    a, b = tenant.add_user("engineer"), tenant.add_user("engineer")
    tree_id, sid, _evid = _event_of(http, tenant, a)
    sessions = f"/sync/{tenant.id}/sessions"
    header = http.get(f"{sessions}/session:{sid}", headers=a.headers).json()
    assert (
        http.delete(
            f"{sessions}/session:{sid}", params={"rev": header["_rev"]}, headers=a.headers
        ).status_code
        == 200
    )
    r = http.put(
        f"{sessions}/session:{sid}",
        headers=b.headers,
        json={
            "type": "session",
            "schema_version": 1,
            "owner_id": b.id,
            "shared_with": [],
            "tree_id": tree_id,
            "tree_version": 1,
            "status": "in_progress",
        },
    )
    assert r.status_code == 403, r.text


def test_owner_receives_the_deletion_of_their_own_session_header(http, tenant):
    # SessionsRules.can_read judges a deleted header by the stored (deleted) header, finds
    # no ACL, and drops the tombstone from the owner's own _changes: their other devices
    # never learn that the session was deleted.
    a = tenant.add_user("engineer")
    tree_id = publish_tree(http, tenant)
    sid = start_session(http, a, tree_id)
    sessions = f"/sync/{tenant.id}/sessions"
    since = http.get(f"{sessions}/_changes", headers=a.headers).json()["last_seq"]
    header = http.get(f"{sessions}/session:{sid}", headers=a.headers).json()
    assert (
        http.delete(
            f"{sessions}/session:{sid}", params={"rev": header["_rev"]}, headers=a.headers
        ).status_code
        == 200
    )
    since_param = since if isinstance(since, str) else json.dumps(since)
    results = http.get(f"{sessions}/_changes", params={"since": since_param}, headers=a.headers).json()[
        "results"
    ]
    assert any(row["id"] == f"session:{sid}" and row.get("deleted") for row in results), results


# --- sync attachments are served like the API's: never as active content -----------------------


def test_sync_attachments_are_not_served_as_active_html(http, tenant):
    # An engineer stores an HTML attachment on a client document (every role reads
    # `clients`); att_get answers it as text/html from the app's own origin, without
    # nosniff, CSP or Content-Disposition: stored XSS for anyone whose browser sends
    # credentials (HTTP Basic is supported and prompted for).
    e = tenant.add_user("engineer")
    clients = f"/sync/{tenant.id}/clients"
    rev = http.put(
        f"{clients}/client:evil",
        headers=e.headers,
        json={"type": "client", "schema_version": 1, "name": "Evil"},
    ).json()["rev"]
    r = http.put(
        f"{clients}/client:evil/x.html",
        params={"rev": rev},
        content=b"<script>alert(1)</script>",
        headers={**e.headers, "content-type": "text/html"},
    )
    # Sync attachments now pass the uploads' content check: a type the bytes do not bear out
    # is refused, and nothing is stored.
    assert r.status_code == 403 and r.json()["error"] == "forbidden", r.text
    basic = "Basic " + base64.b64encode(f"{tenant.owner_email}:{tenant.password}".encode()).decode()
    assert http.get(f"{clients}/client:evil/x.html", headers={"Authorization": basic}).status_code == 404
    # What is accepted (the same script as plain text) is still served as inert content.
    r = http.put(
        f"{clients}/client:evil/x.txt",
        params={"rev": rev},
        content=b"<script>alert(1)</script>",
        headers={**e.headers, "content-type": "text/plain"},
    )
    assert r.status_code == 201, r.text
    r = http.get(f"{clients}/client:evil/x.txt", headers={"Authorization": basic})
    assert r.status_code == 200
    assert r.headers.get("x-content-type-options") == "nosniff"
    csp = r.headers.get("content-security-policy", "")
    disposition = r.headers.get("content-disposition", "")
    assert "sandbox" in csp or disposition.startswith("attachment"), dict(r.headers)


# --- users and API keys --------------------------------------------------------------------------


def test_deactivating_an_invited_user_voids_the_invitation(http, tenant):
    # api/users/service.py: an invitee is already inactive, so `active: false` changes
    # nothing, and accept_invite then sets active=True.
    inv = http.post(
        "/api/v1/users/invite",
        headers=tenant.headers,
        json={"email": unique_email("invitee"), "role": "engineer"},
    )
    assert inv.status_code == 201, inv.text
    inv = inv.json()
    r = http.patch(f"/api/v1/users/{inv['id']}", headers=tenant.headers, json={"active": False})
    assert r.status_code == 200, r.text
    r = http.post(
        "/api/v1/auth/accept-invite", json={"token": inv["invite_token"], "password": STRONG_PASSWORD}
    )
    assert r.status_code in (401, 403), r.text
    user = http.get(f"/api/v1/users/{inv['id']}", headers=tenant.headers).json()
    assert user["active"] is False


def test_a_key_created_with_an_api_key_works_or_is_refused(http, tenant):
    # create_key records created_by = "apikey:{id}", which principal_for_key then looks up
    # as a user, finds none, and answers 401 "creator no longer active" forever.
    key = http.post("/api/v1/api-keys", headers=tenant.headers, json={"name": "admin key", "role": "admin"})
    assert key.status_code == 201, key.text
    key_headers = {"Authorization": "Bearer " + key.json()["key"]}
    child = http.post("/api/v1/api-keys", headers=key_headers, json={"name": "child", "role": "engineer"})
    if child.status_code == 201:
        r = http.get("/api/v1/trees", headers={"Authorization": "Bearer " + child.json()["key"]})
        assert r.status_code == 200, r.text
    else:
        assert child.status_code == 403, child.text


# --- settings --------------------------------------------------------------------------------------


def test_an_empty_generated_secret_file_is_not_used_as_the_signing_key(tmp_path):
    # Settings.resolve_secret returns whatever secret.key holds, even "" (HS256 with an
    # empty key: anyone can mint access tokens). An interrupted first start leaves it so.
    from api.settings import Settings, SettingsError

    (tmp_path / "secret.key").write_text("\n")
    settings = Settings(data_dir=tmp_path, secret_key=None)
    try:
        secret = settings.resolve_secret()
    except SettingsError:
        return
    assert len(secret) >= 32


# --- request bodies: credentials first, and a ceiling ---------------------------------------------


def _raw_post(server, path: str, headers: str, body_part: bytes) -> str:
    """Send a request's head and only part of its body, then wait for the answer."""
    import socket

    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode() + body_part)
        answer = b""
        try:
            # Headers and body may arrive in separate packets: read until the declared length.
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
                head, sep, body = answer.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    None,
                )
                if sep and length is not None and len(body) >= length:
                    break
        except TimeoutError:
            if not answer:
                return "(no answer: the server waited for the rest of the body)"
        return answer.decode("latin-1")


def test_an_unauthenticated_body_is_refused_before_it_is_read(tenant, server):
    """Regression: the sync endpoints read the whole body before checking credentials, so
    anyone could make the server hold large bodies in memory. Now the answer comes while
    most of the body is still unsent."""
    answer = _raw_post(
        server,
        f"/sync/{tenant.id}/clients/_bulk_docs",
        "Content-Type: application/json\r\nContent-Length: 50000000\r\n",
        b'{"docs": [',
    )
    assert answer.startswith("HTTP/1.1 401"), answer[:200]


def test_a_body_over_the_ceiling_is_a_413(tenant, server):
    from sync.http import MAX_BODY

    # The declared length alone is refused, before any of the body is read.
    answer = _raw_post(
        server,
        f"/sync/{tenant.id}/clients/_bulk_docs",
        f"Authorization: Bearer {tenant.tokens['access_token']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {MAX_BODY + 1}\r\n",
        b"{}",
    )
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert '"too_large"' in answer
