"""ConnectWise PSA (Manage) over its REST API 3.0.

Every call goes to `{site_url}/v4_6_release/apis/3.0/{path}` with HTTP Basic
`{company_id}+{public_key}:{private_key}` and the `clientId` header, as ConnectWise's
developer documentation asks. Searches use the `conditions` query syntax and page with
`page`/`pageSize`, following the `Link` header's `rel="next"`. Errors come back as
`{code, message, errors: [{code, message, resource, field}]}`; they are turned into a
`PsaError` whose message names the fields ConnectWise objected to. 429 carries
`Retry-After`, which the worker honours.

The site URL is an admin's setting, so every request is checked and pinned like a webhook
delivery (`api/webhooks/ssrf.py`): no loopback or private address unless
`BRANCHLINE_WEBHOOK_ALLOW_PRIVATE=true`, no redirects.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from ..webhooks.ssrf import Resolver, system_resolver
from .connector import NewTicket, PsaError, TicketInfo, TimeEntry
from .transport import retry_after, send

API_PREFIX = "/v4_6_release/apis/3.0/"
TICKET_NUMBER = re.compile(r"#?([0-9]{1,9})")
TICKET_PAGE = "/v4_6_release/services/system_io/Service/fv_sr100_request.rdl?service_recid={id}"
PAGE_SIZE = 100
MAX_PAGES = 20
SUMMARY_MAX = 100  # ConnectWise's limit on a ticket summary
_NEXT = re.compile(r'<[^>]*[?&]page=(\d+)[^>]*>\s*;\s*rel="?next"?')


@dataclass(frozen=True)
class Credentials:
    site_url: str
    company_id: str
    public_key: str
    private_key: str
    client_id: str

    def authorization(self) -> str:
        raw = f"{self.company_id}+{self.public_key}:{self.private_key}".encode()
        return "Basic " + base64.b64encode(raw).decode()


def quoted(value: str) -> str:
    """A string literal of the conditions syntax (double quotes, backslash escapes)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def error_reason(status: int, body: Any) -> str:
    """ConnectWise's error body in one sentence: its message and each field's complaint."""
    if not isinstance(body, dict):
        return f"HTTP {status}"
    parts = [str(body.get("message") or body.get("code") or f"HTTP {status}")]
    for err in body.get("errors") or []:
        if isinstance(err, dict):
            field = err.get("field") or err.get("resource") or ""
            parts.append(f"{field}: {err.get('message') or err.get('code')}".strip(": "))
    return "; ".join(parts)


def next_page(link: str | None) -> int | None:
    if not link:
        return None
    match = _NEXT.search(link)
    return int(match.group(1)) if match else None


