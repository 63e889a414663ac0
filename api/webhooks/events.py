"""Which webhook events a document of the changes feeds stands for (pure).

Every event comes from a document the server stores, never from the request that wrote it,
so a session recorded offline fires when its documents reach the server by replication,
the same as one run through the API:

- `session:{sid}` (a header) -> `session.started`
- `session:{sid}:ev:{ulid}` of type `completed`, `abandoned`, `attachment_added`
  -> `session.completed`, `session.abandoned`, `attachment.added`
- `treever:{slug}:{n}` (written only by the server, on publish or rollback) -> `tree.published`
- `treeflag:{slug}:{kind}` in the `freshness` database (the nightly freshness scan raised a
  flag) -> `tree.needs_review`, keyed by the flag's id and `raised_at`: a flag updated while
  it holds keeps its key, so the event fires once per flag, not every night

Each event has a `key` derived from its document alone (a ULID, so keys sort by time, and a
suffix naming the event): every instance following the feed, at any time, computes the same
key, so the outbox document named after it is created once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..core.timeutil import iso
from ..sessions.ids import encode_ulid

EVENT_TYPES = (
    "session.started",
    "session.completed",
    "session.abandoned",
    "tree.published",
    "attachment.added",
    "tree.needs_review",
)
TEST_EVENT = "webhook.test"

_SESSION_EVENT_TYPES = {
    "completed": "session.completed",
    "abandoned": "session.abandoned",
    "attachment_added": "attachment.added",
}
_SUFFIX = {
    "session.started": "started",
    "session.completed": "completed",
    "session.abandoned": "abandoned",
    "tree.published": "published",
    "attachment.added": "attachment",
    "tree.needs_review": "review",
    TEST_EVENT: "test",
}
_SAFE_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_HEADER_FIELDS = ("tree_id", "tree_version", "title", "ticket", "client_id", "owner_id")
_EVENT_FIELDS = {
    "session.completed": ("outcome", "summary"),
    "session.abandoned": ("reason",),
    "attachment.added": ("node_id", "attachment_id", "name", "content_type", "size", "sha256", "caption"),
}


@dataclass(frozen=True)
class Event:
    type: str
    key: str  # `{ULID}-{suffix}`: unique per event, the same on every instance
    timestamp: str  # ISO 8601, when it happened
    data: dict[str, Any]


def stable_ulid(ms: int, seed: str) -> str:
    """A ULID for `ms` whose random part comes from `seed`: the same document, the same ULID."""
    rand = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:10], "big")
    return encode_ulid(max(0, min(ms, 2**48 - 1)), rand)


def event_key(ulid: str, event_type: str) -> str:
    return f"{ulid}-{_SUFFIX[event_type]}"


def _ms(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _iso_ms(ms: int) -> str:
    return iso(ms).replace("Z", f".{ms % 1000:03d}Z")


def header_fields(header: dict[str, Any] | None) -> dict[str, Any]:
    if not header:
        return {}
    return {f: header.get(f) for f in _HEADER_FIELDS if f in header}


def _ulid_of(text: str, ms: int, seed: str) -> str:
    return text if _SAFE_ULID.match(text) else stable_ulid(ms, seed)


def from_session_doc(doc: dict[str, Any]) -> Event | None:
    """The event a `sessions` document stands for, without header fields for events (the
    caller adds those: the header may arrive later than its events)."""
    docid = str(doc.get("_id", ""))
    if doc.get("_deleted") or not docid.startswith("session:"):
        return None
    rest = docid[len("session:") :]
    if ":ev:" not in rest:
        if ":" in rest or doc.get("type") != "session":
            return None
        created = _ms(doc.get("created_at"))
        header = {
            "session_id": rest,
            **header_fields(doc),
            "status": doc.get("status"),
            "created_at": _iso_ms(created),
        }
        return Event(
            "session.started",
            event_key(_ulid_of(rest, created, docid), "session.started"),
            _iso_ms(created),
            header,
        )
    sid, _, evid = rest.partition(":ev:")
    event_type = _SESSION_EVENT_TYPES.get(str(doc.get("type")))
    if event_type is None:
        return None
    ts = _ms(doc.get("ts"))
    data: dict[str, Any] = {"session_id": sid, "event_id": docid, "user_id": doc.get("user_id")}
    data.update({f: doc.get(f) for f in _EVENT_FIELDS[event_type] if f in doc})
    return Event(event_type, event_key(_ulid_of(evid, ts, docid), event_type), _iso_ms(ts), data)


def from_tree_doc(doc: dict[str, Any]) -> Event | None:
    docid = str(doc.get("_id", ""))
    if doc.get("_deleted") or not docid.startswith("treever:") or doc.get("type") != "tree_version":
        return None
    published = str(doc.get("published_at") or "")
    try:
        ms = int(datetime.fromisoformat(published.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        ms = 0
    tree = doc["tree"] if isinstance(doc.get("tree"), dict) else {}
    data = {
        "tree_id": doc.get("tree_id"),
        "version": doc.get("version"),
        "title": tree.get("title"),
        "published_at": published or None,
        "published_by": doc.get("published_by"),
        "change_note": doc.get("change_note") or "",
    }
    return Event("tree.published", event_key(stable_ulid(ms, docid), "tree.published"), _iso_ms(ms), data)


def from_flag_doc(doc: dict[str, Any]) -> Event | None:
    """`tree.needs_review` for a freshness flag (`api/freshness/repository.py`)."""
    docid = str(doc.get("_id", ""))
    if doc.get("_deleted") or not docid.startswith("treeflag:") or doc.get("type") != "tree_flag":
        return None
    raised = str(doc.get("raised_at") or "")
    try:
        ms = int(datetime.fromisoformat(raised.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        ms = 0
    data = {f: doc.get(f) for f in ("tree_id", "title", "kind", "reason", "due", "figures")}
    data["raised_at"] = raised or None
    key = event_key(stable_ulid(ms, f"{docid}@{raised}"), "tree.needs_review")
    return Event("tree.needs_review", key, _iso_ms(ms), data)


def is_tree_version_id(docid: str) -> bool:
    return docid.startswith("treever:")


def is_flag_id(docid: str) -> bool:
    return docid.startswith("treeflag:")
