"""A fake ConnectWise PSA (Manage REST API 3.0) on a loopback port, for the connector's tests.

Built from ConnectWise's published developer documentation ("Manage REST API": the
developer guide's authentication, pagination, conditions and error-handling pages, and the
API reference of `service/tickets`, `service/tickets/{id}/notes`, `time/entries`,
`system/members` and `system/info`):

- Paths under `/v4_6_release/apis/3.0/`; every request needs `Authorization: Basic
  base64("{companyId}+{publicKey}:{privateKey}")` and the `clientId` header, checked
  exactly: wrong keys answer 401, a missing or unknown clientId 401 as well.
- Errors are `{code, message, errors: [{code, message, resource, field}]}`: a ticket without
  `summary`, `board` or `company` answers 400 `InvalidObject` naming the field; an unknown
  record 404 `NotFound`.
- Lists take `conditions` (the subset used here: `field contains "x"`, `field="x"`,
  `field=N`, joined by `and`), `page` (from 1) and `pageSize` (25 by default, 1000 at most)
  and carry a `Link` header with `rel="next"` while more pages follow.
- `fail(n, status, retry_after=)` makes the next n requests answer 429 (with `Retry-After`)
  or a 5xx, as ConnectWise's throttling and outages do.

Everything received is recorded (`requests`, and the stored `tickets`, `notes`, `entries`).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.conftest import free_port

PREFIX = "/v4_6_release/apis/3.0/"
_CLAUSE = re.compile(r'^\s*([\w/]+)\s*(contains|=)\s*(".*"|\d+)\s*$')


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    at: float
    status: int = 0


@dataclass
class Failure:
    count: int
    status: int
    retry_after: int | None


def _unquote(value: str) -> str | int:
    if value.startswith('"'):
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return int(value)


def _field(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("/"):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def matches(record: dict[str, Any], conditions: str) -> bool:
    """The conditions subset the connector sends, as ConnectWise evaluates it."""
    for clause in re.split(r"\s+and\s+", conditions.strip()) if conditions.strip() else []:
        m = _CLAUSE.match(clause)
        if not m:
            raise ValueError(clause)
        name, op, raw = m.groups()
        want, have = _unquote(raw), _field(record, name)
        if op == "contains":
            if not isinstance(have, str) or str(want).lower() not in have.lower():
                return False
        elif str(have).lower() != str(want).lower():
            return False
    return True


@dataclass
class FakeConnectWise:
    company_id: str = "branchlinemsp"
    public_key: str = "pubKEY123"
    private_key: str = "privKEY456"
    client_id: str = "7c4a9f1e-2b3d-4e5f-8a9b-0c1d2e3f4a5b"
    companies: tuple[str, ...] = ("Contoso", "Fabrikam")
    boards: tuple[str, ...] = ("Service Desk", "Projects")
    members: list[dict[str, Any]] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    requests: list[Request] = field(default_factory=list)
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._next_id = 1000
        self._server: ThreadingHTTPServer | None = None

    @property
    def site_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self, **extra: Any) -> dict[str, Any]:
        """A configuration body for PUT /api/v1/integrations/connectwise that this fake accepts."""
        return {
            "site_url": self.site_url,
            "company_id": self.company_id,
            "public_key": self.public_key,
            "private_key": self.private_key,
            "client_id": self.client_id,
            "board": "Service Desk",
            "status": "New",
            "company": "Contoso",
            **extra,
        }

    def fail(self, count: int, status: int, retry_after: int | None = None) -> None:
        with self._lock:
            self.failures.append(Failure(count, status, retry_after))

    def add_ticket(self, summary: str, company: str = "Contoso", status: str = "In Progress") -> int:
        with self._lock:
            return self._store_ticket(
                {
                    "summary": summary,
                    "company": {"identifier": company},
                    "board": {"name": "Service Desk"},
                    "status": {"name": status},
                }
            )

    def set_status(self, ticket_id: int, status: str) -> None:
        """A technician moves the ticket on in ConnectWise."""
        with self._lock:
            self.tickets[ticket_id]["status"] = {"name": status}

    def calls(self, method: str, resource: str) -> list[Request]:
        """The requests of `method` to `resource` (a path under the API prefix, exactly)."""
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path == PREFIX + resource]

    # --- the server ----------------------------------------------------------------------------

    def start(self) -> FakeConnectWise:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self, method: str) -> None:
                fake._serve(self, method)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(h.headers.get("content-length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        req = Request(
            method, parts.path, query, {k.lower(): v for k, v in h.headers.items()}, body, time.time()
        )
        with self._lock:
            self.requests.append(req)
            status, answer, headers = self._answer(req)
        req.status = status
        data = json.dumps(answer).encode()
        h.send_response(status)
        h.send_header("content-type", "application/json; charset=utf-8")
        h.send_header("content-length", str(len(data)))
        for name, value in headers.items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(data)

    def _answer(self, req: Request) -> tuple[int, Any, dict[str, str]]:
        if self.failures:
            failure = self.failures[0]
            failure.count -= 1
            if failure.count <= 0:
                self.failures.pop(0)
            headers = {"retry-after": str(failure.retry_after)} if failure.retry_after is not None else {}
            if failure.status == 429:
                return 429, {"code": "TooManyRequests", "message": "Rate limit exceeded."}, headers
            return (
                failure.status,
                {"code": "ServiceUnavailable", "message": "The service is unavailable."},
                headers,
            )
        if not req.path.startswith(PREFIX):
            return 404, {"code": "NotFound", "message": f"No route for {req.path}."}, {}
        expected = (
            "Basic "
            + base64.b64encode(f"{self.company_id}+{self.public_key}:{self.private_key}".encode()).decode()
        )
        if req.headers.get("authorization") != expected:
            return (
                401,
                {"code": "Unauthorized", "message": "Authentication failed: check the API member's keys."},
                {},
            )
        if req.headers.get("clientid") != self.client_id:
            return 401, {"code": "Unauthorized", "message": "A valid clientId header is required."}, {}
        path = req.path[len(PREFIX) :].strip("/")
        route = (req.method, re.sub(r"\d+", "{id}", path))
        ids = [int(x) for x in re.findall(r"\d+", path)]
        handlers = {
            ("GET", "service/tickets"): lambda: self._list(req, list(self.tickets.values())),
            ("POST", "service/tickets"): lambda: self._create_ticket(req.body),
            ("GET", "service/tickets/{id}"): lambda: self._ticket(ids[0]),
            ("GET", "service/tickets/{id}/notes"): lambda: self._notes(req, ids[0]),
            ("POST", "service/tickets/{id}/notes"): lambda: self._add_note(ids[0], req.body),
            ("GET", "time/entries"): lambda: self._list(req, self.entries),
            ("POST", "time/entries"): lambda: self._add_entry(req.body),
            ("GET", "system/members"): lambda: self._list(req, self.members),
            ("GET", "system/info"): lambda: (200, {"version": "v2026.1.12345", "isCloud": True}, {}),
        }
        handler = handlers.get(route)
        if handler is None:
            return 404, {"code": "NotFound", "message": f"No route for {req.method} {path}."}, {}
        return handler()

    # --- resources ------------------------------------------------------------------------------

    def _invalid(self, resource: str, problems: list[tuple[str, str]]) -> tuple[int, Any, dict[str, str]]:
        errors = [
            {"code": code, "message": msg, "resource": resource, "field": fld}
            for fld, code, msg in [
                (f, "NullValue" if "required" in m else "InvalidValue", m) for f, m in problems
            ]
        ]
        return (
            400,
            {"code": "InvalidObject", "message": f"{resource} object is invalid", "errors": errors},
            {},
        )

    def _list(self, req: Request, rows: list[dict[str, Any]]) -> tuple[int, Any, dict[str, str]]:
        try:
            found = [r for r in rows if matches(r, req.query.get("conditions", ""))]
        except ValueError as exc:
            return 400, {"code": "InvalidObject", "message": f"Invalid conditions: {exc}", "errors": []}, {}
        page = max(1, int(req.query.get("page", 1)))
        size = min(1000, max(1, int(req.query.get("pageSize", 25))))
        chunk = found[(page - 1) * size : page * size]
        headers = {}
        if page * size < len(found):
            query = {**req.query, "page": page + 1, "pageSize": size}
            headers["link"] = f'<{self.site_url}{req.path}?{urlencode(query)}>; rel="next"'
        return 200, chunk, headers

    def _store_ticket(self, body: dict[str, Any]) -> int:
        self._next_id += 1
        ticket = {"id": self._next_id, **body}
        ticket.setdefault("status", {"name": "New"})
        self.tickets[self._next_id] = ticket
        self.notes[self._next_id] = []
        return self._next_id

    def _create_ticket(self, body: Any) -> tuple[int, Any, dict[str, str]]:
        body = body if isinstance(body, dict) else {}
        problems = []
        if not str(body.get("summary") or "").strip():
            problems.append(("summary", "The summary field is required."))
        elif len(body["summary"]) > 100:
            problems.append(("summary", "The summary may be at most 100 characters."))
        board = (body.get("board") or {}).get("name") or (body.get("board") or {}).get("id")
        if not board:
            problems.append(("board", "The board field is required."))
        elif board not in self.boards:
            problems.append(("board", f"Board {board!r} was not found."))
        company = (body.get("company") or {}).get("identifier") or (body.get("company") or {}).get("id")
        if not company:
            problems.append(("company", "The company field is required."))
        elif company not in self.companies:
            problems.append(("company", f"Company {company!r} was not found."))
        if problems:
            return self._invalid("ticket", problems)
        ticket_id = self._store_ticket(body)
        return 201, self.tickets[ticket_id], {}

    def _ticket(self, ticket_id: int) -> tuple[int, Any, dict[str, str]]:
        if ticket_id not in self.tickets:
            return 404, {"code": "NotFound", "message": f"Ticket with id {ticket_id} not found"}, {}
        return 200, self.tickets[ticket_id], {}

    def _notes(self, req: Request, ticket_id: int) -> tuple[int, Any, dict[str, str]]:
        if ticket_id not in self.tickets:
            return self._ticket(ticket_id)
        return self._list(req, self.notes[ticket_id])

    def _add_note(self, ticket_id: int, body: Any) -> tuple[int, Any, dict[str, str]]:
        if ticket_id not in self.tickets:
            return self._ticket(ticket_id)
        body = body if isinstance(body, dict) else {}
        if not str(body.get("text") or "").strip():
            return self._invalid("ticketNote", [("text", "The text field is required.")])
        if not (
            body.get("detailDescriptionFlag")
            or body.get("internalAnalysisFlag")
            or body.get("resolutionFlag")
        ):
            return self._invalid(
                "ticketNote", [("detailDescriptionFlag", "A note needs one of its flags set.")]
            )
        self._next_id += 1
        note = {"id": self._next_id, "ticketId": ticket_id, **body}
        self.notes[ticket_id].append(note)
        return 201, note, {}

    def _add_entry(self, body: Any) -> tuple[int, Any, dict[str, str]]:
        body = body if isinstance(body, dict) else {}
        problems = [
            (f, f"The {f} field is required.")
            for f in ("chargeToId", "chargeToType", "timeStart")
            if body.get(f) in (None, "")
        ]
        if (
            not problems
            and body["chargeToType"] == "ServiceTicket"
            and body["chargeToId"] not in self.tickets
        ):
            problems.append(("chargeToId", f"Ticket {body['chargeToId']} was not found."))
        member = (body.get("member") or {}).get("identifier")
        if member and member not in {m["identifier"] for m in self.members}:
            problems.append(("member", f"Member {member!r} was not found."))
        if problems:
            return self._invalid("timeEntry", problems)
        self._next_id += 1
        entry = {"id": self._next_id, **body}
        self.entries.append(entry)
        return 201, entry, {}
