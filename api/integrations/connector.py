"""What every PSA connector offers, so the outbox drives ConnectWise, Autotask or the next
one alike. A connector speaks to one tenant's PSA with that tenant's configuration; it
raises `PsaError` for everything the PSA or the network did wrong, classified so the worker
knows whether to retry (`retryable`) and after how long at least (`retry_after`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

ErrorKind = Literal["auth", "rejected", "not_found", "rate_limited", "unavailable", "network", "refused"]
RETRYABLE: frozenset[str] = frozenset({"rate_limited", "unavailable", "network"})


class PsaError(Exception):
    """The PSA refused or failed a call; `str()` says what and how to fix it."""

    def __init__(
        self, kind: ErrorKind, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE


@dataclass(frozen=True)
class NewTicket:
    summary: str
    company: str  # the PSA's company identifier
    board: str | None
    status: str | None
    description: str | None = None


@dataclass(frozen=True)
class TicketInfo:
    ticket_id: int
    summary: str
    status: str | None
    url: str


@dataclass(frozen=True)
class TimeEntry:
    ticket_id: int
    start_iso: str  # UTC, whole seconds, ending in Z
    end_iso: str
    notes: str
    engineer_email: str | None  # mapped to the PSA's member; the API member when unknown


class Connector(Protocol):
    system: str

    def check(self) -> dict[str, Any]:
        """A cheap authenticated call; what it learnt (an Autotask zone, a version). Raises PsaError."""

    def create_ticket(self, ticket: NewTicket) -> int: ...

    def find_ticket(self, marker: str) -> int | None:
        """The ticket whose summary carries `marker` (an earlier push that was not recorded)."""

    def get_ticket(self, ticket_id: int) -> TicketInfo: ...

    def is_ticket_number(self, text: str) -> bool:
        """Whether `text` has the shape of this PSA's ticket numbers (nothing is asked)."""

    def ticket_by_number(self, number: str) -> int | None:
        """The id of the ticket a person knows by `number` (Autotask's "T20261203.0042"), when
        the PSA numbers tickets apart from their ids; None when it has no such ticket."""

    def has_note(self, ticket_id: int, text: str) -> bool: ...

    def add_note(self, ticket_id: int, text: str, *, internal: bool) -> int: ...

    def has_time_entry(self, ticket_id: int, marker: str) -> bool: ...

    def add_time_entry(self, entry: TimeEntry) -> int: ...

    def ticket_url(self, ticket_id: int) -> str: ...
