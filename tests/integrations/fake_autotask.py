"""A fake Autotask PSA (REST API v1.0) on a loopback port, for the connector's tests.

Built from Kaseya's published Autotask developer help (the REST API pages on zones,
authentication, basic query calls, paging, thresholds, and the Tickets, TicketNotes,
TimeEntries, Resources, ResourceServiceDeskRoles and ThresholdInformation entities):

- One server plays the discovery host and every zone. `GET
  /atservicesrest/v1.0/zoneInformation?user=NAME` needs no credentials and answers
  `{zoneName, url, webUrl, ci}` for the known API user (404 with `errors` otherwise). Zone
  `n` lives under `/zone{n}/atservicesrest/`; the database sits in one zone (`zone`), and
  `move_to(n)` moves it: the old zone then refuses the API user with 401, as a zone that does
  not hold the user's database does.
- Every zone call needs the `ApiIntegrationcode`, `UserName` and `Secret` headers, checked
  exactly: anything else answers 401.
- `POST {Entity}/query` takes `{"filter": [{"op", "field", "value"}], "MaxRecords"}` (the ops
  used here: eq, contains; top-level items and-ed) and answers `{items, pageDetails: {count,
  requestCount, prevPageUrl, nextPageUrl}}`; `page_size` caps a page so tests can make the
  connector follow `nextPageUrl` (a GET on the same zone).
- Creates answer `{itemId}`; `GET Tickets/{id}` answers `{item}`, null for an unknown id.
  Requests that break a rule (a missing required field, an unknown company, queue, resource
  or ticket) answer 500 with `{"errors": [...]}`, as Autotask does.
- `fail(n, status, retry_after=)` makes the next n zone requests answer 429 (with
  `Retry-After` when given) or a 5xx without an errors list, like throttling and outages.

Everything received is recorded (`requests`, and the stored `tickets`, `notes`, `entries`).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.conftest import free_port

DISCOVERY = "/atservicesrest/v1.0/zoneInformation"
# One port per test process: a module's server is started once with the discovery URL, and
# each test's fresh fake listens there.
AT_PORT = free_port()
DISCOVERY_ENV = {"BRANCHLINE_AUTOTASK_ZONE_DISCOVERY_URL": f"http://127.0.0.1:{AT_PORT}/atservicesrest/"}
_ZONE_PATH = re.compile(r"^/zone(\d+)/atservicesrest/v1\.0/(.*)$")
STATUSES = {1: "New", 5: "Complete", 8: "In Progress", 12: "Waiting Customer"}


@dataclass
class Request:
    method: str
    path: str  # under v1.0/ for zone calls; the full path otherwise
    zone: int | None
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


def matches(record: dict[str, Any], filters: list[dict[str, Any]]) -> bool:
    for f in filters:
        op, name, want = f.get("op"), f.get("field"), f.get("value")
        have = record.get(name)
        if op == "eq":
            if have != want and str(have).lower() != str(want).lower():
                return False
        elif op == "contains":
            if not isinstance(have, str) or str(want).lower() not in have.lower():
                return False
        else:
            raise ValueError(f"unsupported op {op!r}")
    return True


@dataclass
class FakeAutotask:
    api_user: str = "branchline-api@contoso.example"
    secret: str = "s3cr3t-AT-value"
    integration_code: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ1"
    zone: int = 5
    companies: tuple[int, ...] = (174, 29683)
    queues: tuple[int, ...] = (8, 29682833)
    resources: list[dict[str, Any]] = field(default_factory=list)
    roles: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 500
    port: int = field(default_factory=free_port)
    requests: list[Request] = field(default_factory=list)
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(7001)
        self._pages: dict[str, tuple[list[dict[str, Any]], int]] = {}
        self._server: ThreadingHTTPServer | None = None

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def discovery_url(self) -> str:
        """What BRANCHLINE_AUTOTASK_ZONE_DISCOVERY_URL points at in the tests."""
        return f"{self.root}/atservicesrest/"

    def zone_url(self, zone: int | None = None) -> str:
        return f"{self.root}/zone{zone or self.zone}/atservicesrest/"

    def web_url(self, zone: int | None = None) -> str:
        return f"{self.root}/ww{zone or self.zone}/"

    def config(self, **extra: Any) -> dict[str, Any]:
        """A configuration body for PUT /api/v1/integrations/autotask that this fake accepts."""
        return {
            "api_user": self.api_user,
            "secret": self.secret,
            "integration_code": self.integration_code,
            "company": self.companies[0],
            "queue_id": self.queues[0],
            "resource_id": self.resources[0]["id"] if self.resources else None,
            **extra,
        }

    def fail(self, count: int, status: int, retry_after: int | None = None) -> None:
        with self._lock:
            self.failures.append(Failure(count, status, retry_after))

    def move_to(self, zone: int) -> None:
        """Autotask moves the database to another zone."""
        with self._lock:
            self.zone = zone

    def add_ticket(self, title: str, company: int = 174, status: int = 8) -> int:
        with self._lock:
            return self._store_ticket(
                {
                    "companyID": company,
                    "title": title,
                    "status": status,
                    "priority": 2,
                    "queueID": self.queues[0],
                }
            )

    def set_status(self, ticket_id: int, status: int) -> None:
        with self._lock:
            self.tickets[ticket_id]["status"] = status

    def calls(self, method: str, resource: str) -> list[Request]:
        """The zone requests of `method` to `resource` (the path under v1.0/, exactly)."""
        with self._lock:
            return [
                r for r in self.requests if r.zone is not None and r.method == method and r.path == resource
            ]

    def discoveries(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == DISCOVERY]

    # --- the server ----------------------------------------------------------------------------

    def start(self) -> FakeAutotask:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._serve(self, "GET")

            def do_POST(self) -> None:
                fake._serve(self, "POST")

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
        m = _ZONE_PATH.match(parts.path)
        req = Request(
            method,
            m.group(2) if m else parts.path,
            int(m.group(1)) if m else None,
            query,
            {k.lower(): v for k, v in h.headers.items()},
            body,
            time.time(),
        )
        with self._lock:
            self.requests.append(req)
            status, answer, headers = self._answer(req)
        req.status = status
        data = json.dumps(answer).encode() if answer is not None else b""
        h.send_response(status)
        h.send_header("content-type", "application/json; charset=utf-8")
        h.send_header("content-length", str(len(data)))
        for name, value in headers.items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(data)

    def _answer(self, req: Request) -> tuple[int, Any, dict[str, str]]:
        if req.zone is None:
            if req.method == "GET" and req.path == DISCOVERY:
                return self._discover(req.query.get("user", ""))
            return 404, {"errors": [f"No route for {req.path}."]}, {}
        if self.failures:
            failure = self.failures[0]
            failure.count -= 1
            if failure.count <= 0:
                self.failures.pop(0)
            headers = {"retry-after": str(failure.retry_after)} if failure.retry_after is not None else {}
            return failure.status, None, headers
        if req.zone != self.zone:
            return 401, None, {}
        h = req.headers
        if (
            h.get("apiintegrationcode") != self.integration_code
            or h.get("username") != self.api_user
            or h.get("secret") != self.secret
        ):
            return 401, None, {}
        return self._route(req)

    def _discover(self, user: str) -> tuple[int, Any, dict[str, str]]:
        if user.lower() != self.api_user.lower():
            return 404, {"errors": [f"Zone information could not be determined for user {user}."]}, {}
        return (
            200,
            {
                "zoneName": f"America West {self.zone}",
                "url": self.zone_url(),
                "webUrl": self.web_url(),
                "ci": 12345,
            },
            {},
        )

    def _route(self, req: Request) -> tuple[int, Any, dict[str, str]]:
        path = req.path.strip("/")
        route = (req.method, re.sub(r"/\d+", "/{id}", path))
        ids = [int(x) for x in re.findall(r"/(\d+)", "/" + path)]
        handlers = {
            ("GET", "ThresholdInformation"): lambda: (
                200,
                {
                    "externalRequestThreshold": 10000,
                    "requestThresholdTimeframe": 60,
                    "currentTimeframeRequestCount": len(self.requests),
                },
                {},
            ),
            ("POST", "Tickets"): lambda: self._create_ticket(req.body),
            ("GET", "Tickets/{id}"): lambda: (200, {"item": self.tickets.get(ids[0])}, {}),
            ("GET", "Tickets/entityInformation/fields"): self._ticket_fields,
            ("POST", "Tickets/{id}/Notes"): lambda: self._add_note(ids[0], req.body),
            ("POST", "TimeEntries"): lambda: self._add_entry(req.body),
        }
        queryable = {
            "Tickets": lambda: list(self.tickets.values()),
            "TicketNotes": lambda: [n for ns in self.notes.values() for n in ns],
            "TimeEntries": lambda: self.entries,
            "Resources": lambda: self.resources,
            "ResourceServiceDeskRoles": lambda: self.roles,
        }
        entity, _, rest = path.partition("/")
        if entity in queryable and req.method == "POST" and rest == "query":
            return self._query(entity, queryable[entity](), req.body)
        if entity in queryable and req.method == "GET" and rest == "query/next":
            return self._next(entity, req.query.get("paging", ""))
        handler = handlers.get(route)
        if handler is None:
            return 404, {"errors": [f"No route for {req.method} {path}."]}, {}
        return handler()

    # --- resources ------------------------------------------------------------------------------

    def _page(self, entity: str, rows: list[dict[str, Any]], size: int) -> tuple[int, Any, dict[str, str]]:
        chunk, rest = rows[:size], rows[size:]
        next_url = None
        if rest:
            token = f"p{next(self._ids)}"
            self._pages[token] = (rest, size)
            next_url = f"{self.zone_url()}v1.0/{entity}/query/next?paging={token}"
        details = {"count": len(chunk), "requestCount": size, "prevPageUrl": None, "nextPageUrl": next_url}
        return 200, {"items": chunk, "pageDetails": details}, {}

    def _query(self, entity: str, rows: list[dict[str, Any]], body: Any) -> tuple[int, Any, dict[str, str]]:
        body = body if isinstance(body, dict) else {}
        filters = body.get("filter")
        if not isinstance(filters, list) or not filters:
            return 500, {"errors": ["A query needs a filter."]}, {}
        try:
            found = [r for r in rows if matches(r, filters)]
        except ValueError as exc:
            return 500, {"errors": [str(exc)]}, {}
        size = min(int(body.get("MaxRecords") or 500), 500, self.page_size)
        return self._page(entity, found, size)

    def _next(self, entity: str, token: str) -> tuple[int, Any, dict[str, str]]:
        if token not in self._pages:
            return 404, {"errors": ["Unknown page."]}, {}
        rows, size = self._pages.pop(token)
        return self._page(entity, rows, size)

    def _ticket_fields(self) -> tuple[int, Any, dict[str, str]]:
        picklist = [{"value": str(v), "label": label, "isActive": True} for v, label in STATUSES.items()]
        return (
            200,
            {
                "fields": [
                    {"name": "status", "isPickList": True, "picklistValues": picklist},
                    {"name": "title", "isPickList": False},
                ]
            },
            {},
        )

    def _store_ticket(self, body: dict[str, Any]) -> int:
        ticket_id = next(self._ids)
        self.tickets[ticket_id] = {"id": ticket_id, "ticketNumber": f"T20261203.{ticket_id:04d}", **body}
        self.notes[ticket_id] = []
        return ticket_id

    def _create_ticket(self, body: Any) -> tuple[int, Any, dict[str, str]]:
        body = body if isinstance(body, dict) else {}
        errors = [
            f"{name} is required."
            for name in ("companyID", "title", "status", "priority", "dueDateTime")
            if body.get(name) in (None, "")
        ]
        if body.get("companyID") not in (None, "") and body["companyID"] not in self.companies:
            errors.append(f"companyID {body['companyID']} does not exist.")
        if body.get("queueID") is None and body.get("assignedResourceID") is None:
            errors.append("A ticket needs a queueID or an assigned resource.")
        elif body.get("queueID") is not None and body["queueID"] not in self.queues:
            errors.append(f"queueID {body['queueID']} does not exist.")
        if len(str(body.get("title") or "")) > 255:
            errors.append("title may be at most 255 characters.")
        if errors:
            return 500, {"errors": errors}, {}
        return 200, {"itemId": self._store_ticket(body)}, {}

    def _add_note(self, ticket_id: int, body: Any) -> tuple[int, Any, dict[str, str]]:
        body = body if isinstance(body, dict) else {}
        errors = [
            f"{name} is required."
            for name in ("description", "noteType", "publish", "title")
            if body.get(name) in (None, "")
        ]
        if ticket_id not in self.tickets:
            errors.append(f"ticketID {ticket_id} does not exist.")
        if len(str(body.get("description") or "")) > 32000:
            errors.append("description may be at most 32000 characters.")
        if body.get("publish") not in (None, 1, 2):
            errors.append("publish must be 1 (All Autotask Users) or 2 (Internal Only).")
        if errors:
            return 500, {"errors": errors}, {}
        note = {**body, "id": next(self._ids), "ticketID": ticket_id}
        self.notes[ticket_id].append(note)
        return 200, {"itemId": note["id"]}, {}

    def _add_entry(self, body: Any) -> tuple[int, Any, dict[str, str]]:
        body = body if isinstance(body, dict) else {}
        errors = [
            f"{name} is required."
            for name in ("resourceID", "roleID", "dateWorked", "summaryNotes")
            if body.get(name) in (None, "")
        ]
        if body.get("ticketID") not in self.tickets:
            errors.append(f"ticketID {body.get('ticketID')} does not exist.")
        if body.get("resourceID") is not None and body["resourceID"] not in {r["id"] for r in self.resources}:
            errors.append(f"resourceID {body['resourceID']} does not exist.")
        hours = body.get("hoursWorked")
        if not isinstance(hours, int | float) or not 0 < hours <= 24:
            errors.append("hoursWorked must be more than 0 and at most 24.")
        if errors:
            return 500, {"errors": errors}, {}
        entry = {**body, "id": next(self._ids)}
        self.entries.append(entry)
        return 200, {"itemId": entry["id"]}, {}
