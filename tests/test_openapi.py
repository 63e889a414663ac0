"""The public contract as published: every route documented, every error in one shape."""
from __future__ import annotations

from api.app import create_app
from api.settings import Settings


def test_every_operation_has_a_docstring(tmp_path):
    spec = create_app(Settings(data_dir=tmp_path, secret_key="x" * 40)).openapi()
    undocumented = [f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method, op in ops.items()
                    if not (op.get("description") or "").strip()]
    assert not undocumented, f"routes without a docstring (it becomes the OpenAPI text): {undocumented}"
    assert spec["info"]["title"] == "Branchline" and "/api/v1/me" in spec["paths"]


def test_unknown_routes_and_methods_answer_the_one_error_shape(http):
    for method, path, status in (("GET", "/api/v1/does-not-exist", 404), ("DELETE", "/api/v1/me", 405),
                                 ("PUT", "/healthz", 405)):
        r = http.request(method, path)
        assert r.status_code == status, (method, path, r.text)
        body = r.json()
        assert set(body) == {"error", "reason"} and body["reason"]
