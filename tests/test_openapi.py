"""The public contract as published: every route documented, every error in one shape."""
from __future__ import annotations

import warnings

from api.app import create_app
from api.settings import Settings

# The methods an OpenAPI 3 path item may hold (COPY, which CouchDB has, is not one).
OPENAPI_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def test_every_operation_has_a_docstring(tmp_path):
    spec = create_app(Settings(data_dir=tmp_path, secret_key="x" * 40)).openapi()
    undocumented = [f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method, op in ops.items()
                    if not (op.get("description") or "").strip()]
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
    for method, path, status in (("GET", "/api/v1/does-not-exist", 404), ("DELETE", "/api/v1/me", 405),
                                 ("PUT", "/healthz", 405)):
        r = http.request(method, path)
        assert r.status_code == status, (method, path, r.text)
        body = r.json()
        assert set(body) == {"error", "reason"} and body["reason"]
