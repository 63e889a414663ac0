"""The OpenAPI document says what the server answers: errors in the one `{error, reason}` shape.

FastAPI documents a 422 with its own validation schema on every operation that takes input,
while the server answers invalid input with 400 `bad_request` (see `api.core.errors`), and it
leaves out the errors every authenticated or addressed operation can answer. A client
generated from the document (a PSA connector) would then expect the wrong status and shape.
`document_errors` rewrites the generated document once, from the routes themselves.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant

from .deps import get_principal

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["error", "reason"],
    "properties": {
        "error": {"type": "string", "description": "A stable machine-readable code, e.g. `not_found`."},
        "reason": {"type": "string", "description": "What was wrong and how to fix it, for people."},
        "details": {
            "type": "array",
            "items": {"type": "object"},
            "description": "For invalid input: one `{field, message}` per problem.",
        },
    },
}
_ERROR_REF = {"$ref": "#/components/schemas/Error"}

# Why each generic error status happens, shown in the documentation.
_GENERIC = {
    "400": "The request is invalid (a parameter or the body); `reason` says what to fix and "
    "`details` lists every problem.",
    "401": "No valid credentials: sign in again or check the API key.",
    "403": "Your role does not allow this.",
    "404": "No such resource in your tenant.",
    "429": "Too many requests: a rate limit was reached (per signed-in user, API key or client "
    "address, or this route's own); wait `Retry-After` seconds. Every route is limited.",
}


def error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}


def errors(described: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route's own error statuses, beyond those `document_errors` adds."""
    return {status: error_response(description) for status, description in described.items()}


def _needs_principal(dependant: Dependant) -> bool:
    return any(dep.call is get_principal or _needs_principal(dep) for dep in dependant.dependencies)


def _fastapi_validation_error(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return schema.get("$ref", "").endswith("/HTTPValidationError")


def _generic_statuses(route: Any, operation: dict[str, Any]) -> list[str]:
    """The error statuses any operation shaped like this one can answer."""
    statuses = ["429"]  # the edge counts every request (api/ratelimit), signed in or not
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.append("400")
    dependant = getattr(route, "dependant", None)
    if dependant is not None and _needs_principal(dependant):
        statuses += ["401", "403"]
    if any(p.get("in") == "path" for p in operation.get("parameters", ())):
        statuses.append("404")
    return statuses


def document_errors(schema: dict[str, Any], routes: list[Any]) -> dict[str, Any]:
    """Rewrite `schema` (FastAPI's generated document) in place, and return it."""
    by_operation = {
        (r.path_format, m.lower()): r for r in routing.iter_route_contexts(routes) for m in (r.methods or ())
    }
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            if _fastapi_validation_error(responses.get("422", {})):
                del responses["422"]
            route = by_operation.get((path, method))
            if route is None:
                continue
            for status in _generic_statuses(route, operation):
                responses.setdefault(status, error_response(_GENERIC[status]))
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["Error"] = ERROR_SCHEMA
    return schema


def install(app: FastAPI) -> None:
    """Make `app.openapi()` (and so `/openapi.json`) answer the rewritten document."""
    generate = app.openapi  # FastAPI's; it caches the document until the routes change

    def openapi() -> dict[str, Any]:
        schema = generate()
        if "Error" not in schema.get("components", {}).get("schemas", {}):
            document_errors(schema, app.routes)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
