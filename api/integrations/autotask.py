"""Autotask PSA (Kaseya, formerly Datto) over its REST API v1.0.

Each part follows a page of Kaseya's Autotask developer help (the REST API section):

- Zones ("Finding your Autotask zone" / the REST `ZoneInformation` call): an Autotask
  database lives in one zone. `GET {discovery}/v1.0/zoneInformation?user={api user}`, sent
  to the documented discovery host without credentials, answers `{zoneName, url, webUrl,
  ci}`; every later call goes to `{url}v1.0/...`. The zone is kept per tenant (the connector
  status document) and discovered again when the kept zone refuses the API user or
  redirects: that is what a database moved to another zone looks like.
- Authentication ("REST API security and authentication"): the API-only user's headers
  `ApiIntegrationcode` (the tracking identifier), `UserName` and `Secret` on every call.
- Queries ("Making basic query calls to the REST API", "Paging"): `POST {Entity}/query` with a
  JSON body `{"filter": [{"op", "field", "value"}], "MaxRecords"}`; the top-level filter
  items are and-ed. An answer is `{items, pageDetails: {count, requestCount, prevPageUrl,
  nextPageUrl}}`; while `nextPageUrl` is set, GET it for the next page (only on the zone's
  own host here, as any other host would be a redirect in disguise).
- Tickets ("Tickets" entity): created with `companyID`, `title`, `status`, `priority`,
  `dueDateTime` and a `queueID` (or an assigned resource and role); the create answers
  `{itemId}`; the `ticketNumber` people quote ("T20261203.0042") is not the id, so a
  session's ticket field in that form is looked up by it; `GET Tickets/{id}` answers
  `{item}` (null when there is no such ticket).
  `status` is a picklist: its labels come from `Tickets/entityInformation/fields`.
- TicketNotes ("TicketNotes" entity, a child of Tickets): created at `Tickets/{id}/Notes`
  with `title`, `description` (plain text, at most 32,000 characters), `noteType` and
  `publish` (1 all Autotask users, 2 internal only); queried at `TicketNotes/query`.
- TimeEntries ("TimeEntries" entity): `ticketID`, `resourceID`, `roleID`, `dateWorked`,
  `startDateTime`, `endDateTime`, `hoursWorked` (more than 0, at most 24) and
  `summaryNotes`; all times in UTC. The resource is found by e-mail through `Resources`, its
  role (when the tenant sets none) through `ResourceServiceDeskRoles` (its default one).
- Limits and errors ("REST API supportability, query thresholds, and latency", "API thread
  limiting"): error bodies are `{"errors": ["..."]}`; 401 and 403 for the API user, 404, 429
  past the thresholds (Retry-After honoured when sent), 5xx. Autotask answers a request it
  refuses on business rules with 500 and its `errors` list: that is a rejection, not an
  outage, and is not retried; a 5xx without that list is an outage and is.
- `ThresholdInformation` is the cheap authenticated call of "test connection".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from ..webhooks.ssrf import Resolver, system_resolver
from .connector import NewTicket, PsaError, TicketInfo, TimeEntry
from .transport import retry_after, send

VERSION = "v1.0/"
TITLE_MAX = 255
NOTE_TITLE_MAX = 250
NOTE_MAX = 32_000
MAX_RECORDS = 500
MAX_PAGES = 20
PUBLISH = {"all": 1, "internal": 2}
TICKET_PAGE = "Autotask/AutotaskExtend/ExecuteCommand.aspx?Code=OpenTicketDetail&TicketID={id}"
_DIGITS = re.compile(r"^[0-9]{1,10}$")
# An Autotask ticket number as people see it: "T" and the creation date, a dot, a sequence.
TICKET_NUMBER = re.compile(r"^T[0-9]{8}\.[0-9]{1,6}$", re.IGNORECASE)


@dataclass(frozen=True)
class Credentials:
    api_user: str
    secret: str
    integration_code: str

    def headers(self) -> dict[str, str]:
        return {
            "ApiIntegrationcode": self.integration_code,
            "UserName": self.api_user,
            "Secret": self.secret,
            "accept": "application/json",
        }


@dataclass(frozen=True)
class Zone:
    url: str  # the REST root, ending in "/": calls go to {url}v1.0/...
    web_url: str  # the Autotask web app of the zone, for ticket links
    name: str = ""

    def as_doc(self) -> dict[str, str]:
        return {"url": self.url, "web_url": self.web_url, "name": self.name}

    @classmethod
    def from_doc(cls, doc: Any) -> Zone | None:
        if isinstance(doc, dict) and isinstance(doc.get("url"), str) and doc["url"]:
            return cls(_slash(doc["url"]), _slash(str(doc.get("web_url") or "")), str(doc.get("name") or ""))
        return None


@dataclass(frozen=True)
class Defaults:
    """The tenant's choices for what Autotask requires and Branchline cannot know."""

    company: int | None = None
    queue_id: int | None = None
    ticket_status: int = 1
    priority: int = 2
    due_hours: int = 24
    resource_id: int | None = None
    role_id: int | None = None
    note_type_id: int = 1
    note_title: str = "Branchline troubleshooting notes"