class ConnectWise:
    system = "connectwise"

    def __init__(
        self,
        creds: Credentials,
        client: httpx.Client,
        *,
        allow_private: bool,
        resolver: Resolver = system_resolver,
        member: str | None = None,
        work_type: str | None = None,
    ) -> None:
        self.creds = creds
        self.client = client
        self.allow_private = allow_private
        self.resolver = resolver
        self.default_member = member
        self.work_type = work_type

    # --- the HTTP exchange -------------------------------------------------------------------

    def _call(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None
    ) -> httpx.Response:
        url = self.creds.site_url.rstrip("/") + API_PREFIX + path
        if params:
            url += "?" + urlencode(params)
        headers = {
            "authorization": self.creds.authorization(),
            "clientId": self.creds.client_id,
            "accept": "application/json",
        }
        response = send(
            self.client,
            method,
            url,
            headers=headers,
            body=body,
            allow_private=self.allow_private,
            resolver=self.resolver,
            vendor="ConnectWise",
        )
        if response.status_code < 300:
            return response
        raise self._error(response, method, path)

    def _error(self, response: httpx.Response, method: str, path: str) -> PsaError:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        reason = error_reason(status, body)
        where = f"{method} {path.split('?')[0]}"
        if status in (401, 403):
            return PsaError(
                "auth",
                f"ConnectWise refused the keys: {reason} ({status} on {where}). Check the site URL, "
                "company id, public and private key and client id in Integrations, and that the API "
                "member's security role may use service tickets and time entries.",
                status=status,
            )
        if status == 429:
            return PsaError(
                "rate_limited",
                f"ConnectWise is rate limiting the API keys: {reason}.",
                status=status,
                retry_after=retry_after(response.headers.get("retry-after")),
            )
        if status >= 500 or status == 408:
            return PsaError(
                "unavailable", f"ConnectWise is unavailable: {reason} ({status} on {where}).", status=status
            )
        if status == 404:
            return PsaError(
                "not_found", f"ConnectWise has no such record: {reason} ({where}).", status=status
            )
        return PsaError("rejected", f"ConnectWise rejected {where}: {reason}.", status=status)

    def _search(self, path: str, conditions: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        page: int | None = 1
        for _ in range(MAX_PAGES):
            if page is None:
                break
            response = self._call(
                "GET", path, params={"conditions": conditions, "page": page, "pageSize": PAGE_SIZE}
            )
            rows = response.json()
            found += [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []
            page = next_page(response.headers.get("link"))
        return found

    # --- the connector --------------------------------------------------------------------------

    def check(self) -> dict[str, Any]:
        """A cheap authenticated call (`system/info`): the keys work when it answers."""
        info = self._call("GET", "system/info").json()
        version = info.get("version") if isinstance(info, dict) else None
        return {"site_url": self.creds.site_url, "version": version}

    def ticket_url(self, ticket_id: int) -> str:
        return self.creds.site_url.rstrip("/") + TICKET_PAGE.format(id=ticket_id)

    def create_ticket(self, ticket: NewTicket) -> int:
        body: dict[str, Any] = {
            "summary": ticket.summary[:SUMMARY_MAX],
            "company": {"identifier": ticket.company},
        }
        if ticket.board:
            body["board"] = {"name": ticket.board}
        if ticket.status:
            body["status"] = {"name": ticket.status}
        if ticket.description:
            body["initialDescription"] = ticket.description
        return int(self._call("POST", "service/tickets", body=body).json()["id"])

    def find_ticket(self, marker: str) -> int | None:
        rows = self._search("service/tickets", f"summary contains {quoted(marker)}")
        ids = sorted(int(r["id"]) for r in rows if marker in str(r.get("summary", "")))
        return ids[0] if ids else None

    def get_ticket(self, ticket_id: int) -> TicketInfo:
        row = self._call("GET", f"service/tickets/{int(ticket_id)}").json()
        status = row.get("status") if isinstance(row.get("status"), dict) else {}
        return TicketInfo(
            int(row["id"]), str(row.get("summary", "")), status.get("name"), self.ticket_url(ticket_id)
        )

    def is_ticket_number(self, text: str) -> bool:
        return TICKET_NUMBER.fullmatch(text.strip()) is not None

    def ticket_by_number(self, number: str) -> int | None:
        """ConnectWise's ticket number is its id ("#48213" or "48213"): read, not looked up.
        ASCII digits only: `str.isdigit` also takes "²", which `int` refuses."""
        found = TICKET_NUMBER.fullmatch(number.strip())
        return int(found.group(1)) if found else None

    def has_note(self, ticket_id: int, text: str) -> bool:
        page: int | None = 1
        for _ in range(MAX_PAGES):
            if page is None:
                break
            response = self._call(
                "GET", f"service/tickets/{int(ticket_id)}/notes", params={"page": page, "pageSize": PAGE_SIZE}
            )
            if any(isinstance(n, dict) and n.get("text") == text for n in response.json()):
                return True
            page = next_page(response.headers.get("link"))
        return False

    def add_note(self, ticket_id: int, text: str, *, internal: bool) -> int:
        body = {
            "text": text,
            "detailDescriptionFlag": not internal,
            "internalAnalysisFlag": internal,
            "resolutionFlag": False,
        }
        return int(self._call("POST", f"service/tickets/{int(ticket_id)}/notes", body=body).json()["id"])

    def has_time_entry(self, ticket_id: int, marker: str) -> bool:
        conditions = (
            f'chargeToType="ServiceTicket" and chargeToId={int(ticket_id)} '
            f"and notes contains {quoted(marker)}"
        )
        return bool(self._search("time/entries", conditions))

    def _member(self, email: str | None) -> str | None:
        if email:
            rows = self._search("system/members", f"primaryEmail={quoted(email)}")
            if rows and rows[0].get("identifier"):
                return str(rows[0]["identifier"])
        return self.default_member

    def add_time_entry(self, entry: TimeEntry) -> int:
        body: dict[str, Any] = {
            "chargeToId": int(entry.ticket_id),
            "chargeToType": "ServiceTicket",
            "timeStart": entry.start_iso,
            "timeEnd": entry.end_iso,
            "notes": entry.notes,
        }
        member = self._member(entry.engineer_email)
        if member:
            body["member"] = {"identifier": member}
        if self.work_type:
            body["workType"] = {"name": self.work_type}
        return int(self._call("POST", "time/entries", body=body).json()["id"])
