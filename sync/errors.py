"""The one error hierarchy of Branchline, in CouchDB's vocabulary.

Every error a user can cause is one of these. The API and the sync endpoints render them
the same way: JSON `{"error": ..., "reason": ...}` with the matching HTTP status, so the
PWA handles API and sync errors alike. `reason` says what was wrong and how to fix it.
"""

from __future__ import annotations

from typing import Any

# What a client is told when the server itself failed (never for a user's mistake).
UNEXPECTED_REASON = (
    "The server failed unexpectedly; nothing was changed by this request. "
    "Try again, and report it if it persists."
)


class BranchlineError(Exception):
    status: int = 500
    error: str = "internal_server_error"

    def __init__(
        self,
        reason: str,
        *,
        error: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        if error is not None:
            self.error = error
        if status is not None:
            self.status = status
        self.headers = headers or {}
        self.details = details

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.error, "reason": self.reason}
        if self.details is not None:
            out["details"] = self.details
        return out


class BadRequest(BranchlineError):
    status, error = 400, "bad_request"


class Unauthorized(BranchlineError):
    status, error = 401, "unauthorized"


class Forbidden(BranchlineError):
    status, error = 403, "forbidden"


class NotFound(BranchlineError):
    status, error = 404, "not_found"


class MethodNotAllowed(BranchlineError):
    status, error = 405, "method_not_allowed"


class Conflict(BranchlineError):
    status, error = 409, "conflict"


class PreconditionFailed(BranchlineError):
    status, error = 412, "file_exists"


class PayloadTooLarge(BranchlineError):
    status, error = 413, "too_large"


class UnsupportedMediaType(BranchlineError):
    status, error = 415, "bad_content_type"


class Unprocessable(BranchlineError):
    status, error = 422, "invalid"


class TooManyRequests(BranchlineError):
    status, error = 429, "too_many_requests"


class NotImplementedHere(BranchlineError):
    """A CouchDB feature that needs server-side JavaScript (views, filter functions)."""

    status, error = 501, "not_implemented"