def _slash(url: str) -> str:
    return url if not url or url.endswith("/") else url + "/"


def error_reason(status: int, body: Any) -> str:
    """Autotask's `{"errors": [...]}` in one sentence."""
    if isinstance(body, dict):
        errors = [str(e) for e in body.get("errors") or [] if e]
        if errors:
            return "; ".join(errors)
        if body.get("message"):
            return str(body["message"])
    return f"HTTP {status}"


def business_errors(status: int, body: Any) -> bool:
    """A 500 that carries Autotask's errors list is its answer to a rule the request broke."""
    return status == 500 and isinstance(body, dict) and bool(body.get("errors"))


def hours_between(start_iso: str, end_iso: str) -> float:
    """`hoursWorked` of an entry: two decimals, more than 0 and at most 24 as Autotask requires."""
    start, end = _parse(start_iso), _parse(end_iso)
    hours = round((end - start).total_seconds() / 3600, 2)
    return min(24.0, max(0.01, hours))


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def same_origin(url: str, root: str) -> bool:
    a, b = urlsplit(url), urlsplit(root)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


def note_parts(text: str, limit: int = NOTE_MAX) -> list[str]:
    """`text` cut into pieces a TicketNote's description takes (at most `limit` characters),
    at line ends where there are any, so a long session's export is posted whole."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        cut = cut + 1 if cut > limit // 2 else limit
        parts.append(rest[:cut])
        rest = rest[cut:]
    parts.append(rest)
    return parts


def _same_text(text: object) -> str:
    """A note's text as compared with what was posted: Autotask may answer other line ends."""
    return str(text or "").replace("\r\n", "\n").strip()


