"""What every RMM connector offers, so the run outbox drives NinjaOne, Datto RMM or the next
one alike: find a client's devices, submit a job running a script on one device, read the
job's state and its output.

RMMs run scripts from their own library, not text sent with the request (NinjaOne runs a
library script by id, Datto RMM a component by uid). Branchline therefore asks the admin to
add one small runner script (NinjaOne) or component (Datto RMM) once, documented in the
README, which takes the rendered script as a Base64 parameter and runs it with
`powershell -EncodedCommand`. The connector passes the text; the RMM runs its runner.

A connector raises `RmmError` for everything the RMM or the network did wrong, classified:
`retryable` errors pass by themselves (an outage, 429, a refused connection); `in_doubt`
means a request that may have started a job got no answer (a read timeout while
submitting), so the run must not be submitted again blindly.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Literal, Protocol

ErrorKind = Literal[
    "auth", "rejected", "not_found", "rate_limited", "unavailable", "network", "refused", "in_doubt"
]
RETRYABLE: frozenset[str] = frozenset({"rate_limited", "unavailable", "network"})


class RmmError(Exception):
    """The RMM refused or failed a call; `str()` says what and how to fix it."""

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
class Device:
    id: str
    name: str
    organization: str | None
    online: bool | None


@dataclass(frozen=True)
class JobRequest:
    marker: str  # "[Branchline run {run_id}]": names the job, so a lost answer can be looked up
    script_name: str
    script_text: str
    timeout_seconds: int


@dataclass(frozen=True)
class JobState:
    done: bool
    succeeded: bool | None  # None while running
    exit_code: int | None


class RmmConnector(Protocol):
    system: str

    def check(self) -> dict[str, Any]:
        """A cheap authenticated call; what it learnt. Raises RmmError."""

    def devices(self, organization: str | None, query: str | None) -> list[Device]:
        """Devices of a client (the RMM's organization or site), whose name contains `query`."""

    def submit(self, device_id: str, job: JobRequest) -> str:
        """Start the job; the reference its state and output are read with."""

    def find(self, device_id: str, marker: str) -> str | None:
        """The reference of a job an unrecorded submit started, found by its marker; None when
        the RMM has none. Raises RmmError("in_doubt") when the RMM offers no such look-up."""

    def state(self, device_id: str, ref: str) -> JobState: ...

    def output(self, device_id: str, ref: str, limit: int) -> bytes:
        """The job's output, at most `limit` + 1 bytes (so a caller sees it was longer)."""


def encoded_command(script_text: str) -> str:
    """The script as `powershell -EncodedCommand` takes it: Base64 of its UTF-16LE bytes.
    Nothing in the text is interpreted on the way; the runner decodes exactly this."""
    return base64.b64encode(script_text.encode("utf-16-le")).decode("ascii")
