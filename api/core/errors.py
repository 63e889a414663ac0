"""One exception handler, one JSON error shape: `{"error", "reason"}` with the right status.

The error classes themselves live in `sync.errors` so the sync endpoints and the API share
them; this module maps everything else (validation errors, unknown routes, crashes) onto the
same shape.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, routing
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from sync.errors import (  # noqa: F401  (re-exported for feature code)
    UNEXPECTED_REASON,
    BadRequest,
    BranchlineError,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
    UnsupportedMediaType,
)

from . import openapi
from .responses import JSONAnswer

log = logging.getLogger("branchline")

_STATUS_ERRORS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "bad_content_type",
    422: "invalid",
    429: "too_many_requests",
}


def error_response(
    status: int, error: str, reason: str, headers: dict[str, str] | None = None, details=None
) -> JSONAnswer:
    body = {"error": error, "reason": reason}
    if details is not None:
        body["details"] = details
    return JSONAnswer(body, status_code=status, headers=headers)


# The methods an `Allow` header may name (COPY belongs to the CouchDB sync protocol only).
_HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "COPY")


def allowed_methods(request: Request) -> list[str]:
    """The methods the resource at this request's path answers, for a 405's `Allow` header.

    The resource is the path template of the first route (in routing order) whose path
    matches, so `/api/v1/trees/categories` is the categories list even though
    `/api/v1/trees/{tree_id}` would match it too; its methods are those of every route
    with that template (FastAPI makes one route per method, and Starlette's own 405 names
    only the first route's). A route whose endpoint has `reserved` path prefixes (the
    app-shell fallback) does not serve paths under them.
    """
    path = request.url.path
    matching = [
        r
        for r in routing.iter_route_contexts(request.app.router.routes)
        if not path.startswith(getattr(getattr(r, "endpoint", None), "reserved", ()))
        and r.matches(request.scope)[0] != Match.NONE
    ]
    if not matching:
        return []
    template = matching[0].path_format
    methods = {m for r in matching if r.path_format == template for m in (r.methods or ())}
    return [m for m in _HTTP_METHODS if m in methods]


def method_not_allowed(request: Request) -> JSONAnswer:
    allow = ", ".join(allowed_methods(request))
    return error_response(
        405,
        "method_not_allowed",
        f"{request.method} is not allowed on {request.url.path}; it allows {allow}. See /docs for the API.",
        headers={"Allow": allow},
    )


def invalid(problems: list[dict[str, str]]) -> BadRequest:
    """The 400 for a request whose parts fail validation: each problem is `{field, message}`;
    the reason names the first, `details` lists them all."""
    first = problems[0] if problems else {"field": "body", "message": "is invalid"}
    reason = f"{first['field']}: {first['message']}"
    if len(problems) > 1:
        reason += f" (and {len(problems) - 1} more problem(s); see details)"
    return BadRequest(reason + ". Fix the request and send it again.", details=problems)


def is_json_type(content_type: str | None) -> bool:
    """Whether a Content-Type names JSON, as the framework decides to parse a body."""
    kind, _, subtype = (content_type or "").split(";", 1)[0].strip().lower().partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


def not_json_body(content_type: str | None) -> str:
    """The problem with a body the route takes as JSON but that was not sent as JSON: the
    framework's own words ("Input should be a valid dictionary") do not say what to change."""
    sent = f"Content-Type {content_type}" if content_type else "no Content-Type"
    return f"send it as JSON with Content-Type: application/json (this request had {sent})"


def _problems(exc: RequestValidationError, content_type: str | None) -> list[dict[str, str]]:
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        where = ".".join(loc) or "body"
        msg = err.get("msg", "is invalid")
        if err.get("type") == "json_invalid":
            # Its location is a character position, not a field.
            where, msg = "body", "the request body is not valid JSON"
        elif (
            err.get("type") != "missing"
            and tuple(err.get("loc", ())) == ("body",)
            and not is_json_type(content_type)
        ):
            msg = not_json_body(content_type)
        problems.append({"field": where, "message": msg})
    return problems


def install_error_handlers(app: FastAPI) -> None:
    """The handlers, and the OpenAPI document describing what they answer (installed
    together so the two cannot drift apart)."""
    openapi.install(app)

    @app.exception_handler(BranchlineError)
    async def _branchline(request: Request, exc: BranchlineError):
        return JSONAnswer(exc.body(), status_code=exc.status, headers=exc.headers or None)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        error = invalid(_problems(exc, request.headers.get("content-type")))
        return error_response(error.status, error.error, error.reason, details=error.details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 405:
            if allowed_methods(request):
                return method_not_allowed(request)
            # Only the app shell's GET fallback matched, which does not serve API paths:
            # there is no resource here at all, and "it allows ." told the caller nothing.
            return error_response(
                404, "not_found", f"No route for {request.method} {request.url.path}. See /docs for the API."
            )
        error = _STATUS_ERRORS.get(exc.status_code, "error")
        reason = exc.detail if isinstance(exc.detail, str) else "Request failed."
        if exc.status_code == 404:
            reason = f"No route for {request.method} {request.url.path}. See /docs for the API."
        return error_response(exc.status_code, error, reason, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_server_error", UNEXPECTED_REASON)
