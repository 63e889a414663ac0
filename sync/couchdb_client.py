"""HTTP plumbing of the CouchDB backend: the `ibmcloudant` SDK, raw bytes, one error shape.

Every call goes through the SDK's `CloudantV1` service (its authenticator, retries, user
agent and TLS settings), but through its generic `prepare_request`/`send` rather than the
typed helpers: the sync layer needs documents passed through byte for byte (the typed
helpers drop `null` members and reshape `_revisions`), `open_revs` as JSON, and attachment
bytes untouched. Responses are streamed and parsed with orjson.

CouchDB's own errors become `sync.errors` exceptions with CouchDB's `error` and `reason`
kept, so a device sees the same `{error, reason}` whichever backend answers.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson
import requests
from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import BasicAuthenticator, NoAuthAuthenticator
from ibm_cloud_sdk_core.http_adapter import SSLHTTPAdapter
from ibmcloudant.cloudant_v1 import CloudantV1

from .errors import (
    BadRequest,
    BranchlineError,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    UnsupportedMediaType,
)

JSON = "application/json"

_BY_STATUS: dict[int, type[BranchlineError]] = {
    400: BadRequest,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
}


class CouchUnavailable(BranchlineError):
    """CouchDB could not be reached or refused Branchline's service account."""

    status, error = 503, "service_unavailable"


def doc_path(docid: str) -> str:
    """A document id as a URL path segment; `_design/` and `_local/` keep their slash."""
    for prefix in ("_design/", "_local/"):
        if docid.startswith(prefix):
            return prefix + quote(docid[len(prefix) :], safe="")
    return quote(docid, safe="")


def db_path(name: str) -> str:
    return "/" + quote(name, safe="")


def encode_param(value: Any) -> str:
    """Query values CouchDB reads as JSON (keys, `open_revs`, `atts_since`) stay JSON."""
    return orjson.dumps(value).decode()


class CouchClient:
    """One CouchDB server (or Cloudant account) as Branchline's service account."""

    def __init__(
        self, url: str, user: str | None = None, password: str | None = None, *, timeout: float = 60.0
    ) -> None:
        if user:
            authenticator = BasicAuthenticator(user, password or "")
        else:
            authenticator = NoAuthAuthenticator()
        self.url = url.rstrip("/")
        self.user = user
        self.timeout = timeout
        self.service = CloudantV1(authenticator=authenticator)
        self.service.set_service_url(self.url)
        self.service.set_default_headers({"Accept": JSON})
        # Plain request bodies: some CouchDB-compatible servers store a gzip-encoded
        # attachment upload as the compressed bytes.
        self.service.set_enable_gzip_compression(False)
        # The sync endpoints call us from a pool of worker threads (plus the change
        # watchers' long requests): keep enough connections to CouchDB open for them.
        adapter = SSLHTTPAdapter(pool_connections=4, pool_maxsize=64)
        self.service.http_client.mount("https://", adapter)
        self.service.http_client.mount("http://", adapter)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        raw: bytes | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        ok_statuses: tuple[int, ...] = (),
    ) -> tuple[int, Any, bytes]:
        """Send one request; `(status, headers, body bytes)` or a `sync.errors` exception.

        `body` is JSON-encoded with orjson (documents keep their `null` members); `raw`
        goes as is with `content_type`. Statuses in `ok_statuses` are returned, not raised.
        """
        hdrs = dict(headers or {})
        data: bytes | None = None
        if body is not None:
            data = orjson.dumps(body)
            hdrs["Content-Type"] = JSON
        elif raw is not None:
            data = raw
            hdrs["Content-Type"] = content_type or "application/octet-stream"
        req = self.service.prepare_request(method, path, headers=hdrs, params=params, data=data)
        try:
            res = self.service.send(req, stream=True, timeout=timeout or self.timeout)
        except ApiException as exc:
            response = exc.http_response
            if response is not None and response.status_code in ok_statuses:
                return response.status_code, response.headers, response.content
            raise self._error(exc) from None
        except requests.RequestException as exc:
            raise CouchUnavailable(
                f"CouchDB at {self.url} did not answer ({type(exc).__name__}); check "
                "BRANCHLINE_COUCHDB_URL and that CouchDB is running."
            ) from None
        response = res.get_result()
        if isinstance(response, requests.Response):
            return res.get_status_code(), res.get_headers(), response.content
        return res.get_status_code(), res.get_headers(), b""

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        _status, _headers, content = self.request(method, path, **kwargs)
        return orjson.loads(content) if content else None

    def _error(self, exc: ApiException) -> BranchlineError:
        response = exc.http_response
        status = exc.code or 500
        error, reason = None, None
        if response is not None:
            try:
                payload = orjson.loads(response.content)
                if isinstance(payload, dict):
                    error, reason = payload.get("error"), payload.get("reason")
            except orjson.JSONDecodeError:
                pass
        reason = str(reason or exc.message or f"CouchDB answered {status}")
        if status == 401:
            return CouchUnavailable(
                f"CouchDB refused Branchline's service account ({reason}); check "
                "BRANCHLINE_COUCHDB_USER and BRANCHLINE_COUCHDB_PASSWORD."
            )
        cls = _BY_STATUS.get(status)
        if cls is None:
            return BranchlineError(f"CouchDB answered {status}: {reason}", error="couchdb_error", status=502)
        return cls(reason, error=error or cls.error)

    def close(self) -> None:
        try:
            self.service.http_client.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass
