"""`POST /api/v1/sessions/{id}/events` is answered directly (api/core/direct.py), past the
framework's routing and dependency machinery, and must answer exactly as its FastAPI
declaration would: a client (the PWA, a PSA connector) sees the same statuses, the same
error bodies and the same middleware (body limit, compression, security headers)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.sessions import posting
from api.settings import Settings
from tests.conftest import Tenant, run_async
from tests.sessions.test_sessions_api import publish_tree


@pytest.fixture
def clients(tmp_path: Path) -> Iterator[tuple[TestClient, TestClient, Tenant, str]]:
    """The whole app (edge, then the direct route) and the framework alone, on one context;
    a tenant whose owner has a session on a published tree."""
    app = create_app(Settings(data_dir=tmp_path, secret_key="k" * 40))
    with TestClient(app) as whole:
        tenant = Tenant(whole)
        tree_id = publish_tree(whole, tenant)
        started = whole.post("/api/v1/sessions", headers=tenant.headers, json={"tree_id": tree_id})
        sid = started.json()["session_id"]
        yield whole, TestClient(app.framework), tenant, sid


def _cases(tenant: Tenant, sid: str) -> list[tuple[str, str, dict[str, str], bytes]]:
    """(what, path, headers, body) of requests a client gets wrong, or right."""
    auth = tenant.headers
    json_type = {**auth, "Content-Type": "application/json"}
    path = f"/api/v1/sessions/{sid}/events"
    return [
        ("not JSON", path, json_type, b"{not json"),
        ("an array", path, json_type, b"[1, 2]"),
        ("a string", path, json_type, b'"note"'),
        ("no body", path, json_type, b""),
        ("no body, no type", path, auth, b""),
        ("another content type", path, {**auth, "Content-Type": "text/plain"}, b'{"type": "note"}'),
        ("a form", path, {**auth, "Content-Type": "application/x-www-form-urlencoded"}, b"type=note"),
        ("no credentials", path, {"Content-Type": "application/json"}, b'{"type": "note"}'),
        ("a bad token", path, {"Authorization": "Bearer nope", "Content-Type": "application/json"}, b"{}"),
        ("bad credentials and a bad body", path, {"Authorization": "Bearer nope"}, b"{not json"),
        ("an unknown event type", path, json_type, b'{"type": "teleported"}'),
        ("no such session", f"/api/v1/sessions/{'0' * 26}/events", json_type, b'{"type": "back"}'),
        ("nothing to undo", path, json_type, b'{"type": "back"}'),
        ("not offered", path, json_type, b'{"type": "answered", "node_id": "scope", "answer": "?"}'),
        # Found in review: the framework's order and parser, case by case.
        ("JSON without a content type", path, auth, b'{"type": "back"}'),
        ("bad credentials and unparsable JSON", path, {"Content-Type": "application/json"}, b"{not json"),
        ("a charset", path, {**auth, "Content-Type": "application/json; charset=utf-8"}, b'{"type": "back"}'),
        ("a +json type", path, {**auth, "Content-Type": "application/vnd.api+json"}, b'{"type": "back"}'),
        ("NaN", path, json_type, b'{"type": "note", "node_id": "scope", "text": NaN}'),
        ("a lone surrogate", path, json_type, b'{"type": "note", "node_id": "scope", "text": "\\ud800"}'),
        ("not UTF-8", path, json_type, b'{"type": "note", "text": "\xff\xfe\xfa"}'),
        ("UTF-16", path, json_type, '{"type": "back"}'.encode("utf-16")),
    ]


def test_every_error_is_the_one_the_framework_route_answers(clients):
    whole, framework, tenant, sid = clients
    for what, path, headers, body in _cases(tenant, sid):
        direct = whole.post(path, headers=headers, content=body)
        declared = framework.post(path, headers=headers, content=body)
        assert 400 <= direct.status_code < 500 or what == "UTF-16", (what, direct.status_code, direct.text)
        assert (direct.status_code, direct.json()) == (declared.status_code, declared.json()), what
        assert direct.headers["content-type"] == "application/json"
        assert set(direct.json()) >= {"error", "reason"}


def test_an_event_is_recorded_and_answered_as_the_framework_route_answers(clients):
    whole, framework, tenant, sid = clients
    path = f"/api/v1/sessions/{sid}/events"
    note = {"type": "note", "node_id": "scope"}
    direct = whole.post(path, headers=tenant.headers, json={**note, "text": "One."})
    declared = framework.post(path, headers=tenant.headers, json={**note, "text": "Two."})
    assert direct.status_code == declared.status_code == 201
    a, b = direct.json(), declared.json()
    assert set(a) == set(b) and a["current_node"] == b["current_node"] == "scope"
    assert [n["text"] for n in b["notes"]["scope"]] == ["One.", "Two."]
    # The edge's layers are around the direct route too.
    assert direct.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" in direct.headers


def test_a_large_answer_is_gzipped_and_a_body_over_the_ceiling_refused(clients):
    whole, _, tenant, sid = clients
    path = f"/api/v1/sessions/{sid}/events"
    for i in range(12):
        note = {"type": "note", "node_id": "scope", "text": f"Note {i}: " + "checked the broker " * 8}
        assert whole.post(path, headers=tenant.headers, json=note).status_code == 201
    raw = whole.post(
        path,
        headers={**tenant.headers, "Accept-Encoding": "gzip"},
        json={"type": "note", "node_id": "scope", "text": "Last."},
    )
    assert raw.status_code == 201 and raw.headers["content-encoding"] == "gzip"
    assert len(raw.json()["notes"]["scope"]) == 13  # httpx decoded it
    assert "accept-encoding" in raw.headers["vary"].lower()
    # A whole body, not a stream: its length announced, and smaller than what it decodes to.
    assert int(raw.headers["content-length"]) < len(raw.content)

    huge = {"type": "note", "node_id": "scope", "text": "x" * (2 * 1024 * 1024)}
    r = whole.post(path, headers=tenant.headers, json=huge)
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    notes = whole.get(f"/api/v1/sessions/{sid}", headers=tenant.headers).json()["notes"]["scope"]
    assert len(notes) == 13  # nothing of the refused body was stored


def test_an_unexpected_failure_is_a_logged_500_in_the_one_error_shape(clients, monkeypatch, caplog):
    whole, _, tenant, sid = clients

    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("a bug, not the client's mistake")

    monkeypatch.setattr(posting, "post_event", broken)
    with caplog.at_level(logging.ERROR, logger="branchline"):
        r = whole.post(f"/api/v1/sessions/{sid}/events", headers=tenant.headers, json={"type": "back"})
    assert r.status_code == 500 and r.json()["error"] == "internal_server_error"
    assert any("unhandled error on POST" in rec.getMessage() and rec.exc_info for rec in caplog.records)


def test_other_methods_and_paths_still_reach_the_framework(clients):
    whole, framework, tenant, sid = clients
    r = whole.get(f"/api/v1/sessions/{sid}/events", headers=tenant.headers)
    assert r.status_code == 405 and "POST" in r.headers["allow"]
    events = f"/api/v1/sessions/{sid}/events"
    for path in (f"{events}/extra", f"{events}/", "/api/v1/sessions//events"):
        direct = whole.post(path, headers=tenant.headers, json={"type": "back"})
        declared = framework.post(path, headers=tenant.headers, json={"type": "back"})
        assert direct.status_code >= 400 and direct.status_code != 201, path
        assert (direct.status_code, direct.json()) == (declared.status_code, declared.json()), path


def _gzip_level_flag(client: TestClient, method: str, path: str, **kwargs: Any) -> int:
    """The XFL byte of a gzipped answer's header: 4 when written at the fastest level, 0 at
    the default one (RFC 1952; Python's gzip sets it from the level)."""
    headers = {**kwargs.pop("headers"), "Accept-Encoding": "gzip"}
    with client.stream(method, path, headers=headers, **kwargs) as r:
        assert r.headers["content-encoding"] == "gzip"
        raw = b"".join(r.iter_raw())
    assert raw[:2] == b"\x1f\x8b"
    return raw[8]


def test_a_long_sessions_state_is_gzipped_at_the_fastest_level_only_when_answering_a_step(clients):
    """The state of a long session passes 32 KB; answered at every step, it is gzipped at
    the fastest level (a third of the CPU), while other answers that large keep level 6."""
    whole, _, tenant, sid = clients
    path = f"/api/v1/sessions/{sid}/events"
    text = "Checked the broker agent, its registration and the delivery group's power state. " * 3
    for _ in range(130):
        assert (
            whole.post(
                path, headers=tenant.headers, json={"type": "note", "node_id": "scope", "text": text}
            ).status_code
            == 201
        )
    state = whole.get(f"/api/v1/sessions/{sid}", headers=tenant.headers)
    assert len(state.content) > 32 * 1024
    note = {"type": "note", "node_id": "scope", "text": "Last."}
    assert _gzip_level_flag(whole, "POST", path, headers=tenant.headers, json=note) == 4
    assert _gzip_level_flag(whole, "GET", f"/api/v1/sessions/{sid}", headers=tenant.headers) == 0


def test_a_body_not_sent_as_json_is_told_how_to_send_it(clients):
    whole, _, tenant, sid = clients
    path = f"/api/v1/sessions/{sid}/events"
    form = {**tenant.headers, "Content-Type": "application/x-www-form-urlencoded"}
    for headers, sent in (
        (form, "Content-Type application/x-www-form-urlencoded"),
        (tenant.headers, "no Content-Type"),
    ):
        r = whole.post(path, headers=headers, content=b'{"type": "back"}')
        assert r.status_code == 400
        assert "Content-Type: application/json" in r.json()["reason"] and sent in r.json()["reason"]
    # Every route taking a JSON body says the same.
    r = whole.post("/api/v1/sessions", headers=form, content=b"tree_id=x")
    assert r.status_code == 400 and "Content-Type: application/json" in r.json()["reason"]


def test_a_byte_order_mark_is_read_as_the_framework_reads_it(clients):
    whole, _, tenant, sid = clients
    body = b"\xef\xbb\xbf" + b'{"type": "note", "node_id": "scope", "text": "With a BOM."}'
    headers = {**tenant.headers, "Content-Type": "application/json"}
    r = whole.post(f"/api/v1/sessions/{sid}/events", headers=headers, content=body)
    assert r.status_code == 201 and r.json()["event"]["text"] == "With a BOM."


def test_a_client_gone_mid_body_is_counted_as_the_clients_error_on_both_routes(tmp_path):
    """The request log counts answers by class; a phone dropping mid-upload is not a 5xx."""
    app = create_app(Settings(data_dir=tmp_path, secret_key="k" * 40))

    def call(asgi, path: str) -> list[dict]:
        sent: list[dict] = []

        async def receive() -> dict:
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "POST",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"100")],
            "client": ("127.0.0.1", 5000),
            "server": ("127.0.0.1", 80),
            "scheme": "http",
            "http_version": "1.1",
            "asgi": {"version": "3.0"},
        }
        run_async(asgi(scope, receive, send))
        return sent

    path = f"/api/v1/sessions/{'0' * 26}/events"
    call(app, path)
    assert app.request_stats.snapshot()["api"]["answers"] == {"4xx": 1}
    direct = call(app.direct_routes, path)
    framework = call(app.framework, path)
    assert direct[0]["status"] == framework[0]["status"] == 400


def test_under_a_root_path_the_route_is_still_answered_directly(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, secret_key="k" * 40))
    events = "/api/v1/sessions/01ABC/events"
    assert app.direct_routes._match({"type": "http", "method": "POST", "path": events, "root_path": ""})
    assert app.direct_routes._match(
        {"type": "http", "method": "POST", "path": "/x" + events, "root_path": "/x"}
    )
    assert not app.direct_routes._match(
        {"type": "http", "method": "POST", "path": "/xy" + events, "root_path": "/x"}
    )