@dataclass
class Autotask:
    creds: Credentials
    client: httpx.Client
    discovery_url: str  # the documented discovery host's REST root
    allow_private: bool
    resolver: Resolver = system_resolver
    defaults: Defaults = field(default_factory=Defaults)
    zone: Zone | None = None  # the zone kept from an earlier discovery
    on_zone: Callable[[Zone], None] | None = None  # keeps a newly discovered zone
    system: str = "autotask"
    _status_labels: dict[int, str] | None = None

    # --- zones ---------------------------------------------------------------------------------

    def discover(self) -> Zone:
        user = quote(self.creds.api_user, safe="@")
        url = f"{_slash(self.discovery_url)}{VERSION}zoneInformation?user={user}"
        response = self._send("GET", url, auth=False)
        body = _json(response)
        status = response.status_code
        if status == 429:
            raise self._error(response, "GET zoneInformation")
        if status >= 500 and not business_errors(status, body):
            raise PsaError(
                "unavailable",
                f"Autotask's zone discovery is unavailable: {error_reason(status, body)}.",
                status=status,
            )
        zone = Zone.from_doc(
            {"url": body.get("url"), "web_url": body.get("webUrl"), "name": body.get("zoneName")}
            if isinstance(body, dict) and status < 300
            else None
        )
        if zone is None:
            raise PsaError(
                "auth",
                f"Autotask knows no zone for the API user {self.creds.api_user!r}: "
                f"{error_reason(status, body)} ({status}). Check the API user name in Integrations: it is "
                "the API-only user's user name (Admin > Resources/Users, security level API User).",
                status=status,
            )
        changed = zone != self.zone
        self.zone = zone
        if changed and self.on_zone is not None:
            self.on_zone(zone)
        return zone

    def _zone(self) -> Zone:
        return self.zone or self.discover()

    # --- the HTTP exchange -----------------------------------------------------------------------

    def _send(self, method: str, url: str, *, body: Any = None, auth: bool = True) -> httpx.Response:
        headers = self.creds.headers() if auth else {"accept": "application/json"}
        return send(
            self.client,
            method,
            url,
            headers=headers,
            body=body,
            allow_private=self.allow_private,
            resolver=self.resolver,
            vendor="Autotask",
        )

    def _call(self, method: str, path: str, *, body: Any = None, url: str | None = None) -> Any:
        """One call in the tenant's zone; a kept zone that refuses the user or redirects is
        discovered again and the call made once more there."""
        zone = self._zone()
        target = url or zone.url + VERSION + path
        response = self._send(method, target, body=body)
        wrong_zone = response.status_code == 401 or 300 <= response.status_code < 400
        if wrong_zone and url is None:
            fresh = self.discover()
            if fresh.url != zone.url:
                response = self._send(method, fresh.url + VERSION + path, body=body)
        if response.status_code < 300:
            return _json(response)
        raise self._error(response, f"{method} {path.split('?')[0]}")

    def _error(self, response: httpx.Response, where: str) -> PsaError:
        status = response.status_code
        body = _json(response)
        reason = error_reason(status, body).rstrip(".")
        if status in (401, 403) or 300 <= status < 400:
            return PsaError(
                "auth",
                f"Autotask refused the API user: {reason} ({status} on {where}). Check the API user name, "
                "secret and integration code (tracking identifier) in Integrations, and that the user's "
                "security level may use tickets, ticket notes and time entries.",
                status=status,
            )
        if status == 429:
            return PsaError(
                "rate_limited",
                f"Autotask is throttling the API: {reason} (past its hourly threshold or thread limit).",
                status=status,
                retry_after=retry_after(response.headers.get("retry-after")),
            )
        if business_errors(status, body) or status in (400, 409, 422):
            return PsaError("rejected", f"Autotask rejected {where}: {reason}.", status=status)
        if status >= 500 or status == 408:
            return PsaError(
                "unavailable", f"Autotask is unavailable: {reason} ({status} on {where}).", status=status
            )
        if status == 404:
            return PsaError("not_found", f"Autotask has no such record: {reason} ({where}).", status=status)
        return PsaError("rejected", f"Autotask rejected {where}: {reason}.", status=status)

    def _query(self, entity: str, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        answer = self._call("POST", f"{entity}/query", body={"filter": filters, "MaxRecords": MAX_RECORDS})
        for _ in range(MAX_PAGES):
            items = answer.get("items") if isinstance(answer, dict) else None
            found += [r for r in items or [] if isinstance(r, dict)]
            next_url = ((answer or {}).get("pageDetails") or {}).get("nextPageUrl")
            if not next_url:
                break
            if not same_origin(next_url, self._zone().url):
                raise PsaError(
                    "rejected",
                    f"Autotask's next page of {entity} points away from the zone ({next_url}); stopped.",
                )
            answer = self._call("GET", f"{entity}/query", url=next_url)
        return found

    # --- the connector ---------------------------------------------------------------------------

    def check(self) -> dict[str, Any]:
        """Discover the zone afresh, then read `ThresholdInformation` with the API user."""
        zone = self.discover()
        info = self._call("GET", "ThresholdInformation")
        info = info if isinstance(info, dict) else {}
        return {
            "zone": zone.as_doc(),
            "requests_this_hour": info.get("currentTimeframeRequestCount"),
            "hourly_threshold": info.get("externalRequestThreshold"),
        }

    def ticket_url(self, ticket_id: int) -> str:
        return self._zone().web_url + TICKET_PAGE.format(id=int(ticket_id))

    def create_ticket(self, ticket: NewTicket) -> int:
        d = self.defaults
        company = _number(ticket.company, "companyID (the ticket's company)")
        queue = _number(ticket.board, "queueID") if ticket.board else d.queue_id
        if queue is None:
            raise PsaError(
                "rejected",
                "A new Autotask ticket needs a queue: set the queue id in Integrations (Admin > Service "
                "Desk > Queues), or give the session a ticket number to attach to.",
            )
        due = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=d.due_hours)
        body: dict[str, Any] = {
            "companyID": company,
            "title": ticket.summary[:TITLE_MAX],
            "status": _number(ticket.status, "status") if ticket.status else d.ticket_status,
            "priority": d.priority,
            "queueID": queue,
            "dueDateTime": _iso(due),
        }
        if ticket.description:
            body["description"] = ticket.description
        return int(self._call("POST", "Tickets", body=body)["itemId"])

    def find_ticket(self, marker: str) -> int | None:
        rows = self._query("Tickets", [{"op": "contains", "field": "title", "value": marker}])
        ids = sorted(int(r["id"]) for r in rows if marker in str(r.get("title", "")))
        return ids[0] if ids else None

    def get_ticket(self, ticket_id: int) -> TicketInfo:
        item = (self._call("GET", f"Tickets/{int(ticket_id)}") or {}).get("item")
        if not isinstance(item, dict):
            raise PsaError(
                "not_found",
                f"Autotask has no ticket with id {int(ticket_id)} (GET Tickets/{int(ticket_id)}).",
            )
        return TicketInfo(
            int(item["id"]),
            str(item.get("title") or ""),
            self._status_label(item.get("status")),
            self.ticket_url(ticket_id),
        )

    def is_ticket_number(self, text: str) -> bool:
        return TICKET_NUMBER.match(text.strip()) is not None

    def ticket_by_number(self, number: str) -> int | None:
        """The id of the ticket numbered "T20261203.0042". A bare number is never taken for
        Autotask's internal id: it is as likely another system's ticket number."""
        text = number.strip()
        if not TICKET_NUMBER.match(text):
            return None
        rows = self._query("Tickets", [{"op": "eq", "field": "ticketNumber", "value": text}])
        ids = sorted(int(r["id"]) for r in rows if str(r.get("ticketNumber", "")).upper() == text.upper())
        return ids[0] if ids else None

    def _status_label(self, value: Any) -> str | None:
        if value is None:
            return None
        if self._status_labels is None:
            answer = self._call("GET", "Tickets/entityInformation/fields")
            labels: dict[int, str] = {}
            for f in (answer or {}).get("fields") or []:
                if isinstance(f, dict) and f.get("name") == "status":
                    for v in f.get("picklistValues") or []:
                        if isinstance(v, dict) and str(v.get("value", "")).isdigit():
                            labels[int(v["value"])] = str(v.get("label") or v["value"])
            self._status_labels = labels
        return self._status_labels.get(int(value), str(value))

    def _notes(self, ticket_id: int) -> set[str]:
        rows = self._query("TicketNotes", [{"op": "eq", "field": "ticketID", "value": int(ticket_id)}])
        return {_same_text(r.get("description")) for r in rows}

    def has_note(self, ticket_id: int, text: str) -> bool:
        present = self._notes(ticket_id)
        return all(_same_text(part) in present for part in note_parts(text))

    def add_note(self, ticket_id: int, text: str, *, internal: bool) -> int:
        """Post the export as one note, or as numbered notes when it is longer than a note's
        description may be; parts already on the ticket (an attempt cut off midway) are not
        posted again. Answers the last note's id."""
        parts = note_parts(text)
        present = self._notes(ticket_id) if len(parts) > 1 else set()
        title = self.defaults.note_title
        note_id = 0
        for n, part in enumerate(parts, 1):
            if _same_text(part) in present:
                continue
            suffix = f" ({n}/{len(parts)})" if len(parts) > 1 else ""
            body = {
                "ticketID": int(ticket_id),
                "title": title[: NOTE_TITLE_MAX - len(suffix)] + suffix,
                "description": part,
                "noteType": self.defaults.note_type_id,
                "publish": PUBLISH["internal" if internal else "all"],
            }
            note_id = int(self._call("POST", f"Tickets/{int(ticket_id)}/Notes", body=body)["itemId"])
        return note_id

    def has_time_entry(self, ticket_id: int, marker: str) -> bool:
        rows = self._query(
            "TimeEntries",
            [
                {"op": "eq", "field": "ticketID", "value": int(ticket_id)},
                {"op": "contains", "field": "summaryNotes", "value": marker},
            ],
        )
        return bool(rows)

    def _resource(self, email: str | None) -> int:
        if email:
            rows = self._query("Resources", [{"op": "eq", "field": "email", "value": email}])
            active = [r for r in rows if r.get("isActive", True) and r.get("id") is not None]
            if active:
                return int(active[0]["id"])
        if self.defaults.resource_id is not None:
            return self.defaults.resource_id
        raise PsaError(
            "rejected",
            f"No active Autotask resource has the e-mail {email or '(none)'} and no default resource is "
            "set: give the engineer's Autotask resource that e-mail, or set a default resource id in "
            "Integrations.",
        )

    def _role(self, resource_id: int) -> int:
        if self.defaults.role_id is not None:
            return self.defaults.role_id
        rows = self._query(
            "ResourceServiceDeskRoles",
            [
                {"op": "eq", "field": "resourceID", "value": resource_id},
                {"op": "eq", "field": "isActive", "value": True},
            ],
        )
        chosen = [r for r in rows if r.get("isDefault")] or rows
        if chosen and chosen[0].get("roleID") is not None:
            return int(chosen[0]["roleID"])
        raise PsaError(
            "rejected",
            f"Autotask resource {resource_id} has no active service desk role, and time entries on tickets "
            "need one: give the resource a default service desk role, or set a role id in Integrations.",
        )

    def add_time_entry(self, entry: TimeEntry) -> int:
        resource = self._resource(entry.engineer_email)
        start = _parse(entry.start_iso)
        hours = hours_between(entry.start_iso, entry.end_iso)
        # A session left open over a day is entered as Autotask's longest entry (24 h), its end
        # moved to match: an entry whose times and hours disagree is refused.
        end = entry.end_iso if hours < 24 else _iso(start + timedelta(hours=24))
        body = {
            "ticketID": int(entry.ticket_id),
            "resourceID": resource,
            "roleID": self._role(resource),
            "dateWorked": _iso(start.replace(hour=0, minute=0, second=0)),
            "startDateTime": entry.start_iso,
            "endDateTime": end,
            "hoursWorked": hours,
            "summaryNotes": entry.notes,
        }
        return int(self._call("POST", "TimeEntries", body=body)["itemId"])


def _number(value: Any, name: str) -> int:
    text = str(value).strip() if value is not None else ""
    if not _DIGITS.match(text):
        raise PsaError(
            "rejected",
            f"Autotask needs a number for {name}, not {value!r}: use the id Autotask shows for it.",
        )
    return int(text)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
