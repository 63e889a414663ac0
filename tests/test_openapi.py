"""The public contract as published: every route documented, every error in one shape."""

from __future__ import annotations

import warnings

from api.app import create_app
from api.settings import Settings

# The methods an OpenAPI 3 path item may hold (COPY, which CouchDB has, is not one).
OPENAPI_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def test_every_operation_has_a_docstring(tmp_path):
    spec = create_app(Settings(data_dir=tmp_path, secret_key="x" * 40)).openapi()
    undocumented = [
        f"{method.upper()} {path}"
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if not (op.get("description") or "").strip()
    ]
    assert not undocumented, f"routes without a docstring (it becomes the OpenAPI text): {undocumented}"
    assert spec["info"]["title"] == "Branchline" and "/api/v1/me" in spec["paths"]


def test_operation_ids_are_unique_and_methods_valid(tmp_path):
    # Code generators for PSA connectors name client methods by operation id: a duplicate
    # (FastAPI warns about it while building the document) breaks them.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spec = create_app(Settings(data_dir=tmp_path, secret_key="x" * 40)).openapi()
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert {m for ops in spec["paths"].values() for m in ops} <= OPENAPI_METHODS


def test_unknown_routes_and_methods_answer_the_one_error_shape(http):
    for method, path, status in (
        ("GET", "/api/v1/does-not-exist", 404),
        # Not a 405 that "allows ." (only the app shell's GET fallback matched these paths).
        ("POST", "/api/v1/does-not-exist", 404),
        ("POST", "/api/v1/sessions//events", 404),
        ("DELETE", "/api/v1/nothing/here", 404),
        ("DELETE", "/api/v1/me", 405),
        ("PUT", "/healthz", 405),
    ):
        r = http.request(method, path)
        assert r.status_code == status, (method, path, r.text)
        body = r.json()
        assert set(body) == {"error", "reason"} and body["reason"]
        if status == 404:
            assert body["reason"] == f"No route for {method} {path}. See /docs for the API."
        else:
            assert r.headers["allow"] and r.headers["allow"] in body["reason"]


def _spec(tmp_path):
    return create_app(Settings(data_dir=tmp_path, secret_key="x" * 40)).openapi()


def test_invalid_input_is_documented_as_the_400_the_server_answers(tmp_path, http):
    # FastAPI documents 422 with its own schema; the server answers 400 `bad_request`. A 422
    # a route documents itself (a domain proof that DNS does not confirm) has the one shape.
    spec = _spec(tmp_path)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    error = {"$ref": "#/components/schemas/Error"}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if op.get("parameters") or op.get("requestBody"):
                unprocessable = op["responses"].get("422")
                assert (
                    unprocessable is None or unprocessable["content"]["application/json"]["schema"] == error
                ), (
                    method,
                    path,
                )
                assert op["responses"]["400"]["content"]["application/json"]["schema"] == error, (
                    method,
                    path,
                )
    login = spec["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert {"400", "401", "429"} <= set(login)
    # The rate limits count every request, so every operation may answer 429 (before, only
    # signed-in ones said so, and the SSO callback's 429 broke the contract).
    assert [
        (m, p) for p, ops in spec["paths"].items() for m, op in ops.items() if "429" not in op["responses"]
    ] == []
    r = http.post("/api/v1/auth/login", json={"email": "a@example.com"})
    assert r.status_code == 400 and r.json()["error"] == "bad_request" and r.json()["details"]


def test_the_sync_protocol_is_described_not_listed_as_malformed_operations(tmp_path):
    spec = _spec(tmp_path)
    assert not [p for p in spec["paths"] if p.startswith("/sync/")]
    assert "/sync/{tenant_id}/" in spec["info"]["description"] and "_bulk_docs" in spec["info"]["description"]


def test_405_names_every_method_of_the_resource_in_allow(http):
    # One FastAPI route per method: Starlette's own 405 named only the first route's method.
    for method, path, allow in (
        ("OPTIONS", "/api/v1/me", "GET, PATCH"),
        ("PUT", "/api/v1/users/u1/invite", "POST, DELETE"),
        ("OPTIONS", "/api/v1/trees/categories", "GET"),
        ("GET", "/api/v1/starter-library/load", "POST"),
    ):
        r = http.request(method, path)
        assert r.status_code == 405, (method, path, r.text)
        assert r.headers["allow"] == allow, (method, path)
        assert r.json()["error"] == "method_not_allowed" and allow in r.json()["reason"]
